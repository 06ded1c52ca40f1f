import Foundation
import Providers
import XCTest
import YAML
@testable import Export
import Workflow

/// A parsed YAML/JSON value, comparable across parsers.
indirect enum Tree: Equatable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([Tree])
    case map([String: Tree])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let d = try? container.decode(Double.self) { self = .number(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let l = try? container.decode([Tree].self) { self = .list(l) }
        else { self = .map(try container.decode([String: Tree].self)) }
    }

    /// YAML 1.2 core-schema resolution of plain scalars, as Kubernetes reads them.
    init(_ node: YAMLNode) {
        switch node.kind {
        case .scalar(let scalar):
            if scalar.style == .plain, node.tag == nil {
                if node.isNull { self = .null; return }
                if let b = node.bool { self = .bool(b); return }
                if let d = node.double { self = .number(d); return }
            }
            self = .string(scalar.value)
        case .sequence(let items):
            self = .list(items.map(Tree.init))
        case .mapping(let pairs):
            var map: [String: Tree] = [:]
            for pair in pairs { map[pair.key.string ?? ""] = Tree(pair.value) }
            self = .map(map)
        }
    }

    subscript(key: String) -> Tree? {
        if case .map(let m) = self { return m[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var list: [Tree] { if case .list(let l) = self { return l }; return [] }
    var map: [String: Tree] { if case .map(let m) = self { return m }; return [:] }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d): return "\(d)"
        case .string(let s): return "\"\(s)\""
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.keys.sorted().map { "\($0): \(m[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

enum ExportFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var workflowFiles: [URL] {
        let directory = packageRoot.appendingPathComponent("workflows")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory.appendingPathComponent($0) }
    }

    static var schemaPath: String? {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["ARGO_WORKFLOW_SCHEMA"] { candidates.append(path) }
        candidates.append(packageRoot.appendingPathComponent("../shared/testdata/argo/workflow-schema.json").standardizedFileURL.path)
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Loads workflow text; fails the test with the diagnostics when invalid.
    static func load(_ source: String, file: String = "test.yaml") throws -> Workflow {
        do {
            return try WorkflowLoader.load(source: source, file: file, directory: URL(fileURLWithPath: "/tmp"), registry: BuiltInProviders.registry)
        } catch {
            XCTFail("invalid test workflow:\n\(error.description)")
            throw error
        }
    }

    /// Splits an exported stream into documents and parses each with the
    /// project's own parser (libyaml).
    static func parse(_ stream: String) throws -> [Tree] {
        var documents: [String] = []
        var current = ""
        for line in stream.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "---" {
                documents.append(current)
                current = ""
            } else {
                current += line + "\n"
            }
        }
        documents.append(current)
        return try documents.compactMap { text in try YAMLParser.parse(text).map(Tree.init) }
    }
}

/// Runs scripts/validate_argo.py: Argo's JSON schema plus the checks the
/// script documents; PyYAML reads the stream independently of libyaml here.
enum ArgoValidator {
    struct Result: Decodable {
        struct Problem: Decodable { var document: Int; var kind: String?; var error: String }
        var documents: [Tree]
        var errors: [Problem]
    }

    static func unavailable(_ why: String) throws -> Never {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            XCTFail("Argo schema validation unavailable in CI: \(why)")
            throw XCTSkip(why)
        }
        throw XCTSkip("Argo schema validation unavailable: \(why)")
    }

    /// Validates and fails the test on every problem; also checks that
    /// libyaml and PyYAML read the same values.
    static func validate(_ stream: String, file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let result = try run(stream, file: file, line: line)
        for problem in result.errors {
            XCTFail("document \(problem.document) (\(problem.kind ?? "?")): \(problem.error)", file: file, line: line)
        }
        // Both parsers must read the same values back.
        let ours = try ExportFixtures.parse(stream)
        XCTAssertEqual(ours.count, result.documents.count, "document count", file: file, line: line)
        for (index, (a, b)) in zip(ours, result.documents).enumerated() where a != b {
            XCTFail("document \(index): libyaml and PyYAML disagree:\n\(a)\n\(b)", file: file, line: line)
        }
        return result
    }

    /// The validator's verdict, without failing the test.
    static func run(_ stream: String, file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        guard let schema = ExportFixtures.schemaPath else {
            try unavailable("Argo's workflow-schema.json not found (set ARGO_WORKFLOW_SCHEMA or provide ../shared/testdata/argo/)")
        }
        let script = ExportFixtures.packageRoot.appendingPathComponent("scripts/validate_argo.py").path
        let process = Process()
        // scripts/test points BUCKETFLOW_TEST_PYTHON at a venv when the
        // system python3 lacks PyYAML or jsonschema.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["BUCKETFLOW_TEST_PYTHON"] ?? "python3", script, schema]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // A child that exits early (python3 missing) must not kill the tests
        // with SIGPIPE; the write then just fails.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch { try unavailable("cannot start python3: \(error)") }
        // Write on another thread so a full pipe cannot deadlock.
        let writer = Thread {
            try? input.fileHandleForWriting.write(contentsOf: Data(stream.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationStatus
        if status == 127 { try unavailable("python3 not found") }
        if status == 3 { try unavailable("python3 lacks PyYAML or jsonschema: \(String(decoding: out, as: UTF8.self))") }
        guard status == 0 || status == 1 else {
            XCTFail("validate_argo.py exited \(status): \(String(decoding: err, as: UTF8.self))", file: file, line: line)
            throw XCTSkip("validator crashed")
        }
        return try JSONDecoder().decode(Result.self, from: out)
    }
}

/// Reading the Argo documents back.
struct ArgoDocument {
    var tree: Tree

    var spec: Tree { tree["kind"]?.string == "CronWorkflow" ? tree["spec"]!["workflowSpec"]! : tree["spec"]! }
    var templates: [Tree] { spec["templates"]?.list ?? [] }
    func template(_ name: String) -> Tree? { templates.first { $0["name"]?.string == name } }
    var dag: Tree? { templates.first { $0["dag"] != nil }?["dag"] }
    var tasks: [Tree] { dag?["tasks"]?.list ?? [] }
    func task(_ name: String) -> Tree? { tasks.first { $0["name"]?.string == name } }

    /// Task name -> the step its template runs (from the step annotation).
    var stepOfTask: [String: String] {
        var result: [String: String] = [:]
        for task in tasks {
            guard let name = task["name"]?.string, let template = task["template"]?.string,
                  let step = self.template(template)?["metadata"]?["annotations"]?["bucketflow.dev/step"]?.string else { continue }
            result[name] = step
        }
        return result
    }

    /// (from, to) task edges from `dependencies` or `depends`.
    var edges: Set<[String]> {
        var result: Set<[String]> = []
        let pattern = try! NSRegularExpression(pattern: #"([a-zA-Z0-9][-a-zA-Z0-9]*?)\.[A-Z][a-zA-Z]+"#)
        for task in tasks {
            let name = task["name"]!.string!
            for dependency in task["dependencies"]?.list ?? [] { result.insert([dependency.string!, name]) }
            if let depends = task["depends"]?.string {
                let range = NSRange(depends.startIndex..., in: depends)
                for match in pattern.matches(in: depends, range: range) {
                    result.insert([String(depends[Range(match.range(at: 1), in: depends)!]), name])
                }
            }
        }
        return result
    }
}
