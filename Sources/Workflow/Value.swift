public import YAML

/// A parameter value from the workflow file, with its position; strings are
/// templates that may contain `${{ }}` expressions.
public struct Value: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        case null
        case bool(Bool)
        case number(Double)
        case string(Template)
        case list([Value])
        case map([Entry])
    }

    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyMark: YAMLMark
        public var value: Value
    }

    public var kind: Kind
    public var mark: YAMLMark

    public init(kind: Kind, mark: YAMLMark) {
        self.kind = kind
        self.mark = mark
    }

    public var template: Template? {
        if case .string(let t) = kind { return t }
        return nil
    }

    public var list: [Value]? {
        if case .list(let l) = kind { return l }
        return nil
    }

    public var entries: [Entry]? {
        if case .map(let m) = kind { return m }
        return nil
    }

    public subscript(key: String) -> Value? {
        entries?.first { $0.key == key }?.value
    }

    /// Every template inside this value.
    public var templates: [Template] {
        switch kind {
        case .null, .bool, .number: return []
        case .string(let t): return [t]
        case .list(let l): return l.flatMap(\.templates)
        case .map(let m): return m.flatMap(\.value.templates)
        }
    }

    public var kindName: String {
        switch kind {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .list: return "sequence"
        case .map: return "mapping"
        }
    }

    /// Converts a YAML node, parsing `${{ }}` in every string.
    static func from(_ node: YAMLNode, errors: inout [TemplateError]) -> Value {
        switch node.kind {
        case .scalar(let scalar):
            if scalar.style == .plain, node.tag == nil {
                if node.isNull { return Value(kind: .null, mark: node.mark) }
                if let b = node.bool { return Value(kind: .bool(b), mark: node.mark) }
                if let d = node.double, node.int != nil || scalar.value.contains(".") || scalar.value.lowercased().contains("e") {
                    return Value(kind: .number(d), mark: node.mark)
                }
            }
            let offset = (scalar.style == .singleQuoted || scalar.style == .doubleQuoted) ? 1 : 0
            do {
                // Block scalars start on the next line; positions inside them are approximate.
                let template = try Template(parsing: scalar.value, mark: node.mark, columnOffset: offset)
                return Value(kind: .string(template), mark: node.mark)
            } catch {
                errors.append(error)
                return Value(kind: .string(Template(literal: scalar.value, mark: node.mark)), mark: node.mark)
            }
        case .sequence(let items):
            return Value(kind: .list(items.map { from($0, errors: &errors) }), mark: node.mark)
        case .mapping(let pairs):
            return Value(kind: .map(pairs.map {
                Entry(key: $0.key.string ?? "", keyMark: $0.key.mark, value: from($0.value, errors: &errors))
            }), mark: node.mark)
        }
    }
}
