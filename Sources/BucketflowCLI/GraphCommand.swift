import ArgumentParser
import Foundation
import Workflow
import Executor

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a workflow's step graph as Mermaid, Graphviz DOT or text.",
        discussion: """
            Every edge is shown: `needs:` (solid), a reference to another step's outputs or \
            status (`${{ steps.ID... }}` in a parameter or `if:`; dotted, "reference") and the \
            load-credentials step of a storage a step uses (bold, "credentials").

              bucketflow graph workflows/daily-exports.yaml --format mermaid
              bucketflow graph workflows/daily-exports.yaml --format dot | dot -Tsvg > graph.svg

            Exit codes: 0 printed, 2 invalid workflow (FILE:LINE:COL: message on stderr).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mermaid, dot, text
    }

    @Argument(help: "The workflow file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(help: "mermaid, dot or text.")
    var format: Format = .text

    func run() throws {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(path: file) } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
        let graph = StepEdges(workflow)
        let text: String
        switch format {
        case .mermaid: text = graph.mermaid()
        case .dot: text = graph.dot()
        case .text: text = graph.text()
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// The edges of a workflow's step graph, each with why it exists.
struct StepEdges {
    enum Kind: String {
        /// Written in `needs:`.
        case needs
        /// Implied by `${{ steps.ID... }}` in a parameter or `if:`.
        case reference
        /// The load-credentials step of a storage the step uses.
        case credentials
    }

    struct Edge: Hashable {
        var from: String
        var to: String
        var kind: Kind
    }

    let workflow: Workflow
    /// In step order; within a step, in the order of `step.dependencies`.
    let edges: [Edge]

    init(_ workflow: Workflow) {
        self.workflow = workflow
        let credentialSteps = Set(workflow.storages.compactMap(\.credentials))
        var edges: [Edge] = []
        for step in workflow.steps {
            for dependency in step.dependencies {
                let kind: Kind
                if step.explicitNeeds.contains(dependency) { kind = .needs }
                else if credentialSteps.contains(dependency) && !Self.references(step, dependency) { kind = .credentials }
                else { kind = .reference }
                edges.append(Edge(from: dependency, to: step.id, kind: kind))
            }
        }
        self.edges = edges
    }

    /// Whether `step` names `${{ steps.ID... }}` in a parameter or its `if:`.
    static func references(_ step: Step, _ id: String) -> Bool {
        if let condition = step.condition, condition.expression.references.contains(where: { $0.path.count > 1 && $0.path[0] == "steps" && $0.path[1] == id }) {
            return true
        }
        for value in step.parameters.values {
            for template in value.templates {
                for part in template.expressions where part.expression.references.contains(where: { $0.path.count > 1 && $0.path[0] == "steps" && $0.path[1] == id }) {
                    return true
                }
            }
        }
        return false
    }

    /// Mermaid flowchart: node ids are s0, s1… (step ids may hold characters
    /// Mermaid reads as syntax); labels are quoted with `"` as `#quot;`.
    func mermaid() -> String {
        var index: [String: String] = [:]
        for (i, step) in workflow.steps.enumerated() { index[step.id] = "s\(i)" }
        func label(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "#amp;").replacingOccurrences(of: "\"", with: "#quot;")
                .replacingOccurrences(of: "<", with: "#lt;").replacingOccurrences(of: ">", with: "#gt;")
        }
        var lines = ["---", "title: \"\(label(workflow.name))\"", "---", "flowchart LR"]
        for step in workflow.steps {
            lines.append("  \(index[step.id]!)[\"\(label(step.id))<br/><small>\(label(step.action.rawValue))</small>\"]")
        }
        for edge in edges {
            guard let from = index[edge.from], let to = index[edge.to] else { continue }
            switch edge.kind {
            case .needs: lines.append("  \(from) --> \(to)")
            case .reference: lines.append("  \(from) -.->|reference| \(to)")
            case .credentials: lines.append("  \(from) ==>|credentials| \(to)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Graphviz DOT: every id is a quoted string (`"` and `\` escaped).
    func dot() -> String {
        func quote(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var lines = ["digraph \(quote(workflow.name)) {", "  rankdir=LR;", "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"]
        for step in workflow.steps {
            lines.append("  \(quote(step.id)) [label=\(quote(step.id + "\n" + step.action.rawValue))];")
        }
        for edge in edges {
            switch edge.kind {
            case .needs: lines.append("  \(quote(edge.from)) -> \(quote(edge.to));")
            case .reference: lines.append("  \(quote(edge.from)) -> \(quote(edge.to)) [style=dashed, label=\"reference\"];")
            case .credentials: lines.append("  \(quote(edge.from)) -> \(quote(edge.to)) [style=bold, label=\"credentials\"];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line per step with what it waits for, then one per edge.
    func text() -> String {
        var lines = ["\(workflow.name): \(plural(workflow.steps.count, "step")), \(edges.count) edge\(edges.count == 1 ? "" : "s")"]
        for step in workflow.steps {
            let incoming = edges.filter { $0.to == step.id }
            let after = incoming.isEmpty ? "" : " after " + incoming.map { $0.kind == .needs ? $0.from : "\($0.from) (\($0.kind.rawValue))" }.joined(separator: ", ")
            lines.append("  \(step.id) [\(step.action.rawValue)]\(after)")
        }
        if !edges.isEmpty {
            lines.append("edges:")
            for edge in edges { lines.append("  \(edge.from) -> \(edge.to) (\(edge.kind.rawValue))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
