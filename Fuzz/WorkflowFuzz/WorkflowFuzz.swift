// libFuzzer entry point over the workflow loader, validator and evaluator.
//
// Not part of the normal build: the target exists only when BUCKETFLOW_FUZZ
// is set (see the end of Package.swift); build and run it with
// `scripts/fuzz SECONDS`.
import Foundation
import Workflow
import YAML
import CFuzzDriver

/// The executable's entry point (SwiftPM links `main` to MODULE_main):
/// hands over to libFuzzer's driver.
@_cdecl("bucketflow_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzzWorkflow(data, size)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkflow(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let text = String(data: data, encoding: .utf8) else { return 0 }
    // The input as a template too, evaluated against a context with data in
    // it: expressions reach the evaluator even when the YAML around them
    // does not validate.
    if count <= 8192, let template = try? Template(parsing: text, mark: YAMLMark(line: 1, column: 1)) {
        let context = EvaluationContext(
            vars: ["a": "1", "b": "{0}{0}{0}{0}", "list": "[1,2]"], env: ["HOME": "/home/fuzz"], run: ["date": "2026-11-28"],
            outputs: ["s": ["keys": .list([.string("a"), .string("b")]), "count": .number(2), "json": .object(["x": .number(1e300)])]],
            statuses: ["s": "succeeded"], cancelled: count % 2 == 0)
        _ = try? Evaluator.render(template, in: context)
        for part in template.expressions { _ = part.expression.height }
    }
    let directory = URL(fileURLWithPath: "/nonexistent-fuzz-dir")
    let workflow: Workflow
    do {
        workflow = try WorkflowLoader.load(source: text, file: "fuzz.yaml", directory: directory)
    } catch {
        // Every diagnostic is located and says something.
        precondition(!error.diagnostics.isEmpty, "a WorkflowError without diagnostics")
        for diagnostic in error.diagnostics {
            precondition(diagnostic.mark.line >= 1 && diagnostic.mark.column >= 1, "unlocated: \(diagnostic)")
            precondition(!diagnostic.message.isEmpty, "empty message at \(diagnostic.mark)")
        }
        return 0
    }
    // A valid workflow: evaluate what a run or a plan would evaluate.
    _ = workflow.graph.waves
    var context = EvaluationContext(env: ["HOME": "/home/fuzz"], run: [
        "id": "r1", "date": "2026-11-28", "time": "07:00:00", "timestamp": "20261128T070000Z",
        "started-at": "2026-11-28T07:00:00Z", "workflow": workflow.name,
    ])
    for variable in workflow.vars {
        if let value = try? Evaluator.render(variable.value, in: context) { context.vars[variable.name] = value }
    }
    context.planning = true
    for step in workflow.steps {
        for value in step.parameters.values { _ = try? Evaluator.resolve(value, in: context) }
        if let condition = step.condition { _ = try? Evaluator.condition(condition, in: context) }
    }
    return 0
}
