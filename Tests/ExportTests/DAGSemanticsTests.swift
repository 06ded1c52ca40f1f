import XCTest
@testable import Export
import Workflow

/// Plays the exported DAG the way Argo schedules it, with each pod doing what
/// `bucketflow run --only` does (read the needs' recorded outcomes, evaluate
/// `if:`, run or skip, record), and compares every step's outcome with what a
/// single `bucketflow run` gives — for every combination of failing steps.
final class DAGSemanticsTests: XCTestCase {
    enum Outcome: String { case succeeded, failed, skipped }
    enum Phase: String { case Succeeded, Failed, Errored, Skipped, Omitted, Daemoned }

    /// bucketflow's scheduler, for conditions made of success(), failure(),
    /// always() and output comparisons (implicitly gated on success()).
    static func decide(_ step: Step, outcomes: [String: Outcome], workflow: Workflow) -> Bool? {
        for need in step.dependencies where outcomes[need] == nil { return nil }  // a need not recorded
        let needsOK = step.dependencies.allSatisfy { need in
            outcomes[need] == .succeeded || (outcomes[need] == .failed && workflow.step(need)!.continueOnError)
        }
        func upstreamFailed() -> Bool {
            var seen: Set<String> = []
            var stack = step.dependencies
            while let next = stack.popLast() {
                guard seen.insert(next).inserted else { continue }
                if outcomes[next] == .failed && !workflow.step(next)!.continueOnError { return true }
                stack += workflow.step(next)!.dependencies
            }
            return false
        }
        guard let condition = step.condition else { return needsOK }
        switch condition.expression {
        case .call("always", [], _): return true
        case .call("failure", [], _): return upstreamFailed()
        case .call("success", [], _): return needsOK
        default:
            precondition(!StepGraph.isStatusSensitive(step), "model handles plain status calls only")
            return needsOK  // the comparison itself is taken as true
        }
    }

    static func singleRun(_ workflow: Workflow, failing: Set<String>) -> [String: Outcome] {
        var outcomes: [String: Outcome] = [:]
        while outcomes.count < workflow.steps.count {
            for step in workflow.steps where outcomes[step.id] == nil {
                guard let run = decide(step, outcomes: outcomes, workflow: workflow) else { continue }
                outcomes[step.id] = run ? (failing.contains(step.id) ? .failed : .succeeded) : .skipped
            }
        }
        return outcomes
    }

    /// Argo: a task starts when its depends logic holds, else it is Omitted.
    static func argoRun(_ document: ArgoDocument, _ workflow: Workflow, failing: Set<String>) throws -> (outcomes: [String: Outcome], missing: [String]) {
        let stepOfTask = document.stepOfTask
        var phases: [String: Phase] = [:]
        var recorded: [String: Outcome] = [:]   // per step; shards record the same
        var missing: [String] = []
        let tasks = document.tasks
        let continueOn = Set(tasks.filter { $0["continueOn"]?["failed"] == .bool(true) }.compactMap { $0["name"]?.string })
        while phases.count < tasks.count {
            var progressed = false
            for task in tasks {
                let name = task["name"]!.string!
                guard phases[name] == nil else { continue }
                let logic: String
                if let depends = task["depends"]?.string {
                    logic = depends
                } else {
                    logic = task["dependencies"]?.list.compactMap(\.string).map { dependency in
                        "(\(dependency).Succeeded || \(dependency).Skipped || \(dependency).Daemoned"
                            + (continueOn.contains(dependency) ? " || \(dependency).Failed)" : ")")
                    }.joined(separator: " && ") ?? ""
                }
                var expression = DependsExpression(logic)
                guard let holds = try expression.evaluate(phases) else { continue }  // a dependency still running
                progressed = true
                guard holds else { phases[name] = .Omitted; continue }
                let step = workflow.step(stepOfTask[name]!)!
                // The pod: bucketflow run --only STEP.
                guard let run = decide(step, outcomes: recorded, workflow: workflow) else {
                    missing.append(step.id)
                    phases[name] = .Failed
                    continue
                }
                let outcome: Outcome = run ? (failing.contains(step.id) ? .failed : .succeeded) : .skipped
                recorded[step.id] = outcome
                phases[name] = outcome == .failed ? .Failed : .Succeeded
            }
            if !progressed { throw XCTSkip("DAG made no progress: \(phases)") }
        }
        // A step whose tasks were all omitted is what bucketflow calls skipped.
        for step in workflow.steps where recorded[step.id] == nil { recorded[step.id] = .skipped }
        return (recorded, missing)
    }

