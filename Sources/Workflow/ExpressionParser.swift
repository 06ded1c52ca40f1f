/// Parses the expression language used inside `${{ }}` and in `if:`.
///
/// Grammar (GitHub Actions style):
///
///     or      := and ("||" and)*
///     and     := not ("&&" not)*
///     not     := "!" not | compare
///     compare := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary)?
///     primary := literal | name "(" args ")" | name ("." name | "[" literal "]")* | "(" or ")"
///
/// Names may contain `-` and `_` (step ids such as `make-bucket`).
struct ExpressionParser {
    private enum Token: Equatable {
        case name(String)
        case string(String)
        case number(Double)
        case symbol(String)
        case end
    }

    /// Longest expression text, in Unicode scalars.
    static let maxLength = 4096
    /// Deepest nesting of parentheses, `!`, and function arguments, and
    /// tallest expression tree (a chain `a && b && ...` counts one level per
    /// operator): well below what would exhaust the stack when the tree is
    /// walked recursively.
    static let maxDepth = 64
    static let maxHeight = 256

    private var tokens: [(token: Token, offset: Int)] = []
    private var index = 0
    private var depth = 0

    static func parse(_ text: String) throws(ExpressionSyntaxError) -> Expression {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= maxLength else {
            throw ExpressionSyntaxError(message: "the expression is \(scalars.count) characters long; the limit is \(maxLength)", offset: 0)
        }
        var parser = ExpressionParser()
        try parser.tokenize(scalars)
        let expression = try parser.parseOr()
        if case .end = parser.current {} else {
            throw ExpressionSyntaxError(message: "unexpected \(parser.describe(parser.current)) in expression", offset: parser.currentOffset)
        }
        if expression.height > maxHeight {
            throw ExpressionSyntaxError(message: "the expression has more than \(maxHeight) levels of operators; split it up", offset: 0)
        }
        return expression
    }

    /// Enters one level of nesting, refusing to go deeper than ``maxDepth``.
    private mutating func nest() throws(ExpressionSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw ExpressionSyntaxError(message: "the expression nests deeper than \(Self.maxDepth) levels", offset: currentOffset)
        }
    }

    private var current: Token { tokens[index].token }
    private var currentOffset: Int { tokens[index].offset }

    private func describe(_ token: Token) -> String {
        switch token {
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s)'"
        case .number(let n): return "number \(ExpressionValue.format(n))"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of expression"
        }
    }

    private mutating func tokenize(_ chars: [Unicode.Scalar]) throws(ExpressionSyntaxError) {
        var i = 0
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isName(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || c == "-" || ("0"..."9").contains(c) }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            let start = i
            if isNameStart(c) {
                var name = ""
                while i < chars.count, isName(chars[i]) { name.unicodeScalars.append(chars[i]); i += 1 }
                tokens.append((.name(name), start))
            } else if ("0"..."9").contains(c) || (c == "-" && i + 1 < chars.count && ("0"..."9").contains(chars[i + 1])) {
                var text = String(c)
                i += 1
                while i < chars.count, ("0"..."9").contains(chars[i]) || chars[i] == "." || chars[i] == "e" || chars[i] == "E" {
                    text.unicodeScalars.append(chars[i]); i += 1
                }
                guard let value = Double(text) else {
                    throw ExpressionSyntaxError(message: "invalid number '\(text)'", offset: start)
                }
                tokens.append((.number(value), start))
            } else if c == "'" || c == "\"" {
                // Single-quoted strings escape a quote by doubling it ('it''s').
                var text = ""
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c { text.unicodeScalars.append(c); i += 2; continue }
                        closed = true
                        i += 1
                        break
                    }
                    text.unicodeScalars.append(chars[i])
                    i += 1
                }
                guard closed else { throw ExpressionSyntaxError(message: "unterminated string", offset: start) }
                tokens.append((.string(text), start))
            } else {
                let two = i + 1 < chars.count ? String(c) + String(chars[i + 1]) : ""
                if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                    tokens.append((.symbol(two), start))
                    i += 2
                } else if "().[],!<>".unicodeScalars.contains(c) {
                    tokens.append((.symbol(String(c)), start))
                    i += 1
                } else if c == "=" {
                    throw ExpressionSyntaxError(message: "unexpected '=' (use '==' to compare)", offset: start)
                } else {
                    throw ExpressionSyntaxError(message: "unexpected character '\(c)' in expression", offset: start)
                }
            }
        }
        tokens.append((.end, chars.count))
    }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private mutating func expect(_ symbol: String) throws(ExpressionSyntaxError) {
        guard current == .symbol(symbol) else {
            throw ExpressionSyntaxError(message: "expected '\(symbol)' but found \(describe(current))", offset: currentOffset)
        }
        advance()
    }

    private mutating func parseOr() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseAnd()
        while current == .symbol("||") { advance(); left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseNot()
        while current == .symbol("&&") { advance(); left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(ExpressionSyntaxError) -> Expression {
        if current == .symbol("!") {
            try nest()
            advance()
            let inner = try parseNot()
            depth -= 1
            return .not(inner)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(ExpressionSyntaxError) -> Expression {
        let left = try parsePrimary()
        if case .symbol(let s) = current, let op = ComparisonOperator(rawValue: s) {
            advance()
            return .compare(op, left, try parsePrimary())
        }
        return left
    }

    private mutating func parsePrimary() throws(ExpressionSyntaxError) -> Expression {
        let offset = currentOffset
        switch current {
        case .string(let s): advance(); return .literal(.string(s))
        case .number(let n): advance(); return .literal(.number(n))
        case .symbol("("):
            try nest()
            advance()
            let inner = try parseOr()
            try expect(")")
            depth -= 1
            return inner
        case .name(let name):
            advance()
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            if current == .symbol("(") {
                try nest()
                defer { depth -= 1 }
                advance()
                var arguments: [Expression] = []
                if current != .symbol(")") {
                    arguments.append(try parseOr())
                    while current == .symbol(",") { advance(); arguments.append(try parseOr()) }
                }
                try expect(")")
                return .call(name: name, arguments: arguments, offset: offset)
            }
            var path = [name]
            while true {
                if current == .symbol(".") {
                    advance()
                    guard case .name(let member) = current else {
                        throw ExpressionSyntaxError(message: "expected a name after '.' but found \(describe(current))", offset: currentOffset)
                    }
                    path.append(member)
                    advance()
                } else if current == .symbol("[") {
                    advance()
                    switch current {
                    case .string(let s): path.append(s)
                    case .number(let n): path.append(ExpressionValue.format(n))
                    default:
                        throw ExpressionSyntaxError(message: "expected a string or number index but found \(describe(current))", offset: currentOffset)
                    }
                    advance()
                    try expect("]")
                } else {
                    break
                }
            }
            return .reference(path: path, offset: offset)
        default:
            throw ExpressionSyntaxError(message: "expected a value but found \(describe(current))", offset: offset)
        }
    }
}
