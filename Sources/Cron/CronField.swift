/// One of the five fields of a cron expression, as the set of values it allows.
struct CronField: Sendable, Hashable {
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

        var range: ClosedRange<Int> {
            switch self {
            case .minute: return 0...59
            case .hour: return 0...23
            case .dayOfMonth: return 1...31
            case .month: return 1...12
            case .dayOfWeek: return 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: return ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: return []
            }
        }

        /// The value a name stands for (months from 1, weekdays from 0).
        func value(ofName name: String) -> Int? {
            guard let index = names.firstIndex(of: name.lowercased()) else { return nil }
            return self == .month ? index + 1 : index
        }
    }

    let kind: Kind
    /// allowed[v] for v in the field's range (day-of-week 7 folded into 0).
    let allowed: [Bool]
    /// Whether the field text starts with `*` (matters for the day-of-month /
    /// day-of-week OR rule, as in Vixie cron).
    let isStar: Bool

    func contains(_ value: Int) -> Bool { value >= 0 && value < allowed.count && allowed[value] }

    /// The smallest allowed value >= `value`, if any.
    func next(atOrAfter value: Int) -> Int? {
        var v = max(value, 0)
        while v < allowed.count {
            if allowed[v] { return v }
            v += 1
        }
        return nil
    }

    static func parse(_ text: Substring, kind: Kind, offset: Int) throws(CronError) -> CronField {
        var allowed = [Bool](repeating: false, count: kind.range.upperBound + 1)
        var position = offset
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            defer { position += item.count + 1 }
            guard !item.isEmpty else {
                throw CronError(message: "empty item in the \(kind.name) field", offset: position)
            }
            var rangePart = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                rangePart = item[..<slash]
                let stepText = item[item.index(after: slash)...]
                guard let s = Int(stepText) else {
                    throw CronError(message: "invalid step \"\(stepText)\" in the \(kind.name) field", offset: position + rangePart.count + 1)
                }
                guard s >= 1 else {
                    throw CronError(message: "step must be at least 1 in the \(kind.name) field", offset: position + rangePart.count + 1)
                }
                step = s
            }
            var low: Int
            var high: Int
            if rangePart == "*" {
                low = kind.range.lowerBound
                high = kind == .dayOfWeek ? 6 : kind.range.upperBound
            } else if let dash = rangePart.firstIndex(of: "-") {
                low = try value(rangePart[..<dash], kind: kind, offset: position)
                high = try value(rangePart[rangePart.index(after: dash)...], kind: kind, offset: position + rangePart.distance(from: rangePart.startIndex, to: dash) + 1)
                guard low <= high else {
                    throw CronError(message: "\(kind.name) range \(rangePart) is reversed; write it from low to high", offset: position)
                }
            } else {
                low = try value(rangePart, kind: kind, offset: position)
                // "a/n" means from a to the end of the range, as in Vixie cron.
                high = item.contains("/") ? (kind == .dayOfWeek ? 6 : kind.range.upperBound) : low
            }
            var v = low
            while v <= high {
                allowed[kind == .dayOfWeek && v == 7 ? 0 : v] = true
                v += step
            }
        }
        if kind == .dayOfWeek { allowed.removeLast() }
        return CronField(kind: kind, allowed: allowed, isStar: text.hasPrefix("*"))
    }

    static func value(_ text: Substring, kind: Kind, offset: Int) throws(CronError) -> Int {
        if let number = Int(text), text.allSatisfy(\.isNumber) {
            guard kind.range.contains(number) else {
                throw CronError(message: "\(kind.name) value \(number) is out of range \(kind.range.lowerBound)-\(kind.range.upperBound)", offset: offset)
            }
            return number
        }
        if let named = kind.value(ofName: String(text)) { return named }
        if !kind.names.isEmpty && text.allSatisfy(\.isLetter) {
            throw CronError(message: "unknown \(kind.name) name \"\(text)\"; use \(kind.names.first!)-\(kind.names.last!) or numbers", offset: offset)
        }
        throw CronError(message: "invalid \(kind.name) value \"\(text)\"", offset: offset)
    }
}
