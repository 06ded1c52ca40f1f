/// Parsing of durations (`1s`, `500ms`, `2m30s`, `1h`) and byte sizes
/// (`10MiB`, `5MB`, `1024`), and checked conversions: nothing here traps on
/// a huge, infinite or NaN number.
public enum Units {
    /// Seconds for a duration; a bare number means seconds. Nil for text
    /// that is not a duration, a negative value, NaN or infinity.
    public static func seconds(_ text: String) -> Double? {
        guard let value = unboundedSeconds(text), value.isFinite else { return nil }
        return value
    }

    /// Seconds as written, possibly infinite (`1e400s`), for range messages.
    static func unboundedSeconds(_ text: String) -> Double? {
        let text = text.trimmingWhitespace()
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-" }),
           let value = Double(text) {
            return value >= 0 ? value : nil
        }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawAny = false
        func flush() -> Bool {
            guard let value = Double(number) else { return false }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3600
            case "d": factor = 86400
            default: return false
            }
            total += value * factor
            number = ""
            unit = ""
            sawAny = true
            return true
        }
        for c in text.unicodeScalars {
            if ("0"..."9").contains(c) || c == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.unicodeScalars.append(c)
            } else if ("a"..."z").contains(c) {
                guard !number.isEmpty else { return nil }
                unit.unicodeScalars.append(c)
            } else {
                return nil
            }
        }
        if !number.isEmpty || !unit.isEmpty { guard flush() else { return nil } }
        return sawAny && !total.isNaN ? total : nil
    }

    /// Bytes for a size; a bare number means bytes. Nil for text that is
    /// not a size or a size beyond `Int64.max`.
    public static func bytes(_ text: String) -> Int64? {
        guard let value = unboundedBytes(text) else { return nil }
        return checkedInt64(value.rounded(.down))
    }

    /// The size as written, possibly beyond any integer (`9999999999TiB`).
    public static func unboundedBytes(_ text: String) -> Double? {
        let text = text.trimmingWhitespace()
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if let value = Int64(text) { return value >= 0 ? Double(value) : nil }
        let digits = text.unicodeScalars.prefix { ("0"..."9").contains($0) || $0 == "." || $0 == "e" || $0 == "E" }
        guard !digits.isEmpty, digits.first != "e", digits.first != "E" else { return nil }
        guard let value = Double(String(String.UnicodeScalarView(digits))), value >= 0, !value.isNaN else { return nil }
        let unit = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(digits.count))).trimmingWhitespace().lowercased()
        let factors: [String: Double] = [
            "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1_000_000, "mb": 1_000_000, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
            "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
        ]
        guard let factor = factors[unit] else { return nil }
        return value * factor
    }

    /// `value` as an Int when it is finite, whole and in range; nil otherwise
    /// (never traps, unlike `Int(_:)`).
    public static func checkedInt(_ value: Double) -> Int? { Int(exactly: value) }

    /// `value` as an Int64 when it is finite, whole and in range.
    public static func checkedInt64(_ value: Double) -> Int64? { Int64(exactly: value) }

    /// The longest duration bucketflow accepts anywhere (timeouts, backoffs): 10 years.
    public static let maxDurationSeconds: Double = 315_360_000

    /// A `Duration` for a number of seconds, or nil for NaN, a negative
    /// value, or more than ``maxDurationSeconds`` (never traps).
    public static func duration(seconds: Double) -> Duration? {
        guard seconds.isFinite, seconds >= 0, seconds <= maxDurationSeconds else { return nil }
        let whole = seconds.rounded(.down)
        let nanoseconds = ((seconds - whole) * 1e9).rounded()
        guard let s = Int64(exactly: whole), let ns = Int64(exactly: nanoseconds) else { return nil }
        return .seconds(s) + .nanoseconds(ns)
    }

    /// A readable byte count for messages: 5 GiB, 10 MiB, 1000 bytes.
    public static func describe(bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 50, "PiB"), (1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size && bytes % size == 0 { return "\(bytes / size) \(name)" }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }

    /// A readable duration for messages: 30 days, 1 h, 100 s.
    public static func describe(seconds: Double) -> String {
        if seconds >= 86400, seconds.truncatingRemainder(dividingBy: 86400) == 0, let days = Int(exactly: seconds / 86400) {
            return days == 1 ? "1 day" : "\(days) days"
        }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0, let hours = Int(exactly: seconds / 3600) { return "\(hours) h" }
        return "\(ExpressionValue.format(seconds)) s"
    }
}

/// The allowed range of every number a workflow can hold, in one table the
/// validator checks and the executor can reuse.
public enum NumericLimits {
    /// Top-level `concurrency`.
    public static let concurrency: ClosedRange<Int64> = 1...1024
    /// Top-level `keep` (reports kept in the history).
    public static let keep: ClosedRange<Int64> = 1...100_000
    /// `retry.attempts` (and the bare `retry: N` form).
    public static let retryAttempts: ClosedRange<Int64> = 1...100
    /// `retry.backoff`, `retry.max-backoff`, in seconds.
    public static let backoffSeconds: ClosedRange<Double> = 0...86_400
    /// A step's `timeout`, in seconds (more than 0).
    public static let timeoutSeconds: ClosedRange<Double> = 0.001...2_592_000
    /// `max-keys` of a list step.
    public static let maxKeys: ClosedRange<Int64> = 1...1_000_000_000
    /// `max-parse-size` of an inspect step, in bytes.
    public static let maxParseSize: ClosedRange<Int64> = 1...(1 << 30)
    /// `expect: {size, min-size, max-size}`, in bytes (2^53: exact as a JSON number).
    public static let objectSize: ClosedRange<Int64> = 0...(1 << 53)
    /// S3 `part-size` and `multipart-threshold`: S3's own part limits.
    public static let partSize: ClosedRange<Int64> = (5 << 20)...(5 << 30)
    /// S3 `part-concurrency`.
    public static let partConcurrency: ClosedRange<Int64> = 1...64
    /// A storage's `max-attempts`.
    public static let maxAttempts: ClosedRange<Int64> = 1...100

    /// The range of an action parameter that holds a number, if it has one.
    public static func parameter(_ name: String) -> ClosedRange<Int64>? {
        switch name {
        case "max-keys": return maxKeys
        case "shards": return 1...Int64(ShardAssignment.maximumCount)
        case "max-parse-size": return maxParseSize
        case "min-size", "max-size", "size": return objectSize
        default: return nil
        }
    }
}
