import Foundation
internal import CYAML

/// Builds a ``YAMLNode`` tree from YAML text with libyaml's event parser.
public enum YAMLParser {
    /// Nodes an alias may expand to in total, against "billion laughs" documents.
    static let maxExpandedNodes = 1_000_000
    /// Nesting of sequences and mappings (block or flow: `[[[[...`).
    public static let maxDepth = 512

    /// Parses the single document in `text`.
    ///
    /// - Returns: nil when the stream holds no document (empty or only comments).
    /// - Throws: ``YAMLError`` at the position of the problem; a duplicate
    ///   mapping key is an error at the second key.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var duplicates: [YAMLError] = []
        let root = try parse(text, duplicateKeys: &duplicates)
        if let first = duplicates.first { throw first }
        return root
    }

    /// Parses the single document in `text`, collecting every duplicate
    /// mapping key (each at its own position) instead of stopping at the
    /// first. The tree keeps the first occurrence of a duplicated key.
    ///
    /// - Throws: ``YAMLError`` for text that cannot be read at all.
    public static func parse(_ text: String, duplicateKeys: inout [YAMLError]) throws(YAMLError) -> YAMLNode? {
        let bytes = Array(text.utf8)
        let reader: EventReader
        do {
            reader = try EventReader(bytes: bytes)
        } catch let error as YAMLError {
            throw error
        } catch {
            throw YAMLError(message: "\(error)", mark: YAMLMark(line: 1, column: 1))
        }
        var builder = Builder(reader: reader)
        do {
            let root = try builder.run()
            duplicateKeys.append(contentsOf: builder.duplicates)
            return root
        } catch let error as YAMLError {
            throw error
        } catch {
            throw YAMLError(message: "\(error)", mark: YAMLMark(line: 1, column: 1))
        }
    }
}

private struct Builder {
    let reader: EventReader
    var anchors: [String: YAMLNode] = [:]
    var expanded = 0
    var duplicates: [YAMLError] = []

    init(reader: EventReader) { self.reader = reader }

    mutating func run() throws -> YAMLNode? {
        var root: YAMLNode?
        var documents = 0
        loop: while true {
            let event = try reader.next()
            switch event.kind {
            case .streamStart, .documentEnd:
                continue
            case .streamEnd:
                break loop
            case .documentStart:
                documents += 1
                if documents > 1 { throw YAMLError(message: "expected a single YAML document", mark: event.mark) }
                root = try node(after: try reader.next(), depth: 0)
            default:
                throw YAMLError(message: "unexpected YAML event", mark: event.mark)
            }
        }
        return root
    }

