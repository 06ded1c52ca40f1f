internal import CYAML

/// Builds a ``YAMLNode`` tree from YAML text with libyaml's event parser.
public enum YAMLParser {
    /// Nodes an alias may expand to in total, against "billion laughs" documents.
    static let maxExpandedNodes = 1_000_000
    static let maxDepth = 512

    /// Parses the single document in `text`.
    ///
    /// - Returns: nil when the stream holds no document (empty or only comments).
    /// - Throws: ``YAMLError`` at the position of the problem.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var builder = Builder()
        do {
            return try builder.run(text)
        } catch let error as YAMLError {
            throw error
        } catch {
            throw YAMLError(message: "\(error)", mark: YAMLMark(line: 1, column: 1))
        }
    }
}

private struct Builder {
    var anchors: [String: YAMLNode] = [:]
    var expanded = 0

    mutating func run(_ text: String) throws -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(message: "could not initialise the YAML parser", mark: YAMLMark(line: 1, column: 1))
        }
        defer { yaml_parser_delete(&parser) }
        // The bytes must outlive the parser: keep them in this scope.
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        return try bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var events = EventReader(parser: &parser)
            var root: YAMLNode?
            var documents = 0
            loop: while true {
                let event = try events.next(&parser)
                switch event.kind {
                case .streamStart, .documentEnd:
                    continue
                case .streamEnd:
                    break loop
                case .documentStart:
                    documents += 1
                    if documents > 1 { throw YAMLError(message: "expected a single YAML document", mark: event.mark) }
                    root = try node(after: try events.next(&parser), events: &events, parser: &parser, depth: 0)
                default:
                    throw YAMLError(message: "unexpected YAML event", mark: event.mark)
                }
            }
            return root
        }
    }

    mutating func node(after event: Event, events: inout EventReader, parser: inout yaml_parser_t, depth: Int) throws -> YAMLNode {
        guard depth < YAMLParser.maxDepth else {
            throw YAMLError(message: "the document nests deeper than \(YAMLParser.maxDepth) levels", mark: event.mark)
        }
        expanded += 1
        guard expanded <= YAMLParser.maxExpandedNodes else {
            throw YAMLError(message: "the document expands to more than \(YAMLParser.maxExpandedNodes) nodes (aliases)", mark: event.mark)
        }
        var result: YAMLNode
        switch event.kind {
        case .alias:
            guard let anchored = anchors[event.anchor ?? ""] else {
                throw YAMLError(message: "unknown alias \"\(event.anchor ?? "")\"", mark: event.mark)
            }
            expanded += Self.count(anchored)
            guard expanded <= YAMLParser.maxExpandedNodes else {
                throw YAMLError(message: "the document expands to more than \(YAMLParser.maxExpandedNodes) nodes (aliases)", mark: event.mark)
            }
            result = anchored
            result.mark = event.mark
            return result
        case .scalar:
            result = YAMLNode(kind: .scalar(YAMLScalar(value: event.value ?? "", style: event.style)), mark: event.mark, tag: event.tag)
        case .sequenceStart:
            var items: [YAMLNode] = []
            while true {
                let next = try events.next(&parser)
                if next.kind == .sequenceEnd { break }
                items.append(try node(after: next, events: &events, parser: &parser, depth: depth + 1))
            }
            result = YAMLNode(kind: .sequence(items), mark: event.mark, tag: event.tag)
        case .mappingStart:
            var pairs: [YAMLPair] = []
            var merged: [YAMLPair] = []
            var seen: [String: YAMLMark] = [:]
            while true {
                let next = try events.next(&parser)
                if next.kind == .mappingEnd { break }
                let key = try node(after: next, events: &events, parser: &parser, depth: depth + 1)
                let value = try node(after: try events.next(&parser), events: &events, parser: &parser, depth: depth + 1)
                if let scalar = key.scalar, scalar.style == .plain, scalar.value == "<<", key.tag == nil {
                    // Merge keys: `<<: *base` or `<<: [*a, *b]`; earlier sources win, explicit keys win over all.
                    let sources = value.sequence ?? [value]
                    for source in sources {
                        guard let sourcePairs = source.mapping else {
                            throw YAMLError(message: "a merge key (<<) needs a mapping or a list of mappings", mark: source.mark)
                        }
                        for pair in sourcePairs where !merged.contains(where: { $0.key.string == pair.key.string }) {
                            merged.append(pair)
                        }
                    }
                    continue
                }
                if let name = key.string {
                    if let first = seen[name] {
                        throw YAMLError(message: "duplicate key \"\(name)\" (first defined at \(first))", mark: key.mark)
                    }
                    seen[name] = key.mark
                }
                pairs.append(YAMLPair(key: key, value: value))
            }
            for pair in merged where seen[pair.key.string ?? ""] == nil {
                pairs.append(pair)
            }
            result = YAMLNode(kind: .mapping(pairs), mark: event.mark, tag: event.tag)
        default:
            throw YAMLError(message: "unexpected YAML event", mark: event.mark)
        }
        if let anchor = event.anchor { anchors[anchor] = result }
        return result
    }

    static func count(_ node: YAMLNode) -> Int {
        switch node.kind {
        case .scalar: return 1
        case .sequence(let items): return 1 + items.reduce(0) { $0 + count($1) }
        case .mapping(let pairs): return 1 + pairs.reduce(0) { $0 + count($1.key) + count($1.value) }
        }
    }
}

