/// A YAML value to print: the exporters build these trees and ``YAMLEmitter``
/// turns them into text that any YAML 1.1 or 1.2 parser reads back to the same
/// strings, numbers and booleans.
public indirect enum YAMLValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case list([YAMLValue])
    /// A mapping in the order given; an entry may carry a comment printed
    /// on the line(s) above it.
    case map([YAMLEntry])

    /// A mapping from `(key, value)` pairs, without comments.
    public static func object(_ pairs: [(String, YAMLValue)]) -> YAMLValue {
        .map(pairs.map { YAMLEntry($0.0, $0.1) })
    }

    /// The value for `key` when this is a mapping.
    public subscript(key: String) -> YAMLValue? {
        if case .map(let entries) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var listValue: [YAMLValue]? {
        if case .list(let l) = self { return l }
        return nil
    }
}

/// One key of a mapping, with an optional comment.
public struct YAMLEntry: Sendable, Hashable {
    public var key: String
    public var value: YAMLValue
    public var comment: String?

    public init(_ key: String, _ value: YAMLValue, comment: String? = nil) {
        self.key = key
        self.value = value
        self.comment = comment
    }
}

/// Block-style YAML output with conservative quoting.
///
/// Strings are printed plain only when no parser could read them as anything
/// else (a number, boolean, null, date, an indicator, a comment, a `{{ }}`
/// template); otherwise double-quoted with escapes, or as a literal block
/// scalar (`|`) when they span lines.
public enum YAMLEmitter {
    /// Several documents separated by `---`, each optionally preceded by
    /// comment lines.
    public static func stream(_ documents: [(comment: String?, value: YAMLValue)]) -> String {
        var out = ""
        for (index, document) in documents.enumerated() {
            if index > 0 || document.comment != nil { out += "---\n" }
            if let comment = document.comment { out += commentLines(comment, indent: 0) }
            out += emit(document.value)
        }
        return out
    }

    /// One document (no `---`).
    public static func emit(_ value: YAMLValue) -> String {
        var out = ""
        switch value {
        case .map(let entries) where !entries.isEmpty:
            writeMap(entries, indent: 0, into: &out)
        case .list(let items) where !items.isEmpty:
            writeList(items, indent: 0, into: &out)
        default:
            out += inline(value, indent: 0) + "\n"
        }
        return out
    }

    // MARK: Structure

    private static func pad(_ n: Int) -> String { String(repeating: " ", count: n) }

