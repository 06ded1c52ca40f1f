public import Foundation

/// A value in an expression, a step output or a parsed JSON document.
public indirect enum ExpressionValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([ExpressionValue])
    case object([String: ExpressionValue])

    /// The value as text when interpolated into a string: scalars as written,
    /// lists and objects as compact JSON.
    public var description: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return Self.format(n)
        case .string(let s): return s
        case .list, .object: return jsonText
        }
    }

    /// Compact JSON with sorted keys.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Truthiness as in GitHub Actions expressions: null, false, 0, "" are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return n != 0 && !n.isNaN
        case .string(let s): return !s.isEmpty
        case .list, .object: return true
        }
    }

    public var number: Double? {
        switch self {
        case .number(let n): return n
        case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
        case .bool(let b): return b ? 1 : 0
        case .null: return 0
        default: return nil
        }
    }

    static func format(_ n: Double) -> String {
        if n.rounded() == n, abs(n) < 1e15 { return String(Int64(n)) }
        return String(n)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let l = try? container.decode([ExpressionValue].self) { self = .list(l) }
        else { self = .object(try container.decode([String: ExpressionValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9e15 { try container.encode(Int64(n)) } else { try container.encode(n) }
        case .string(let s): try container.encode(s)
        case .list(let l): try container.encode(l)
        case .object(let o): try container.encode(o)
        }
    }

    /// Parses a JSON document.
    public init(jsonData: Data) throws {
        self = try JSONDecoder().decode(ExpressionValue.self, from: jsonData)
    }

    /// Looks up a dotted path of object keys or list indexes.
    public func value(at path: ArraySlice<String>) -> ExpressionValue? {
        guard let first = path.first else { return self }
        switch self {
        case .object(let object):
            return object[first]?.value(at: path.dropFirst())
        case .list(let list):
            guard let index = Int(first), list.indices.contains(index) else { return nil }
            return list[index].value(at: path.dropFirst())
        default:
            return nil
        }
    }
}
