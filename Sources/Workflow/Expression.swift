/// A parsed `${{ ... }}` expression or `if:` condition.
public indirect enum Expression: Sendable, Hashable {
    case literal(ExpressionValue)
    /// A dotted reference such as `vars.bucket` or `steps.list.outputs.count`;
    /// `offset` is where it starts in the expression text (for diagnostics).
    case reference(path: [String], offset: Int)
    case call(name: String, arguments: [Expression], offset: Int)
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case compare(ComparisonOperator, Expression, Expression)

    /// Every reference in the expression, in order of appearance.
    public var references: [(path: [String], offset: Int)] {
        switch self {
        case .literal: return []
        case .reference(let path, let offset): return [(path, offset)]
        case .call(_, let arguments, _): return arguments.flatMap(\.references)
        case .not(let inner): return inner.references
        case .and(let l, let r), .or(let l, let r), .compare(_, let l, let r): return l.references + r.references
        }
    }

    /// The height of the expression tree (a literal is 1), measured without
    /// recursion.
    public var height: Int {
        var tallest = 0
        var stack: [(Expression, Int)] = [(self, 1)]
        while let (node, level) = stack.popLast() {
            tallest = max(tallest, level)
            switch node {
            case .literal, .reference: break
            case .call(_, let arguments, _): stack.append(contentsOf: arguments.map { ($0, level + 1) })
            case .not(let inner): stack.append((inner, level + 1))
            case .and(let l, let r), .or(let l, let r), .compare(_, let l, let r):
                stack.append((l, level + 1))
                stack.append((r, level + 1))
            }
        }
        return tallest
    }

    /// Every function call, in order of appearance.
    public var calls: [(name: String, arity: Int, offset: Int)] {
        switch self {
        case .literal, .reference: return []
        case .call(let name, let arguments, let offset):
            return [(name, arguments.count, offset)] + arguments.flatMap(\.calls)
        case .not(let inner): return inner.calls
        case .and(let l, let r), .or(let l, let r), .compare(_, let l, let r): return l.calls + r.calls
        }
    }
}

public enum ComparisonOperator: String, Sendable, Hashable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// An expression that failed to parse, with the offset of the problem in the
/// expression text.
public struct ExpressionSyntaxError: Error, Sendable, Hashable {
    public var message: String
    public var offset: Int
}