    /// `# ` lines; line breaks of any kind start a new comment line.
    static func commentLines(_ comment: String, indent: Int) -> String {
        var lines: [String] = [""]
        for scalar in comment.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                if scalar == "\n" || scalar != "\r" { lines.append("") }
            default:
                lines[lines.count - 1].unicodeScalars.append(isPrintable(scalar) || scalar == "\t" ? scalar : "?")
            }
        }
        return lines.map { $0.isEmpty ? pad(indent) + "#\n" : pad(indent) + "# " + $0 + "\n" }.joined()
    }

    private static func writeMap(_ entries: [YAMLEntry], indent: Int, into out: inout String) {
        for entry in entries {
            if let comment = entry.comment { out += commentLines(comment, indent: indent) }
            out += pad(indent) + scalar(entry.key, indent: indent, allowBlock: false) + ":"
            writeValue(entry.value, indent: indent, into: &out)
        }
    }

    private static func writeList(_ items: [YAMLValue], indent: Int, into out: inout String) {
        for item in items {
            out += pad(indent) + "-"
            switch item {
            case .map(let entries) where !entries.isEmpty:
                // First key on the dash line, the rest aligned under it.
                var nested = ""
                writeMap(entries, indent: indent + 2, into: &nested)
                let trimmed = nested.dropFirst(indent + 2)
                if entries[0].comment != nil {
                    out += "\n" + nested
                } else {
                    out += " " + trimmed
                }
            case .list(let inner) where !inner.isEmpty:
                out += "\n"
                writeList(inner, indent: indent + 2, into: &out)
            default:
                out += " " + inline(item, indent: indent + 2) + "\n"
            }
        }
    }

    /// After `key:`.
    private static func writeValue(_ value: YAMLValue, indent: Int, into out: inout String) {
        switch value {
        case .map(let entries) where !entries.isEmpty:
            out += "\n"
            writeMap(entries, indent: indent + 2, into: &out)
        case .list(let items) where !items.isEmpty:
            out += "\n"
            writeList(items, indent: indent, into: &out)
        default:
            out += " " + inline(value, indent: indent + 2) + "\n"
        }
    }

    /// A scalar or an empty collection, on the current line.
    private static func inline(_ value: YAMLValue, indent: Int) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .string(let s): return scalar(s, indent: indent, allowBlock: true)
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    // MARK: Scalars

    /// The text of a string scalar: plain, double-quoted, or a literal block
    /// (`allowBlock`, multi-line text) indented by `indent`.
    public static func scalar(_ text: String, indent: Int = 0, allowBlock: Bool = true) -> String {
        if isPlainSafe(text) { return text }
        if allowBlock, let block = literalBlock(text, indent: indent) { return block }
        return doubleQuoted(text)
    }

    /// Words YAML 1.1 or 1.2 resolves to booleans or null when unquoted.
    static let reservedWords: Set<String> = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ]

    /// Whether `text` reads back as the same string when printed unquoted.
    /// Checked on Unicode scalars, as parsers read them: a combining mark
    /// after a space makes one `Character` of the two, but the parser still
    /// sees ": ".
    public static func isPlainSafe(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last else { return false }
        if reservedWords.contains(text.lowercased()) { return false }
        // Indicators that start something else, and anything number-like
        // (digits, signs, dots: ints, floats, .inf, .nan, dates, times, 0x).
        if "-?:,[]{}#&*!|>'\"%@`+.~=<".unicodeScalars.contains(first) { return false }
        if ("0"..."9").contains(first) { return false }
        if first == " " || last == " " || last == ":" { return false }
        for (a, b) in zip(scalars, scalars.dropFirst()) {
            if (a == ":" && b == " ") || (a == " " && b == "#") || (a == "{" && b == "{") || (a == "}" && b == "}") { return false }
        }
        for scalar in scalars {
            // Flow indicators: harmless in block context but confusing; quote.
            if "[]{},".unicodeScalars.contains(scalar) { return false }
            if !isPrintable(scalar) || scalar == "\t" { return false }
        }
        return true
    }

    /// Printable in YAML's sense and not a line break in YAML 1.1.
    static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20...0x7E: return true
        case 0x85, 0x2028, 0x2029, 0xFEFF: return false
        case 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF:
            return !(s.properties.generalCategory == .control || s.properties.generalCategory == .format)
        default: return false
        }
    }

    /// `|` block for text with line breaks and nothing a literal block cannot
    /// hold; nil otherwise. Works on Unicode scalars: "\r\n" is one
    /// `Character` but two scalars, and only "\n" may appear here.
    static func literalBlock(_ text: String, indent: Int) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains("\n") else { return nil }
        for scalar in scalars where scalar != "\n" && scalar != "\t" && !isPrintable(scalar) { return nil }
        var end = scalars.count
        while end > 0, scalars[end - 1] == "\n" { end -= 1 }
        let trailing = scalars.count - end
        guard end > 0 else { return nil }
        let chomp = trailing == 0 ? "-" : (trailing == 1 ? "" : "+")
        let lines = scalars[..<end].split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var s = ""
            s.unicodeScalars.append(contentsOf: line)
            return s
        }
        // An explicit indentation indicator when the first line with text
        // starts with blanks (the parser would take them for indentation) or
        // the text opens with empty lines. The parent node sits at
        // `indent - 2`, so an indicator of 2 puts the content exactly where it
        // is printed.
        let firstText = lines.first { !$0.isEmpty }
        let firstScalar = firstText?.unicodeScalars.first
        let needsIndicator = lines.first?.isEmpty == true || firstScalar == " " || firstScalar == "\t"
        let contentIndent = max(indent, 2)
        var out = "|" + (needsIndicator ? "2" : "") + chomp
        for line in lines {
            out += "\n" + (line.isEmpty ? "" : pad(contentIndent) + line)
        }
        for _ in 1..<max(trailing, 1) { out += "\n" }
        return out
    }

    public static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFF {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + hex(scalar.value, width: 4)
                } else {
                    out += "\\U" + hex(scalar.value, width: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
