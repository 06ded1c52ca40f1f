import Foundation
import Providers
import Testing
import Workflow

@Suite struct GraphCommandTests {
    static let workflows = ["daily-exports", "origin-local", "backblaze-s3", "s3-sample", "failure-handling"]

    /// Every (from, to) of the workflow's resolved dependencies.
    func expectedEdges(_ tree: ExampleTree, _ name: String) throws -> Set<[String]> {
        let workflow = try WorkflowLoader.load(path: tree.url("workflows/\(name).yaml").path, registry: BuiltInProviders.registry)
        return Set(workflow.steps.flatMap { step in step.dependencies.map { [$0, step.id] } })
    }

    @Test(arguments: workflows) func textListsEveryDependency(_ name: String) throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["graph", "workflows/\(name).yaml", "--format", "text"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        let edgeLines = result.stdout.split(separator: "\n").drop { $0 != "edges:" }.dropFirst()
        var edges: [[String]] = []
        for line in edgeLines {
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            #expect(parts.count == 4 && parts[1] == "->", "bad edge line \(line)")
            edges.append([String(parts[0]), String(parts[2])])
        }
        #expect(edges.count == Set(edges.map { $0 }).count)
        #expect(Set(edges) == (try expectedEdges(tree, name)))
    }

    @Test func impliedEdgesAreLabelled() throws {
        let tree = try ExampleTree()
        // backblaze-s3: `check` refers to steps.upload.outputs.url; every b2:// step uses creds.
        let text = try CLI.run(["graph", "workflows/backblaze-s3.yaml"], in: tree.root).stdout
        #expect(text.contains("  upload -> check (reference)\n"))
        #expect(text.contains("  creds -> bucket (credentials)\n"))
        #expect(text.contains("  bucket -> upload (needs)\n"))
        // daily-exports: fetch's `if:` refers to listing and manifest.
        let daily = try CLI.run(["graph", "workflows/daily-exports.yaml"], in: tree.root).stdout
        #expect(daily.contains("  listing -> fetch (reference)\n"))
        #expect(daily.contains("  manifest -> fetch (reference)\n"))
        #expect(daily.contains("  summary -> fetch (needs)\n"))
    }

    /// The Mermaid subset the command writes: front matter, `flowchart LR`,
    /// quoted node labels, and three arrow kinds between declared nodes.
    @Test(arguments: workflows) func mermaidIsValidAndComplete(_ name: String) throws {
        let tree = try ExampleTree()
        let workflow = try WorkflowLoader.load(path: tree.url("workflows/\(name).yaml").path, registry: BuiltInProviders.registry)
        let result = try CLI.run(["graph", "workflows/\(name).yaml", "--format", "mermaid"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(4)) == ["---", "title: \"\(workflow.name)\"", "---", "flowchart LR"])
        #expect(lines.last == "")
        let node = try Regex(#"^  (s[0-9]+)\["([^"\[\]]*)"\]$"#)
        let edge = try Regex(#"^  (s[0-9]+) (-->|-\.->\|reference\||==>\|credentials\|) (s[0-9]+)$"#)
        var labels: [String: String] = [:]
        var edges: Set<[String]> = []
        for line in lines.dropFirst(4).dropLast() {
            if let match = line.wholeMatch(of: node) {
                let id = String(match.output[1].substring!), label = String(match.output[2].substring!)
                labels[id] = String(label.prefix { $0 != "<" })
            } else if let match = line.wholeMatch(of: edge) {
                let from = try #require(labels[String(match.output[1].substring!)], "edge from an undeclared node: \(line)")
                let to = try #require(labels[String(match.output[3].substring!)], "edge to an undeclared node: \(line)")
                edges.insert([from, to])
            } else {
                Issue.record("not valid in the flowchart: \(line)")
            }
        }
        #expect(Set(labels.values) == Set(workflow.steps.map(\.id)))
        #expect(edges == (try expectedEdges(tree, name)))
    }

    @Test(arguments: workflows) func dotIsValidAndComplete(_ name: String) throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["graph", "workflows/\(name).yaml", "--format", "dot"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        let edge = try Regex(#"^  "([^"]+)" -> "([^"]+)"( \[style=(dashed|bold), label="(reference|credentials)"\])?;$"#)
        var edges: Set<[String]> = []
        for line in result.stdout.split(separator: "\n").map(String.init) {
            if let match = line.wholeMatch(of: edge) { edges.insert([String(match.output[1].substring!), String(match.output[2].substring!)]) }
        }
        #expect(edges == (try expectedEdges(tree, name)))
        #expect(result.stdout.hasPrefix("digraph \""))
        #expect(result.stdout.hasSuffix("}\n"))
        // Graphviz itself, when installed, must accept it.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") {
            try Data(result.stdout.utf8).write(to: tree.url("graph.dot"))
            let dot = try CLI.runTool("/usr/bin/dot", ["-Tsvg", "-o", tree.url("graph.svg").path, tree.url("graph.dot").path], in: tree.root)
            #expect(dot.status == 0, "\(dot.stderr)")
            #expect(dot.stderr.isEmpty, "\(dot.stderr)")
            let svg = try String(contentsOf: tree.url("graph.svg"), encoding: .utf8)
            #expect(svg.components(separatedBy: "class=\"edge\"").count - 1 == edges.count)
        }
    }

    @Test func invalidWorkflowPrintsFileLineColumnAndExits2() throws {
        let tree = try ExampleTree()
        try Data("version: 1\nname: x\nsteps:\n  a:\n    action: list\n    at: disk://b/\n    needs: [nope]\n".utf8).write(to: tree.url("bad.yaml"))
        let result = try CLI.run(["graph", "bad.yaml", "--format", "mermaid"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(try Regex(#"^bad\.yaml:[0-9]+:[0-9]+: .+"#).wholeMatch(in: first) != nil, "\(result.stderr)")
        let missing = try CLI.run(["graph", "missing.yaml"], in: tree.root)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing.yaml"))
    }
}

extension CLI {
    /// Runs another program (graphviz, python) and captures its output.
    static func runTool(_ path: String, _ arguments: [String], in directory: URL, environment: [String: String]? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return finish(process, out, err)
    }
}
