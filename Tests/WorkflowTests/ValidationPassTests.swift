import Foundation
import Providers
import Testing
import YAML
@testable import Workflow

/// Issue 7 item 5 and issue 8 item 1: everything knowable without I/O is
/// reported in one pass, at its own position, and no number or expression
/// can crash the loader.
struct ValidationPassTests {
    func diagnostics(_ source: String) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: source, file: "wf.yaml", directory: URL(fileURLWithPath: "/tmp"), registry: BuiltInProviders.registry)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    func load(_ source: String) throws -> Workflow {
        try WorkflowLoader.load(source: source, file: "wf.yaml", directory: URL(fileURLWithPath: "/tmp"), registry: BuiltInProviders.registry)
    }

    static let header = """
        version: 1
        name: x
        storage:
          disk: {provider: local, root: .}
          s3: {provider: s3, endpoint: "https://s3.example.com"}
          bb: {provider: b2, credentials: creds}
        steps:
          creds: {action: load-credentials, from: ./c.json}

        """

    @Test func everyUnknownKeyOfAStepEvenWhenActionIsMisspelt() {
        let result = diagnostics(Self.header + """
              a:
                acton: list
                att: disk://bkt/
                recursve: true
            """)
        #expect(result == [
            "wf.yaml:9:3: step \"a\" is missing required key \"action\" (one of load-credentials, create-bucket, delete-bucket, create-folder, delete-folder, upload, download, copy, list, inspect, delete)",
            "wf.yaml:10:5: unknown key \"acton\" in step \"a\" (did you mean \"action\"?)",
            "wf.yaml:11:5: unknown key \"att\" in step \"a\" (did you mean \"at\"?)",
            "wf.yaml:12:5: unknown key \"recursve\" in step \"a\" (did you mean \"recursive\"?)",
        ])
    }

    @Test func unknownActionStillChecksTheOtherKeys() {
        let result = diagnostics(Self.header + """
              a:
                action: lsit
                at: disk://bkt/
                neds: [creds]
                timeout: 1e30
            """)
        #expect(result.count == 3)
        #expect(result[0].hasPrefix("wf.yaml:10:13: unknown action \"lsit\" in step \"a\" (did you mean \"list\"?)"))
        #expect(result[1] == "wf.yaml:12:5: unknown key \"neds\" in step \"a\" (did you mean \"needs\"?)")
        #expect(result[2] == "wf.yaml:13:14: `timeout` must be from 0.001 s to 30 days, found \"1e30\"")
    }

    @Test func needsEntriesAreLocatedAtTheEntry() {
        let result = diagnostics(Self.header + """
              a:
                action: list
                at: disk://bkt/
                needs: [creds, cred, a]
              b:
                action: list
                at: disk://bkt/
                needs: crds
            """)
        #expect(result == [
            "wf.yaml:12:20: step \"a\" needs unknown step \"cred\" (did you mean \"creds\"?)",
            "wf.yaml:12:26: step \"a\" needs itself",
            "wf.yaml:16:12: step \"b\" needs unknown step \"crds\" (did you mean \"creds\"?)",
        ])
    }

    @Test func needsOfABrokenStepAreNotReportedTwice() {
        let result = diagnostics(Self.header + """
              a:
                action: lst
              b:
                action: list
                at: disk://bkt/${{ steps.a.outputs.count }}
                needs: [a]
            """)
        #expect(result.count == 1)
        #expect(result.first?.hasPrefix("wf.yaml:10:13: unknown action \"lst\"") == true)
    }

    @Test func literalBucketNamesFollowTheProvidersRules() {
        let result = diagnostics(Self.header + """
              a: {action: list, at: "s3://My_Bucket/x"}
              b: {action: list, at: "bb://b2-reserved/x"}
              c: {action: list, at: "disk://ab/"}
              d: {action: list, at: "s3://10.0.0.1/"}
              e: {action: list, at: "bb://Mixed-Case-OK/x"}
              f: {action: list, at: "s3://fine-name/${{ vars.x }}"}
              g: {action: list, at: "s3://${{ vars.x }}-suffix/k"}
              h: {action: create-bucket, bucket: "s3://UPPER"}
            vars:
              x: y
            """)
        #expect(result.count == 5)
        #expect(result[0].hasPrefix("wf.yaml:9:25: invalid bucket name \"My_Bucket\" in `at` of step \"a\" for storage \"s3\" (provider s3): only lowercase letters, digits, '.' and '-' are allowed;"))
        #expect(result[1].contains("\"b2-reserved\"") && result[1].contains("reserved by Backblaze"))
        #expect(result[2].contains("\"ab\"") && result[2].contains("it has 2 characters, not 3 to 63"))
        #expect(result[3].contains("IP address"))
        #expect(result[4].hasPrefix("wf.yaml:16:38: invalid bucket name \"UPPER\" in `bucket` of step \"h\""))
    }

    @Test func literalEndpointsAreHTTPURLs() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              a: {provider: s3, endpoint: "htp//host"}
              b: {provider: s3, endpoint: "https://host:99999"}
              c: {provider: s3, endpoint: "https://${{ env.HOST }}"}
              d: {provider: b2, credentials: k, endpoint: "https://api.backblazeb2.com"}
            steps:
              k: {action: load-credentials, from: ./c.json}
            """)
        #expect(result == [
            "wf.yaml:4:31: `endpoint` of storage \"a\" must be an http(s) URL such as https://s3.us-west-004.backblazeb2.com: it does not start with https:// or http://, found \"htp//host\"",
            "wf.yaml:5:31: `endpoint` of storage \"b\" must be an http(s) URL such as https://s3.us-west-004.backblazeb2.com: its port \"99999\" is not a number from 1 to 65535, found \"https://host:99999\"",
        ])
    }

    @Test func theNativeB2ProviderIsAccepted() throws {
        let workflow = try load(Self.header + """
              a: {action: list, at: "bb://my-bucket/"}
            """)
        #expect(workflow.storage("bb")?.provider == .b2)
        #expect(workflow.step("a")?.dependencies == ["creds"])
        let missing = diagnostics("version: 1\nname: x\nstorage:\n  bb: {provider: b2}\nsteps:\n  a: {action: list, at: \"bb://my-bucket/\"}\n")
        #expect(missing == ["wf.yaml:4:3: storage \"bb\" (provider b2) is missing required key \"credentials\" (a load-credentials step with key_id and application_key)"])
    }

    @Test func checksumLiteralsHaveTheirShape() {
        let result = diagnostics(Self.header + """
              a:
                action: inspect
                at: disk://bkt/x
                expect: {sha256: abc, md5: 0123456789abcdef0123456789ABCDEF}
              b:
                action: inspect
                at: disk://bkt/x
                expect: {md5: xyz, sha256: "${{ vars.h }}"}
            vars:
              h: "0"
            """)
        #expect(result == [
            "wf.yaml:12:22: `sha256` must be 64 hexadecimal digits, found 3 characters \"abc\"",
            "wf.yaml:16:19: `md5` must be 32 hexadecimal digits, found 3 characters \"xyz\"",
        ])
    }

    @Test func aTabInIndentationSaysTab() {
        let result = diagnostics("version: 1\nname: x\nsteps:\n\ta: {action: list}\n")
        #expect(result == ["wf.yaml:4:1: a tab character is used for indentation; YAML indents with spaces only (replace the tab with spaces)"])
    }

    @Test func everyDuplicateKeyIsReported() {
        let result = diagnostics(Self.header + """
              a:
                action: list
                at: disk://bkt/
                at: disk://bkt/
                recursive: true
                recursive: false
            name: y
            """)
        #expect(result == [
            "wf.yaml:12:5: duplicate key \"at\" (first defined at 11:5)",
            "wf.yaml:14:5: duplicate key \"recursive\" (first defined at 13:5)",
            "wf.yaml:15:1: duplicate key \"name\" (first defined at 2:1)",
        ])
    }

    @Test func numbersAreRangeChecked() {
        let result = diagnostics(Self.header + """
              a:
                action: inspect
                at: disk://bkt/x
                max-parse-size: 9999999999TiB
                expect: {size: .inf, min-size: 1e300, max-size: 2.5}
                retry: {attempts: 1000, backoff: 1e30}
              b:
                action: list
                at: disk://bkt/
                max-keys: 1e19
                timeout: 1e30
            concurrency: 1e19
            """)
        #expect(result == [
            "wf.yaml:12:21: `max-parse-size` must be a whole number of bytes from 1 byte to 1 GiB, found \"9999999999TiB\"",
            "wf.yaml:13:20: `size` must be a whole number of bytes from 0 bytes to 8 PiB, found inf",
            "wf.yaml:13:36: `min-size` must be a whole number of bytes from 0 bytes to 8 PiB, found 1e+300",
            "wf.yaml:13:53: `max-size` must be a whole number of bytes from 0 bytes to 8 PiB, found 2.5",
            "wf.yaml:14:23: `attempts` must be a whole number from 1 to 100, found \"1000\"",
            "wf.yaml:14:38: `backoff` must be from 0 s to 1 day, found \"1e30\"",
            "wf.yaml:18:15: `max-keys` must be a whole number from 1 to 1000000000, found 1e+19",
            "wf.yaml:19:14: `timeout` must be from 0.001 s to 30 days, found \"1e30\"",
            "wf.yaml:20:14: `concurrency` must be a whole number from 1 to 1024, found \"1e19\"",
        ])
    }

    @Test func partSizesFollowS3Limits() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              s3: {provider: s3, endpoint: "https://h", part-size: 100GiB, part-concurrency: 0, multipart-threshold: 8MiB}
            steps:
              a: {action: list, at: "s3://bucket/"}
            """)
        #expect(result == [
            "wf.yaml:4:56: `part-size` of storage \"s3\" must be a whole number of bytes from 5 MiB to 5 GiB, found \"100GiB\"",
            "wf.yaml:4:82: `part-concurrency` of storage \"s3\" must be a whole number from 1 to 64, found 0",
        ])
    }

    @Test func expressionsMayNameTheStorageInListAtAndDownloadFrom() throws {
        let workflow = try load(Self.header + """
              up: {action: create-bucket, bucket: "disk://bucket"}
              ls: {action: list, at: "${{ steps.up.outputs.url }}"}
              dl: {action: download, from: "${{ steps.up.outputs.url }}/k", to: ./out/}
            """)
        #expect(workflow.step("ls")?.dependencies == ["up"])
        #expect(workflow.step("dl")?.dependencies == ["up"])
        let refused = diagnostics(Self.header + """
              rm: {action: delete, at: "${{ vars.x }}/k"}
            vars:
              x: disk://bkt
            """)
        #expect(refused.first?.contains("must start with the storage name written out") == true)
    }

    @Test func theGraphHasWavesComputedOnce() throws {
        let workflow = try load(Self.header + """
              a: {action: list, at: "disk://bkt/"}
              b: {action: list, at: "disk://bkt/", needs: [a]}
              c: {action: list, at: "bb://bucket-one/", needs: [a]}
              d: {action: list, at: "disk://bkt/", needs: [b, c]}
            """)
        #expect(workflow.graph.waves == [["creds", "a"], ["b", "c"], ["d"]])
        #expect(workflow.graph.order.first == "creds")
        #expect(workflow.graph.level["d"] == 2)
        #expect(workflow.graph.dependents["a"] == ["b", "c"])
        #expect(workflow.graph.cycles.isEmpty)
    }

    @Test func aLongChainNeitherOverflowsNorTakesLong() throws {
        var source = "version: 1\nname: x\nstorage:\n  disk: {provider: local, root: .}\nsteps:\n"
        for i in 0..<20_000 { source += "  s\(i): {action: list, at: \"disk://bkt/\"\(i > 0 ? ", needs: [s\(i - 1)]" : "")}\n" }
        let workflow = try load(source)
        #expect(workflow.graph.waves.count == 20_000)
        let cyclic = source + "  s20000: {action: list, at: \"disk://bkt/\", needs: [s19999]}\n"
        let closed = cyclic.replacingOccurrences(of: "  s0: {action: list, at: \"disk://bkt/\"}", with: "  s0: {action: list, at: \"disk://bkt/\", needs: [s20000]}")
        let result = diagnostics(closed)
        #expect(result.count == 1)
        #expect(result.first?.hasPrefix("wf.yaml:6:3: dependency cycle of 20001 steps: \"s0\" needs \"s20000\" needs \"s19999\"") == true)
    }

    @Test func expressionsHaveDepthAndLengthLimits() {
        let parens = diagnostics(Self.header + "  a: {action: list, at: disk://bkt/, if: \"\(String(repeating: "(", count: 1000))true\(String(repeating: ")", count: 1000))\"}\n")
        #expect(parens.count == 1 && parens[0].contains("nests deeper than 64 levels"))
        let bangs = diagnostics(Self.header + "  a: {action: list, at: disk://bkt/, if: \"\(String(repeating: "!", count: 200_000))true\"}\n")
        #expect(bangs.count == 1 && bangs[0].contains("the limit is 4096"))
        let chain = diagnostics(Self.header + "  a: {action: list, at: disk://bkt/, if: \"\(Array(repeating: "true", count: 600).joined(separator: "&&"))\"}\n")
        #expect(chain.count == 1 && chain[0].contains("levels of operators"))
    }

    @Test func hugeIdentifiersCostNothing() {
        let long = String(repeating: "k", count: 1 << 20)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            let result = diagnostics(Self.header + "  a: {action: list, at: \"disk://bkt/${{ vars.\(long) }}\", needs: [\(long)]}\n")
            #expect(result.count == 2)
            #expect(result.allSatisfy { $0.count < 400 })
        }
        #expect(elapsed < .seconds(2))
        #expect(Suggestions.closest(to: long, in: ["action"]) == nil)
    }
}

