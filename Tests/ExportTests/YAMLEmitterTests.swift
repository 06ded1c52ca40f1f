import Foundation
import XCTest
import YAML
@testable import Export

final class YAMLEmitterTests: XCTestCase {
    static let awkward: [String] = [
        "", " ", "plain", "with space", "true", "True", "FALSE", "yes", "No", "on", "OFF", "y", "n", "null", "Null", "~",
        "123", "-1", "+1", "0755", "0x1F", "0o17", "1e3", ".5", "1.0", "1_000", ".inf", "-.inf", ".nan", "1:20:30",
        "2001-12-14", "2001-12-14t21:59:43.10-05:00", "12:30", "a: b", "a:b", "x:", "a #b", "a#b", "#x", "{{workflow.name}}",
        "- x", "-x", "--only", "?x", ":x", "[a]", "a,b", "{a}", "'q'", "\"dq\"", "|", ">", "*a", "&a", "!tag", "%x", "@x",
        "`x", "=", "<<", "---", "...", "trailing ", " leading", "back\\slash", "tab\tx", "bell\u{7}", "nul\u{0}",
        "é ü 日本", "line\u{2028}sep", "next\u{85}line", "bom\u{FEFF}", "emoji 🪣", "multi\nline", "multi\nline\n",
        "multi\n\n", "\n", "\n\n", "  indented\nfirst", "\nleading newline", "x\n  indented\n", "cr\r\nlf", "a\n\n\nb\n\n",
        "\ttab first\nline", "ends with space \nnext", "   \nspaces only line", "k: v\n- item\n# comment\n",
    ]

    /// Every awkward string reads back as the same string, as a key and as
    /// a value, at several depths, with libyaml.
    func testRoundTripThroughLibyaml() throws {
        for text in Self.awkward {
            let value: YAMLValue = .object([
                ("v", .string(text)),
                ("nested", .object([("inner", .string(text)), ("list", .list([.string(text), .object([("k", .string(text))])]))])),
            ])
            let keyed: YAMLValue = .object([(text, .string("v"))])
            let yaml = YAMLEmitter.emit(value)
            let node = try XCTUnwrap(YAMLParser.parse(yaml), yaml)
            for found in [node["v"], node["nested"]?["inner"], node["nested"]?["list"]?.sequence?[0], node["nested"]?["list"]?.sequence?[1]["k"]] {
                let scalar = try XCTUnwrap(found, "\(text.debugDescription) in\n\(yaml)")
                XCTAssertEqual(scalar.string, text, "\(text.debugDescription) in\n\(yaml)")
                XCTAssertEqual(Tree(scalar), .string(text), "\(text.debugDescription) must stay a string in\n\(yaml)")
            }
            if !text.contains("\n") {
                let keyNode = try XCTUnwrap(YAMLParser.parse(YAMLEmitter.emit(keyed)))
                XCTAssertEqual(keyNode.mapping?.first?.key.string, text)
            }
        }
    }

    /// The same through PyYAML (YAML 1.1 rules: yes/on/0755/1:20:30/dates),
    /// via the validator script, which prints what it parsed.
    func testRoundTripThroughPyYAML() throws {
        let value: YAMLValue = .object([
            ("apiVersion", .string("v1")), ("kind", .string("ConfigMap")), ("metadata", .object([("name", .string("x"))])),
            ("data", .map(Self.awkward.enumerated().map { YAMLEntry("k\($0.offset)", .string($0.element)) })),
        ])
        let stream = YAMLEmitter.stream([(nil, value)])
        let result = try ArgoValidator.validate(stream)
        for (index, text) in Self.awkward.enumerated() {
            XCTAssertEqual(result.documents.first?["data"]?["k\(index)"], .string(text), text.debugDescription)
        }
    }