    func check(_ source: String, sharded: [String: Int] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
        let workflow = try ExportFixtures.load(source)
        var options = ExportOptions()
        options.shards = sharded
        let stream = try ArgoExporter.export(workflow, source: source, fileName: "w.yaml", options: options)
        let document = ArgoDocument(tree: try ExportFixtures.parse(stream)[1])
        let ids = workflow.steps.map(\.id)
        XCTAssertLessThanOrEqual(ids.count, 12, "2^n combinations", file: file, line: line)
        for mask in 0..<(1 << ids.count) {
            let failing = Set(ids.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
            let expected = Self.singleRun(workflow, failing: failing)
            let (actual, missing) = try Self.argoRun(document, workflow, failing: failing)
            XCTAssertEqual(missing, [], "failing \(failing.sorted()): --only found needs without a recorded outcome", file: file, line: line)
            XCTAssertEqual(actual, expected, "failing \(failing.sorted())", file: file, line: line)
        }
    }

    func testFailureHandlingExample() throws {
        let url = ExportFixtures.packageRoot.appendingPathComponent("workflows/failure-handling.yaml")
        try check(try String(contentsOf: url, encoding: .utf8))
    }

    func testEveryExample() throws {
        for url in ExportFixtures.workflowFiles {
            try check(try String(contentsOf: url, encoding: .utf8))
        }
    }

    func testMixedConditionsContinueOnErrorAndShards() throws {
        try check("""
            version: 1
            name: mixed
            storage:
              disk: { provider: local, root: buckets }
            steps:
              a: { action: create-bucket, bucket: "disk://bkt" }
              b: { action: upload, needs: a, from: f/, to: "disk://bkt/x/", continue-on-error: true }
              c: { action: list, needs: b, at: "disk://bkt" }
              d: { action: list, needs: c, at: "disk://bkt", if: "steps.c.outputs.count > 0" }
              e: { action: delete-folder, needs: [d], at: "disk://bkt/tmp/", if: failure() }
              f: { action: list, needs: [a], at: "disk://bkt" }
              g: { action: list, needs: [f, b], at: "disk://bkt", if: always() }
              h: { action: list, needs: [g], at: "disk://bkt" }
              i: { action: list, at: "disk://bkt" }
              j: { action: list, needs: [i, h], at: "disk://bkt", if: success() }
              k: { action: list, needs: [b], at: "disk://bkt" }
            """, sharded: ["b": 2])
    }

    func testPlainDependenciesWithContinueOnError() throws {
        try check("""
            version: 1
            name: plain
            storage:
              disk: { provider: local, root: buckets }
            steps:
              a: { action: create-bucket, bucket: "disk://bkt" }
              b: { action: list, needs: a, at: "disk://bkt", continue-on-error: true }
              c: { action: copy, needs: b, from: "disk://bkt/x/", to: "disk://bkt/y/" }
              d: { action: list, needs: [c, a], at: "disk://bkt", if: "steps.a.outputs.created" }
              e: { action: list, at: "disk://bkt", continue-on-error: true }
              f: { action: list, needs: [e, d], at: "disk://bkt" }
            """, sharded: ["c": 3])
    }
}

/// Argo's `depends` logic: `task.Result` operands, `&&`, `||`, `!`, parentheses.
struct DependsExpression {
    var tokens: [String]
    var position = 0

    init(_ text: String) {
        var tokens: [String] = []
        var current = ""
        for c in text {
            if c == " " { if !current.isEmpty { tokens.append(current); current = "" }; continue }
            if "()!".contains(c) {
                if !current.isEmpty { tokens.append(current); current = "" }
                tokens.append(String(c))
            } else if c == "&" || c == "|" {
                if !current.isEmpty, current.last != c { tokens.append(current); current = "" }
                current.append(c)
            } else {
                if current == "&&" || current == "||" { tokens.append(current); current = "" }
                current.append(c)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        self.tokens = tokens
    }

    /// nil while a task it names has no phase yet; true when empty.
    mutating func evaluate(_ phases: [String: DAGSemanticsTests.Phase]) throws -> Bool? {
        guard !tokens.isEmpty else { return true }
        position = 0
        let value = try or(phases)
        guard position == tokens.count else { throw ExportError("trailing tokens in \(tokens)") }
        return value
    }

    private mutating func or(_ phases: [String: DAGSemanticsTests.Phase]) throws -> Bool? {
        var value = try and(phases)
        while position < tokens.count, tokens[position] == "||" {
            position += 1
            let right = try and(phases)
            value = (value == true || right == true) ? true : (value == nil || right == nil ? nil : false)
        }
        return value
    }

    private mutating func and(_ phases: [String: DAGSemanticsTests.Phase]) throws -> Bool? {
        var value = try unary(phases)
        while position < tokens.count, tokens[position] == "&&" {
            position += 1
            let right = try unary(phases)
            value = (value == false || right == false) ? false : (value == nil || right == nil ? nil : true)
        }
        return value
    }

    private mutating func unary(_ phases: [String: DAGSemanticsTests.Phase]) throws -> Bool? {
        guard position < tokens.count else { throw ExportError("unexpected end in \(tokens)") }
        let token = tokens[position]
        position += 1
        if token == "!" { return try unary(phases).map { !$0 } }
        if token == "(" {
            let value = try or(phases)
            guard position < tokens.count, tokens[position] == ")" else { throw ExportError("missing ) in \(tokens)") }
            position += 1
            return value
        }
        guard let dot = token.lastIndex(of: "."), let result = DAGSemanticsTests.Phase(rawValue: String(token[token.index(after: dot)...])) else {
            throw ExportError("operand without a known result: \(token)")
        }
        // Argo waits until every task named in the logic has completed.
        guard let phase = phases[String(token[..<dot])] else { return nil }
        return phase == result
    }
}
