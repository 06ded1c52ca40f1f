/// Parsing of durations (`1s`, `500ms`, `2m30s`, `1h`) and byte sizes
/// (`10MiB`, `5MB`, `1024`).
public enum Units {
    /// Seconds for a duration; a bare number means seconds.
    public static func seconds(_ text: String) -> Double? {
        let text = text.trimmingWhitespace()
        if let value = Double(text), value >= 0 { return value }
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
        for c in text {
            if c.isNumber || c == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(c)
            } else if c.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(c)
            } else {
                return nil
            }
        }
        if !number.isEmpty || !unit.isEmpty { guard flush() else { return nil } }
        return sawAny ? total : nil
    }

    /// Bytes for a size; a bare number means bytes.
    public static func bytes(_ text: String) -> Int64? {
        let text = text.trimmingWhitespace()
        if let value = Int64(text), value >= 0 { return value }
        let digits = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits), value >= 0 else { return nil }
        let unit = String(text.dropFirst(digits.count)).trimmingWhitespace().lowercased()
        let factors: [String: Double] = [
            "b": 1, "k": 1000, "kb": 1000, "m": 1_000_000, "mb": 1_000_000, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
            "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
        ]
        guard let factor = factors[unit] else { return nil }
        return Int64(value * factor)
    }
}