    /// Random strings over YAML's troublemakers, as values, keys and list
    /// items: libyaml and PyYAML both read every one back unchanged.
    func testRandomStringsRoundTrip() throws {
        let alphabet: [String] = ["a", "Z", "0", "9", "y", "n", " ", "  ", "\t", "\n", "\r", ":", ": ", "#", " #", "-", "- ", "?", "{", "}", "{{", "[", "]",
                                  ",", "'", "\"", "\\", "|", ">", "*", "&", "!", "%", "@", "`", "~", ".", "+", "=", "<<", "é", "日", "\u{2028}",
                                  "\u{85}", "\u{7}", "\u{FEFF}", "🪣", "\u{301}", "true", "null", "1e3", "0x", "---", "..."]
        let environment = ProcessInfo.processInfo.environment
        var state: UInt64 = environment["EMITTER_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5eed
        let count = environment["EMITTER_FUZZ_SAMPLES"].flatMap { Int($0) } ?? 1500
        func next() -> Int {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        var samples: [String] = []
        for _ in 0..<count {
            samples.append((0..<(next() % 13)).map { _ in alphabet[next() % alphabet.count] }.joined())
        }
        let value: YAMLValue = .object([
            ("apiVersion", .string("v1")), ("kind", .string("ConfigMap")), ("metadata", .object([("name", .string("fuzz"))])),
            ("data", .map(samples.enumerated().map { YAMLEntry("v\($0.offset)", .string($0.element)) })),
            ("keys", .map(samples.enumerated().filter { !$0.element.unicodeScalars.contains("\n") }.map { YAMLEntry("\($0.offset)-" + $0.element, .int($0.offset)) })),
            ("items", .list(samples.map { .list([.string($0), .object([("k", .string($0))])]) })),
        ])
        let stream = YAMLEmitter.stream([(nil, value)])
        let result = try ArgoValidator.run(stream)
        XCTAssertEqual(result.documents.count, 1, "PyYAML: \(result.errors.map(\.error))")
        let ours = try ExportFixtures.parse(stream)
        XCTAssertEqual(ours.count, 1)
        guard let theirs = result.documents.first, let mine = ours.first else { return }
        for (index, text) in samples.enumerated() {
            XCTAssertEqual(mine["data"]?["v\(index)"], .string(text), "libyaml: \(text.debugDescription)")
            XCTAssertEqual(theirs["data"]?["v\(index)"], .string(text), "PyYAML: \(text.debugDescription)")
            XCTAssertEqual(mine["items"]?.list[index], .list([.string(text), .map(["k": .string(text)])]), "libyaml item: \(text.debugDescription)")
            XCTAssertEqual(theirs["items"]?.list[index], .list([.string(text), .map(["k": .string(text)])]), "PyYAML item: \(text.debugDescription)")
            if !text.unicodeScalars.contains("\n") {
                XCTAssertEqual(mine["keys"]?["\(index)-" + text], .number(Double(index)), "libyaml key: \(text.debugDescription)")
                XCTAssertEqual(theirs["keys"]?["\(index)-" + text], .number(Double(index)), "PyYAML key: \(text.debugDescription)")
            }
        }
    }

    func testPlainWhereSafeAndLayout() {
        XCTAssertEqual(YAMLEmitter.scalar("bucketflow:latest"), "bucketflow:latest")
        XCTAssertEqual(YAMLEmitter.scalar("/workflows/a.yaml"), "/workflows/a.yaml")
        XCTAssertEqual(YAMLEmitter.scalar("{{workflow.name}}"), "\"{{workflow.name}}\"")
        XCTAssertEqual(YAMLEmitter.scalar("2"), "\"2\"")
        XCTAssertEqual(YAMLEmitter.scalar("--only"), "\"--only\"")
        XCTAssertEqual(YAMLEmitter.scalar("a\nb\n", indent: 4), "|\n    a\n    b")
        XCTAssertEqual(YAMLEmitter.scalar("a\nb", indent: 4), "|-\n    a\n    b")
        XCTAssertEqual(YAMLEmitter.scalar(" a\nb\n", indent: 4), "|2\n     a\n    b")
        let text = YAMLEmitter.stream([
            ("first\nsecond", .object([("a", .list([.object([("b", .int(1)), ("c", .list([]))])])), ("d", .map([YAMLEntry("e", .bool(true), comment: "why")]))])),
            (nil, .object([("f", .null)])),
        ])
        XCTAssertEqual(text, """
            ---
            # first
            # second
            a:
            - b: 1
              c: []
            d:
              # why
              e: true
            ---
            f: null

            """)
    }
}
