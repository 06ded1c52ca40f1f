import Foundation
import Testing
@testable import YAML

/// Hostile YAML: every duplicate key, tabs, deep flow nesting, merge-key
/// and alias bombs, all located errors in bounded time.
struct YAMLHostileTests {
    @Test func everyDuplicateKeyIsCollected() throws {
        var duplicates: [YAMLError] = []
        let root = try YAMLParser.parse("a: 1\nb: 2\na: 3\nc: {x: 1, x: 2}\nb: 4\n", duplicateKeys: &duplicates)
        #expect(duplicates.map(\.description) == [
            "3:1: duplicate key \"a\" (first defined at 1:1)",
            "4:11: duplicate key \"x\" (first defined at 4:5)",
            "5:1: duplicate key \"b\" (first defined at 2:1)",
        ])
        #expect(root?["a"]?.string == "1")
        #expect(throws: YAMLError.self) { try YAMLParser.parse("a: 1\na: 2\n") }
    }

    @Test func tabsInIndentationSayTab() {
        for text in ["a:\n\tb: 1\n", "a:\n  b:\n  \tc: 1\n"] {
            do {
                _ = try YAMLParser.parse(text)
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                #expect(error.message.contains("tab"), "\(error)")
                #expect(error.mark.line == 2 || error.mark.line == 3)
            }
        }
    }

    @Test func deepFlowNestingIsALocatedError() {
        for text in [String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
                     "a: " + String(repeating: "{b: ", count: 5000) + "1" + String(repeating: "}", count: 5000)] {
            #expect(throws: YAMLError.self) { try YAMLParser.parse(text) }
            do { _ = try YAMLParser.parse(text) } catch {
                #expect(error.message.contains("nests deeper than 512"))
                #expect(error.mark.line == 1)
            }
        }
    }

    @Test func wideMergesAreLinear() throws {
        let base = "b: &b {" + (0..<5000).map { "k\($0): \($0)" }.joined(separator: ", ") + "}\n"
        let text = base + "m:\n  <<: [" + Array(repeating: "*b", count: 90).joined(separator: ", ") + "]\n  k1: own\n"
        let clock = ContinuousClock()
        var root: YAMLNode?
        let elapsed = try clock.measure { root = try YAMLParser.parse(text) }
        #expect(elapsed < .seconds(5))
        #expect(root?["m"]?.mapping?.count == 5000)
        #expect(root?["m"]?["k1"]?.string == "own")
    }

    @Test func nestedMergeBombsAreBounded() {
        var text = "b0: &b0 {k: 1}\n"
        for i in 1..<40 { text += "b\(i): &b\(i)\n  <<: [*b\(i - 1), *b\(i - 1)]\n  k\(i): \(i)\n" }
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = try? YAMLParser.parse(text) }
        #expect(elapsed < .seconds(5))
    }

    @Test func theParserSurvivesManyParses() throws {
        // The libyaml parser lives at a stable heap address for its whole life.
        for i in 0..<2000 {
            let root = try YAMLParser.parse("a: [\(i), {b: c}]\nd: |\n  text\n")
            #expect(root?["a"]?.sequence?.first?.int == i)
        }
    }
}