/// One libyaml event, copied out of C memory.
private struct Event {
    enum Kind: Equatable {
        case streamStart, streamEnd, documentStart, documentEnd, alias, scalar
        case sequenceStart, sequenceEnd, mappingStart, mappingEnd, none
    }

    var kind: Kind
    var mark: YAMLMark
    var anchor: String?
    var tag: String?
    var value: String?
    var style: YAMLScalar.Style = .plain
}

private struct EventReader {
    init(parser: inout yaml_parser_t) {}

    mutating func next(_ parser: inout yaml_parser_t) throws -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
            throw Self.error(parser)
        }
        defer { yaml_event_delete(&event) }
        let mark = YAMLMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let pointer else { return nil }
            return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
        }
        switch event.type {
        case YAML_STREAM_START_EVENT: return Event(kind: .streamStart, mark: mark)
        case YAML_STREAM_END_EVENT: return Event(kind: .streamEnd, mark: mark)
        case YAML_DOCUMENT_START_EVENT: return Event(kind: .documentStart, mark: mark)
        case YAML_DOCUMENT_END_EVENT: return Event(kind: .documentEnd, mark: mark)
        case YAML_ALIAS_EVENT:
            return Event(kind: .alias, mark: mark, anchor: text(event.data.alias.anchor))
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map { pointer in
                String(decoding: UnsafeBufferPointer(start: pointer, count: scalar.length), as: UTF8.self)
            } ?? ""
            let style: YAMLScalar.Style
            switch scalar.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            return Event(kind: .scalar, mark: mark, anchor: text(scalar.anchor), tag: Self.shortTag(text(scalar.tag)), value: value, style: style)
        case YAML_SEQUENCE_START_EVENT:
            return Event(kind: .sequenceStart, mark: mark, anchor: text(event.data.sequence_start.anchor), tag: Self.shortTag(text(event.data.sequence_start.tag)))
        case YAML_SEQUENCE_END_EVENT: return Event(kind: .sequenceEnd, mark: mark)
        case YAML_MAPPING_START_EVENT:
            return Event(kind: .mappingStart, mark: mark, anchor: text(event.data.mapping_start.anchor), tag: Self.shortTag(text(event.data.mapping_start.tag)))
        case YAML_MAPPING_END_EVENT: return Event(kind: .mappingEnd, mark: mark)
        default: return Event(kind: .none, mark: mark)
        }
    }

    /// `tag:yaml.org,2002:str` → `!!str`.
    static func shortTag(_ tag: String?) -> String? {
        guard let tag else { return nil }
        let prefix = "tag:yaml.org,2002:"
        return tag.hasPrefix(prefix) ? "!!" + tag.dropFirst(prefix.count) : tag
    }

    static func error(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let mark = YAMLMark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        if let context = parser.context.map({ String(cString: $0) }) {
            let contextMark = YAMLMark(line: Int(parser.context_mark.line) + 1, column: Int(parser.context_mark.column) + 1)
            return YAMLError(message: "\(problem) (\(context) at \(contextMark))", mark: mark)
        }
        return YAMLError(message: problem, mark: mark)
    }
}
