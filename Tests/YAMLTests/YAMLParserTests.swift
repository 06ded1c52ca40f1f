import Testing
@testable import YAML

struct YAMLParserTests {
    func parse(_ text: String) throws -> YAMLNode {
        try #require(try YAMLParser.parse(text))
    }

    func error(_ text: String) -> YAMLError? {
        do { _ = try YAMLParser.parse(text); return nil } catch { return error }
    }

    @Test func everyNodeKeepsItsOneBasedPosition() throws {
        let root = try parse("""
            name: demo
            steps:
              up:
                needs: [a, "b"]
                from: 'x'
            """)
        #expect(root.mark == YAMLMark(line: 1, column: 1))
        let pairs = try #require(root.mapping)
        #expect(pairs[0].key.mark == YAMLMark(line: 1, column: 1))
        #expect(pairs[0].value.mark == YAMLMark(line: 1, column: 7))
        let up = try #require(root["steps"]?["up"])
        #expect(up.mark == YAMLMark(line: 4, column: 5))
        let needs = try #require(up["needs"]?.sequence)
        #expect(needs.map(\.mark) == [YAMLMark(line: 4, column: 13), YAMLMark(line: 4, column: 16)])
        #expect(needs[1].scalar?.style == .doubleQuoted)
        #expect(up["from"]?.scalar == YAMLScalar(value: "x", style: .singleQuoted))
    }

    @Test func duplicateKeysAreErrorsAtTheSecondKey() {
        #expect(error("a: 1\nb: 2\na: 3\n") == YAMLError(message: "duplicate key \"a\" (first defined at 1:1)", mark: YAMLMark(line: 3, column: 1)))
    }

    @Test func syntaxErrorsCarryLibyamlsProblemAndPosition() {
        #expect(error("a: b: c\n") == YAMLError(message: "mapping values are not allowed in this context", mark: YAMLMark(line: 1, column: 5)))
        #expect(error("a: \"open\n") == YAMLError(message: "found unexpected end of stream (while scanning a quoted scalar at 1:4)", mark: YAMLMark(line: 2, column: 1)))
        #expect(error("a:\n\t- b\n") == YAMLError(message: "a tab character is used for indentation; YAML indents with spaces only (replace the tab with spaces)", mark: YAMLMark(line: 2, column: 1)))
        #expect(error("- a\n b: c\n")?.mark.line == 2)
    }

    @Test func anchorsAliasesAndMergeKeys() throws {
        let root = try parse("""
            base: &base {region: us-west-004, retries: 3}
            copy: *base
            merged:
              <<: *base
              retries: 5
            """)
        #expect(root["copy"]?["region"]?.string == "us-west-004")
        #expect(root["copy"]?.mark == YAMLMark(line: 2, column: 7))
        #expect(root["merged"]?["retries"]?.int == 5)
        #expect(root["merged"]?["region"]?.string == "us-west-004")
        #expect(root["merged"]?.mapping?.count == 2)
        #expect(error("a: *nope\n") == YAMLError(message: "unknown alias \"nope\"", mark: YAMLMark(line: 1, column: 4)))
    }

    @Test func aliasBombsAreRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect(error(text)?.message.contains("more than 1000000 nodes") == true)
    }

    @Test func scalarsFollowTheCoreSchemaOnlyWhenPlain() throws {
        let root = try parse("""
            t: true
            q: "true"
            n: ~
            e:
            i: 010
            h: 0x1F
            f: 1e3
            s: !!str 12
            """)
        #expect(root["t"]?.bool == true)
        #expect(root["q"]?.bool == nil)
        #expect(root["q"]?.kindName == "string")
        #expect(root["n"]?.isNull == true)
        #expect(root["e"]?.isNull == true)
        #expect(root["i"]?.int == 10)
        #expect(root["h"]?.int == 31)
        #expect(root["f"]?.double == 1000)
        #expect(root["s"]?.int == nil)
        #expect(root["s"]?.string == "12")
    }

    @Test func emptyAndCommentOnlyStreamsHaveNoDocument() throws {
        #expect(try YAMLParser.parse("") == nil)
        #expect(try YAMLParser.parse("# only a comment\n") == nil)
    }

    @Test func onlyOneDocument() {
        #expect(error("a: 1\n---\nb: 2\n") == YAMLError(message: "expected a single YAML document", mark: YAMLMark(line: 2, column: 1)))
    }

    @Test func unicodeColumnsCountCharacters() throws {
        let root = try parse("ключ: значение\nk: \"日本語\"\n")
        #expect(root["ключ"]?.mark == YAMLMark(line: 1, column: 7))
        #expect(root["k"]?.string == "日本語")
    }

    @Test func crlfAndBOMAreAccepted() throws {
        let root = try parse("\u{FEFF}a: 1\r\nb: 2\r\n")
        #expect(root["b"]?.int == 2)
        #expect(root["b"]?.mark == YAMLMark(line: 2, column: 4))
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect(error(text)?.message == "the document nests deeper than 512 levels")
    }
}