/// YAML 1.2 core-schema floats are recognised without a regular expression
/// (it ran for every plain scalar); the same texts are numbers as before.
struct DecimalScalarTests {
    @Test func floatsAreRecognisedAsTheRegularExpressionDid() {
        let pattern = #"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"#
        let texts = [
            "0", "1", "-1", "+1", "1.", ".5", "-.5", "+.5e3", "1.5", "1e3", "1E+3", "1e-3", "1.5e", "1e", "e3", ".", "-", "+",
            "1.2.3", "1..2", "--1", "1e3.5", "0x10", "0o7", "1_000", "١٢", "12a", "a12", "1 ", " 1", "1e+", ".e1", "00.10", "9" + String(repeating: "9", count: 400),
        ]
        for text in texts {
            // Texts YAML reads as something else ("-" starts a list) are not scalars to test.
            guard let node = (try? YAMLParser.parse("v: \(text)"))??["v"], node.scalar?.style == .plain, node.string == text else { continue }
            let expected: Double? = node.int.map(Double.init) ?? {
                switch text {
                case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
                case "-.inf", "-.Inf", "-.INF": return -.infinity
                default: return text.range(of: pattern, options: .regularExpression) != nil ? Double(text) : nil
                }
            }()
            #expect(node.double == expected, "\(text)")
        }
    }
}
