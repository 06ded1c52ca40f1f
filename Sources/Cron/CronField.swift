/// One of the five fields of a cron expression, as the set of values it allows.
struct CronField: Sendable, Hashable {
    /// Which field, with its range and names.
    enum Kind: Int, Sendable, CaseIterable {
        case minute, hour, dayOfMonth, month, dayOfWeek

        var name: String {
            switch self {
            case .minute: return "minute"
            case .hour: return "hour"
            case .dayOfMonth: return "day-of-month"
            case .month: return "month"
            case .dayOfWeek: return "day-of-week"
            }
        }

        /// The values a number may take (day-of-week 7 is Sunday again).
        var range: ClosedRange<Int> {
            switch self {
            case .minute: return 0...59
            case .hour: return 0...23
            case .dayOfMonth: return 1...31
            case .month: return 1...12
            case .dayOfWeek: return 0...7
            }
        }

        /// Where `*` and `a/n` end: Saturday for day-of-week, so `1/2` is
        /// Monday, Wednesday, Friday (as croniter and cronie read it).
        var openEnd: Int { self == .dayOfWeek ? 6 : range.upperBound }

        var names: [String] {
            switch self {
            case .month: return ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: return []
            }
        }

        /// What the field accepts, for error messages.
        var accepted: String {
            switch self {
            case .month: return "a number 1-12 or a name jan-dec"
            case .dayOfWeek: return "a number 0-7 (0 and 7 are Sunday) or a name sun-sat"
            default: return "a number \(range.lowerBound)-\(range.upperBound)"
            }
        }
    }

    let kind: Kind
    /// Bit v is set when value v is allowed (day-of-week 7 is folded into 0).
    let bits: UInt64
    /// Whether the field text starts with `*`. Vixie cron decides the
    /// day-of-month / day-of-week OR rule and ISC cron its daylight saving
    /// behaviour on this, not on the resulting set (`*/2` counts as `*`).
    let startsWithStar: Bool

    func contains(_ value: Int) -> Bool { value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0 }

    /// The smallest allowed value >= `value`, if any.
    func next(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let remaining = bits & ~((1 << UInt64(max(value, 0))) &- 1)
        return remaining == 0 ? nil : remaining.trailingZeroBitCount
    }

    var smallest: Int? { bits == 0 ? nil : bits.trailingZeroBitCount }

    // MARK: Parsing

    /// Parses one field.
    ///
    /// - Parameters:
    ///   - text: The field's characters.
    ///   - kind: Which field it is.
    ///   - offset: Where `text` starts in the whole expression, for errors.
    static func parse(_ text: ArraySlice<Character>, kind: Kind, offset: Int) throws(CronError) -> CronField {
        var bits: UInt64 = 0
        var itemStart = text.startIndex
        while true {
            let itemEnd = text[itemStart...].firstIndex(of: ",") ?? text.endIndex
            bits |= try parseItem(text[itemStart..<itemEnd], kind: kind, offset: offset + itemStart - text.startIndex)
            guard itemEnd < text.endIndex else { break }
            itemStart = itemEnd + 1
        }
        if kind == .dayOfWeek, bits & (1 << 7) != 0 { bits = bits & ~(1 << 7) | 1 }
        return CronField(kind: kind, bits: bits, startsWithStar: text.first == "*")
    }