    mutating func node(after event: Event, depth: Int) throws -> YAMLNode {
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
            expanded += Self.count(anchored, limit: YAMLParser.maxExpandedNodes - expanded + 1)
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
                let next = try reader.next()
                if next.kind == .sequenceEnd { break }
                items.append(try node(after: next, depth: depth + 1))
            }
            result = YAMLNode(kind: .sequence(items), mark: event.mark, tag: event.tag)
        case .mappingStart:
            var pairs: [YAMLPair] = []
            var merged: [YAMLPair] = []
            var mergedKeys: Set<String> = []
            var seen: [String: YAMLMark] = [:]
            while true {
                let next = try reader.next()
                if next.kind == .mappingEnd { break }
                let key = try node(after: next, depth: depth + 1)
                let value = try node(after: try reader.next(), depth: depth + 1)
                if let scalar = key.scalar, scalar.style == .plain, scalar.value == "<<", key.tag == nil {
                    // Merge keys: `<<: *base` or `<<: [*a, *b]`; earlier sources win, explicit keys win over all.
                    // Linear: a set remembers the merged keys.
                    let sources = value.sequence ?? [value]
                    for source in sources {
                        guard let sourcePairs = source.mapping else {
                            throw YAMLError(message: "a merge key (<<) needs a mapping or a list of mappings", mark: source.mark)
                        }
                        for pair in sourcePairs {
                            guard let name = pair.key.string else { merged.append(pair); continue }
                            if mergedKeys.insert(name).inserted { merged.append(pair) }
                        }
                    }
                    continue
                }
                if let name = key.string {
                    if let first = seen[name] {
                        duplicates.append(YAMLError(message: "duplicate key \"\(Self.clip(name))\" (first defined at \(first))", mark: key.mark))
                        continue
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

    /// Nodes in `node`, counting no further than `limit` (so a huge
    /// anchored tree costs at most `limit` steps to measure).
    static func count(_ node: YAMLNode, limit: Int) -> Int {
        var total = 0
        var stack = [node]
        while let next = stack.popLast() {
            total += 1
            if total >= limit { return total }
            switch next.kind {
            case .scalar: break
            case .sequence(let items): stack.append(contentsOf: items)
            case .mapping(let pairs):
                for pair in pairs { stack.append(pair.key); stack.append(pair.value) }
            }
        }
        return total
    }

    static func clip(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(80)) + "…"
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

/// Owns a libyaml parser and its input for the parser's whole life, both at
/// stable heap addresses: libyaml keeps pointers to the parser state and the
/// input buffer between calls, so neither may live in a Swift variable that
/// could move (as Yams does with a class).
private final class EventReader {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let length: Int
    private var initialized = false

    init(bytes: [UInt8]) throws {
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        length = bytes.count
        parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(message: "could not initialise the YAML parser", mark: YAMLMark(line: 1, column: 1))
        }
        initialized = true
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
    }

    deinit {
        if initialized { yaml_parser_delete(parser) }
        parser.deinitialize(count: 1)
        parser.deallocate()
        input.deallocate()
    }

    func next() throws -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else {
            throw error()
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

    private func error() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        let mark = YAMLMark(line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1)
        if let tab = tabError(line: Int(state.problem_mark.line), column: Int(state.problem_mark.column)) {
            return tab
        }
        if let context = state.context.map({ String(cString: $0) }) {
            let contextMark = YAMLMark(line: Int(state.context_mark.line) + 1, column: Int(state.context_mark.column) + 1)
            return YAMLError(message: "\(problem) (\(context) at \(contextMark))", mark: mark)
        }
        return YAMLError(message: problem, mark: mark)
    }

    /// libyaml reports a tab in indentation as a generic scanner error
    /// ("found character that cannot start any token"); when the line of the
    /// problem is indented with a tab, or the problem is a tab, say so.
    private func tabError(line: Int, column: Int) -> YAMLError? {
        // Find the start of the 0-based `line` (libyaml counts \n, \r\n and \r as breaks).
        var current = 0
        var index = 0
        let bytes = UnsafeBufferPointer(start: input.baseAddress, count: length)
        while current < line, index < bytes.count {
            if bytes[index] == 0x0A || (bytes[index] == 0x0D && (index + 1 >= bytes.count || bytes[index + 1] != 0x0A)) {
                current += 1
            }
            index += 1
        }
        guard current == line else { return nil }
        var lineEnd = index
        while lineEnd < bytes.count, bytes[lineEnd] != 0x0A, bytes[lineEnd] != 0x0D { lineEnd += 1 }
        var position = index
        var scalarColumn = 0
        // Leading whitespace with a tab.
        while position < lineEnd, bytes[position] == 0x20 || bytes[position] == 0x09 {
            if bytes[position] == 0x09 {
                return YAMLError(
                    message: "a tab character is used for indentation; YAML indents with spaces only (replace the tab with spaces)",
                    mark: YAMLMark(line: line + 1, column: scalarColumn + 1))
            }
            position += 1
            scalarColumn += 1
        }
        // The problem itself is a tab (counting columns in scalars, as libyaml does).
        var scalar = 0
        position = index
        while position < lineEnd {
            if scalar == column {
                if bytes[position] == 0x09 {
                    return YAMLError(
                        message: "a tab character is not allowed here; YAML separates and indents with spaces only",
                        mark: YAMLMark(line: line + 1, column: column + 1))
                }
                break
            }
            if bytes[position] & 0xC0 != 0x80 { scalar += 1 }
            position += 1
            while position < lineEnd, bytes[position] & 0xC0 == 0x80 { position += 1 }
        }
        return nil
    }
}
