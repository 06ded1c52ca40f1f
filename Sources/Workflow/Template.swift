public import YAML

/// A string value that may contain `${{ expression }}` placeholders.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case literal(String)
        /// `mark` is where the expression's text starts in the file.
        case expression(Expression, source: String, mark: YAMLMark)
    }

    public var parts: [Part]
    /// The raw text as written in the file.
    public var source: String
    public var mark: YAMLMark

    public var description: String { source }

    /// The text if it contains no expression.
    public var literal: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        return nil
    }

    /// The leading literal text, before any expression (used to find a
    /// location's storage name, which must be written out).
    public var literalPrefix: String {
        if case .literal(let text)? = parts.first { return text }
        return ""
    }

    public var expressions: [(expression: Expression, source: String, mark: YAMLMark)] {
        parts.compactMap {
            if case .expression(let e, let source, let mark) = $0 { return (e, source, mark) }
            return nil
        }
    }

    /// A template without expressions.
    public init(literal: String, mark: YAMLMark = YAMLMark(line: 1, column: 1)) {
        self.parts = literal.isEmpty ? [] : [.literal(literal)]
        self.source = literal
        self.mark = mark
    }

    /// Splits `text` into literal parts and `${{ }}` expressions.
    ///
    /// - Parameter columnOffset: Columns between `mark` and the first character
    ///   of `text` (1 for a quoted scalar), so expression marks point at `${{`.
    public init(parsing text: String, mark: YAMLMark, columnOffset: Int = 0) throws(TemplateError) {
        self.source = text
        self.mark = mark
        var parts: [Part] = []
        let scalars = Array(text.unicodeScalars)
        var literal = ""
        var i = 0
        var line = mark.line
        var column = mark.column + columnOffset
        func advanceMark(_ c: Unicode.Scalar) {
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        while i < scalars.count {
            if scalars[i] == "$", i + 2 < scalars.count, scalars[i + 1] == "{", scalars[i + 2] == "{" {
                let start = YAMLMark(line: line, column: column)
                var j = i + 3
                var found = false
                while j + 1 < scalars.count {
                    if scalars[j] == "}" && scalars[j + 1] == "}" { found = true; break }
                    j += 1
                }
                guard found else {
                    throw TemplateError(message: "unterminated expression: '${{' without a closing '}}'", mark: start)
                }
                var inner = ""
                inner.unicodeScalars.append(contentsOf: scalars[(i + 3)..<j])
                let trimmed = inner.trimmingWhitespace()
                guard !trimmed.isEmpty else {
                    throw TemplateError(message: "empty expression '${{ }}'", mark: start)
                }
                let expression: Expression
                do {
                    expression = try ExpressionParser.parse(inner)
                } catch {
                    throw TemplateError(
                        message: "invalid expression '\(trimmed.count > 80 ? String(trimmed.prefix(80)) + "…" : trimmed)': \(error.message)",
                        mark: YAMLMark(line: start.line, column: start.column + 3 + error.offset))
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.expression(expression, source: trimmed, mark: start))
                for k in i..<(j + 2) { advanceMark(scalars[k]) }
                i = j + 2
            } else {
                literal.unicodeScalars.append(scalars[i])
                advanceMark(scalars[i])
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }
}

/// A malformed `${{ }}` placeholder.
public struct TemplateError: Error, Sendable, Hashable {
    public var message: String
    public var mark: YAMLMark
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" || first == "\r" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" || last == "\r" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