    /// One list entry: `*`, `v`, `a-b`, each optionally with `/step`.
    static func parseItem(_ item: ArraySlice<Character>, kind: Kind, offset: Int) throws(CronError) -> UInt64 {
        func position(_ index: Int) -> Int { offset + index - item.startIndex }
        guard !item.isEmpty else {
            throw CronError(message: "empty entry in the \(kind.name) field; remove the extra comma", offset: offset)
        }
        var rangeEnd = item.endIndex
        var step = 1
        if let slash = item.firstIndex(of: "/") {
            rangeEnd = slash
            let stepText = item[(slash + 1)...]
            guard !stepText.isEmpty else {
                throw CronError(message: "missing step after \"/\" in the \(kind.name) field; write e.g. */15", offset: position(slash))
            }
            guard stepText.allSatisfy(\.isASCIIDigit) else {
                throw CronError(
                    message: "invalid step \"\(String(stepText))\" in the \(kind.name) field; a step is a whole number such as the 15 in */15",
                    offset: position(slash + 1))
            }
            guard let value = Int(String(stepText)) else {
                throw CronError(message: "\(kind.name) step \(String(stepText)) is too large", offset: position(slash + 1))
            }
            guard value > 0 else {
                throw CronError(message: "\(kind.name) step must be at least 1, not 0", offset: position(slash + 1))
            }
            step = value
        }
        let rangeText = item[..<rangeEnd]
        guard !rangeText.isEmpty else {
            throw CronError(message: "missing value before \"/\" in the \(kind.name) field; write e.g. */15 or 0-30/15", offset: offset)
        }
        let low: Int
        let high: Int
        if rangeText.count == 1 && rangeText.first == "*" {
            low = kind.range.lowerBound
            high = kind.openEnd
        } else if let dash = rangeText.firstIndex(of: "-") {
            let lowText = rangeText[..<dash]
            let highText = rangeText[(dash + 1)...]
            guard !lowText.isEmpty, !highText.isEmpty else {
                throw CronError(
                    message: "incomplete range \"\(String(rangeText))\" in the \(kind.name) field; a range has two ends, e.g. 1-5",
                    offset: offset)
            }
            low = try value(lowText, kind: kind, offset: offset)
            high = try value(highText, kind: kind, offset: position(dash + 1))
            guard low <= high else {
                var hint = "write the lower value first"
                if kind == .dayOfWeek && high == 0 { hint = "Sunday is 0 at the start of a range; use 7 at the end (e.g. \(String(lowText))-7)" }
                throw CronError(message: "\(kind.name) range \(String(rangeText)) is reversed (\(low) > \(high)); \(hint)", offset: offset)
            }
        } else {
            low = try value(rangeText, kind: kind, offset: offset)
            // `a/n` runs from a to the end of the field's range.
            high = rangeEnd < item.endIndex ? max(low, kind.openEnd) : low
        }
        var bits: UInt64 = 0
        for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        return bits
    }

    /// A number or (month, day-of-week) a three-letter name, case-insensitive.
    static func value(_ text: ArraySlice<Character>, kind: Kind, offset: Int) throws(CronError) -> Int {
        let string = String(text)
        if string == "*" {
            throw CronError(message: "\"*\" cannot be part of a range in the \(kind.name) field; use * alone, or a range such as 1-5", offset: offset)
        }
        if text.allSatisfy(\.isASCIIDigit) {
            guard let number = Int(string), kind.range.contains(number) else {
                throw CronError(
                    message: "\(kind.name) value \(string) is out of range \(kind.range.lowerBound)-\(kind.range.upperBound)",
                    offset: offset)
            }
            return number
        }
        let lowered = string.lowercased()
        if let index = kind.names.firstIndex(of: lowered) {
            return kind == .month ? index + 1 : index
        }
        let upper = string.uppercased()
        let quartzDay = (upper.hasSuffix("L") || upper.hasSuffix("W")) && upper.dropLast().allSatisfy(\.isASCIIDigit) || upper == "LW"
        if string.contains("#") || string.contains("?") || (kind == .dayOfMonth || kind == .dayOfWeek) && quartzDay {
            throw CronError(
                message: "\"\(string)\" in the \(kind.name) field is Quartz syntax (L, W, #, ?), which cron does not support; expected \(kind.accepted)",
                offset: offset)
        }
        if text.allSatisfy(\.isASCIILetter) {
            guard !kind.names.isEmpty else {
                throw CronError(message: "the \(kind.name) field takes numbers, not names: \"\(string)\"; expected \(kind.accepted)", offset: offset)
            }
            let abbreviation = String(lowered.prefix(3))
            let hint = kind.names.contains(abbreviation) && lowered.count > 3
                ? "use the three-letter name \"\(abbreviation)\""
                : "expected \(kind.accepted)"
            throw CronError(message: "unknown \(kind.name) name \"\(string)\"; \(hint)", offset: offset)
        }
        throw CronError(
            message: "invalid \(kind.name) value \"\(string)\"; expected \(kind.accepted), a range (1-5), a list (1,15), a step (*/15) or *",
            offset: offset)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetter: Bool { isASCII && isLetter }
}
