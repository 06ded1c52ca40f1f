import Testing
import Cron

/// Every rejected expression: the exact message (part of the contract: users
/// read it in validation output) and the offset the caret points at.
struct CronParseErrorTests {
    static let expected: [(text: String, message: String, offset: Int)] = [
        ("61 2 * * *", "minute value 61 is out of range 0-59", 0),
        ("30 24 * * *", "hour value 24 is out of range 0-23", 3),
        ("0 0 0 * *", "day-of-month value 0 is out of range 1-31", 4),
        ("0 0 1 13 *", "month value 13 is out of range 1-12", 6),
        ("0 0 * * 8", "day-of-week value 8 is out of range 0-7", 8),
        ("0 0 1,32 * *", "day-of-month value 32 is out of range 1-31", 6),
        ("1-99999999999999999999 * * * *", "minute value 99999999999999999999 is out of range 0-59", 2),
        ("  61 2 * * *", "minute value 61 is out of range 0-59", 2),
        ("0\t25 * *  *", "hour value 25 is out of range 0-23", 2),
        ("", "empty cron expression; expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily", 0),
        ("   ", "empty cron expression; expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily", 0),
        ("30 2 * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4; missing: day-of-week", 0),
        (" 30 2", "expected 5 fields (minute hour day-of-month month day-of-week), found 2; missing: day-of-month, month, day-of-week", 1),
        ("0 30 2 * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6 (seconds and year fields are not supported)", 11),
        ("0 5-2 * * *", "hour range 5-2 is reversed (5 > 2); write the lower value first", 2),
        ("0 0 * * fri-sun", "day-of-week range fri-sun is reversed (5 > 0); Sunday is 0 at the start of a range; use 7 at the end (e.g. fri-7)", 8),
        ("0 0 * dec-jan *", "month range dec-jan is reversed (12 > 1); write the lower value first", 6),
        ("*/0 * * * *", "minute step must be at least 1, not 0", 2),
        ("0 0 1-10/0 * *", "day-of-month step must be at least 1, not 0", 9),
        ("*/5/2 * * * *", "invalid step \"5/2\" in the minute field; a step is a whole number such as the 15 in */15", 2),
        ("*/x * * * *", "invalid step \"x\" in the minute field; a step is a whole number such as the 15 in */15", 2),
        ("5/ * * * *", "missing step after \"/\" in the minute field; write e.g. */15", 1),
        ("/5 * * * *", "missing value before \"/\" in the minute field; write e.g. */15 or 0-30/15", 0),
        ("*/99999999999999999999 * * * *", "minute step 99999999999999999999 is too large", 2),
        ("5- * * * *", "incomplete range \"5-\" in the minute field; a range has two ends, e.g. 1-5", 0),
        ("0 0 * * 1,-3", "incomplete range \"-3\" in the day-of-week field; a range has two ends, e.g. 1-5", 10),
        ("*-5 * * * *", "\"*\" cannot be part of a range in the minute field; use * alone, or a range such as 1-5", 0),
        ("0 0 * jen *", "unknown month name \"jen\"; expected a number 1-12 or a name jan-dec", 6),
        ("0 0 * * monday", "unknown day-of-week name \"monday\"; use the three-letter name \"mon\"", 8),
        ("0 0 * * mon-fry", "unknown day-of-week name \"fry\"; expected a number 0-7 (0 and 7 are Sunday) or a name sun-sat", 12),
        ("0 x * * *", "the hour field takes numbers, not names: \"x\"; expected a number 0-23", 2),
        ("0 0 * * 1,,2", "empty entry in the day-of-week field; remove the extra comma", 10),
        ("0 0 1, * *", "empty entry in the day-of-month field; remove the extra comma", 6),
        ("0 0 * * 1#2", "\"1#2\" in the day-of-week field is Quartz syntax (L, W, #, ?), which cron does not support; expected a number 0-7 (0 and 7 are Sunday) or a name sun-sat", 8),
        ("0 0 L * *", "\"L\" in the day-of-month field is Quartz syntax (L, W, #, ?), which cron does not support; expected a number 1-31", 4),
        ("0 0 15W * *", "\"15W\" in the day-of-month field is Quartz syntax (L, W, #, ?), which cron does not support; expected a number 1-31", 4),
        ("0 0 ? * 1", "\"?\" in the day-of-month field is Quartz syntax (L, W, #, ?), which cron does not support; expected a number 1-31", 4),
        ("0 0 * * ５", "invalid day-of-week value \"５\"; expected a number 0-7 (0 and 7 are Sunday) or a name sun-sat, a range (1-5), a list (1,15), a step (*/15) or *", 8),
        ("0 0 1.5 * *", "invalid day-of-month value \"1.5\"; expected a number 1-31, a range (1-5), a list (1,15), a step (*/15) or *", 4),
        ("@reboot", "@reboot has no fire times (it means \"when cron starts\"); use a time-based schedule such as @daily or \"0 3 * * *\"", 0),
        (" @REBOOT", "@reboot has no fire times (it means \"when cron starts\"); use a time-based schedule such as @daily or \"0 3 * * *\"", 1),
        ("@fortnightly", "unknown macro \"@fortnightly\"; use @hourly, @daily (@midnight), @weekly, @monthly or @yearly (@annually)", 0),
        ("@daily 0 3", "@daily stands alone; remove \"0 3\"", 7),
    ]

    @Test(arguments: 0..<expected.count)
    func rejectsWithMessageAndOffset(_ index: Int) throws {
        let (text, message, offset) = Self.expected[index]
        let error = try #require(parseError(text), "\"\(text)\" should be rejected")
        #expect(error.message == message, "for \"\(text)\"")
        #expect(error.offset == offset, "for \"\(text)\"")
        #expect(error.description == message)
    }

    @Test func offsetsCountCharactersNotBytes() throws {
        // A multi-byte character before the bad token moves the caret by one.
        let error = try #require(parseError("0 é 1 * *"))
        #expect(error.offset == 2)
        let later = try #require(parseError("0 0 * * ５ 1"))
        #expect(later.offset == 10)
    }

    @Test func throwsTypedCronError() {
        #expect(throws: CronError(message: "minute value 60 is out of range 0-59", offset: 0)) {
            try CronExpression("60 * * * *")
        }
    }
}
