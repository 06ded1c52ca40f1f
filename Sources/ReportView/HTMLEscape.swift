/// Escapes text for HTML element content and quoted attribute values (the
/// same rules serve both, and SVG): `& < > " '` become entities, and control
/// characters other than tab and newline are dropped (they are invalid in HTML).
public func htmlEscape(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        case "\t", "\n": result.unicodeScalars.append(scalar)
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) { continue }
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}
