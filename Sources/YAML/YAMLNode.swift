/// A position in YAML text, 1-based.
public struct YAMLMark: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    /// Counted in Unicode scalars, as libyaml counts them.
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }

    public static func < (a: YAMLMark, b: YAMLMark) -> Bool { (a.line, a.column) < (b.line, b.column) }
}

/// A scalar as written: its text and how it was quoted.
public struct YAMLScalar: Sendable, Hashable {
    public enum Style: Sendable, Hashable { case plain, singleQuoted, doubleQuoted, literal, folded }
    public var value: String
    public var style: Style

    public init(value: String, style: Style) {
        self.value = value
        self.style = style
    }
}

/// A key/value pair of a mapping, in file order.
public struct YAMLPair: Sendable, Hashable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A node of the document tree; every node knows where it starts.
public struct YAMLNode: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var kind: Kind
    public var mark: YAMLMark
    /// An explicit tag such as `!!str`, if the text had one.
    public var tag: String?

    public init(kind: Kind, mark: YAMLMark, tag: String? = nil) {
        self.kind = kind
        self.mark = mark
        self.tag = tag
    }

    public var scalar: YAMLScalar? {
        if case .scalar(let s) = kind { return s }
        return nil
    }

    /// The text of a scalar (any style).
    public var string: String? { scalar?.value }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// The value for a scalar key of a mapping.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key.string == key }?.value
    }

    private var plainText: String? {
        guard let scalar, scalar.style == .plain, tag == nil else { return nil }
        return scalar.value
    }

    /// `~`, `null`, `Null`, `NULL` or nothing, unquoted (YAML 1.2 core schema).
    public var isNull: Bool {
        guard let text = plainText else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    public var bool: Bool? {
        switch plainText {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    public var int: Int? {
        guard var text = plainText, !text.isEmpty else { return nil }
        var sign = 1
        if text.hasPrefix("-") { sign = -1; text.removeFirst() } else if text.hasPrefix("+") { text.removeFirst() }
        if text.hasPrefix("0x"), let v = Int(text.dropFirst(2), radix: 16) { return sign * v }
        if text.hasPrefix("0o"), let v = Int(text.dropFirst(2), radix: 8) { return sign * v }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(text) else { return nil }
        return sign * v
    }

    public var double: Double? {
        if let i = int { return Double(i) }
        guard let text = plainText else { return nil }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        guard Self.isDecimal(text) else { return nil }
        return Double(text)
    }

    /// Whether `text` matches `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    /// (YAML 1.2 core schema floats), without a regular expression: this runs
    /// for every plain scalar of a workflow.
    static func isDecimal(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
        let whole = digits()
        if i < bytes.count, bytes[i] == 0x2E {
            i += 1
            let fraction = digits()
            if whole == 0 && fraction == 0 { return false }
        } else if whole == 0 {
            return false
        }
        if i < bytes.count, bytes[i] == 0x45 || bytes[i] == 0x65 {
            i += 1
            if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
            if digits() == 0 { return false }
        }
        return i == bytes.count
    }

    /// For messages: "mapping", "sequence", "string", "number", "boolean", "null".
    public var kindName: String {
        switch kind {
        case .mapping: return "mapping"
        case .sequence: return "sequence"
        case .scalar:
            if isNull { return "null" }
            if bool != nil { return "boolean" }
            if double != nil { return "number" }
            return "string"
        }
    }
}

import Foundation
