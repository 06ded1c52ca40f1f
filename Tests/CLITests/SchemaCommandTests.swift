import Foundation
import Testing

/// `bucketflow schema`: the JSON Schema editors use accepts every example
/// workflow and rejects the structurally invalid files of the hostile corpus
/// (checked with Python's jsonschema, an independent validator).
@Suite struct SchemaCommandTests {
    static var python: String {
        ProcessInfo.processInfo.environment["BUCKETFLOW_TEST_PYTHON"] ?? "/usr/bin/env python3"
    }

    static let havePython: Bool = {
        let parts = python.split(separator: " ").map(String.init)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: parts[0])
        process.arguments = Array(parts.dropFirst()) + ["-c", "import jsonschema, yaml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Files whose problem is shape (keys, types, ranges): the schema must reject them.
    static let structural = ["type-", "unknown-action-name", "unknown-acton", "unknown-choice", "unknown-expectation", "unknown-key-with-action",
                             "unknown-provider", "unknown-storage-key", "unknown-top-level", "concurrency-", "keep-", "retry-attempts-",
                             "retry-unknown-key", "retry-bare-", "max-keys-", "checksum-", "version-huge", "max-attempts-", "part-concurrency-"]

    @Test func pythonIsThereInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil { #expect(Self.havePython, "CI must check the schema: scripts/test provides jsonschema and PyYAML") }
    }

    @Test(.enabled(if: havePython, "python3 with jsonschema and PyYAML is needed"))
    func theSchemaAcceptsTheExamplesAndRejectsTheStructurallyInvalidCorpus() throws {
        let tree = try ExampleTree()
        let printed = try CLI.run(["schema"], in: tree.root)
        #expect(printed.status == 0)
        try Data(printed.stdout.utf8).write(to: tree.url("schema.json"))
        let schema = try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as! [String: Any]
        #expect(schema["$schema"] as? String == "http://json-schema.org/draft-07/schema#")

        let examples = try FileManager.default.contentsOfDirectory(atPath: tree.url("workflows").path).filter { $0.hasSuffix(".yaml") }.map { "workflows/\($0)" }
        let corpusDirectory = CLI.packageRoot.appendingPathComponent("Tests/Fixtures/hostile")
        let corpus = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)
            .filter { name in name.hasSuffix(".yaml") && Self.structural.contains { name.hasPrefix($0) } }
            .map { corpusDirectory.appendingPathComponent($0).path }
        #expect(examples.count >= 5 && corpus.count >= 60)
        let parts = Self.python.split(separator: " ").map(String.init)
        let result = try CLI.run(parts + [CLI.packageRoot.appendingPathComponent("scripts/validate_schema.py").path, "schema.json"] + examples + corpus,
                                 in: tree.root, viaShell: true)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        var verdicts: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 1)
            guard words.count == 2 else { continue }
            let path = words[1].split(separator: ":").first.map(String.init) ?? ""
            verdicts[path] = String(words[0])
        }
        for example in examples { #expect(verdicts[example] == "valid", "\(example): \(verdicts[example] ?? "?")") }
        for file in corpus {
            let verdict = verdicts[file] ?? "?"
            // PyYAML refuses some hostile files itself; the rest must fail the schema.
            #expect(verdict == "invalid" || verdict == "unreadable", "the schema accepts \(file)")
        }
        #expect(corpus.filter { verdicts[$0] == "invalid" }.count >= 60)
    }
}
