public import Workflow

/// The Argo DAG derived from a workflow: task names, shards, and for every
/// task the tasks it waits for and under which results.
public struct StepGraph: Sendable {
    /// One Argo task.
    public struct Task: Sendable, Hashable {
        public var name: String
        /// The step it runs.
        public var step: String
        /// `K/N` when the step is sharded.
        public var shard: ShardAssignment?
        /// The tasks it waits for.
        public var dependencies: [String]
    }

    /// Tasks in the workflow's step order (shards in order).
    public var tasks: [Task]
    /// The task name(s) of each step.
    public var tasksOfStep: [String: [String]]
    /// The Argo template name of each step.
    public var templateOfStep: [String: String]
    /// Steps whose `if:` may let them run after a need failed (uses
    /// `failure()`, `always()`, `cancelled()`, or `success()` inside a larger
    /// expression).
    public var statusSensitive: Set<String>
    /// Steps whose task must run whatever its needs' results were: the
    /// status-sensitive ones and every step upstream of them, so each of
    /// those records an outcome (if only "skipped") that later `--only` runs
    /// can read.
    public var runsRegardless: Set<String>

    /// When any step is status-sensitive the DAG uses `depends` (results)
    /// instead of `dependencies`; Argo allows only one of them per DAG, and
    /// no `continueOn` with `depends`.
    public var usesDepends: Bool { !statusSensitive.isEmpty }

    public init(workflow: Workflow, shardOverrides: [String: Int] = [:]) throws(ExportError) {
        var used: Set<String> = []
        var tasks: [Task] = []
        var tasksOfStep: [String: [String]] = [:]
        var templateOfStep: [String: String] = [:]
        var counts: [String: Int] = [:]
        for step in workflow.steps {
            let count = try Self.shardCount(of: step, override: shardOverrides[step.id])
            counts[step.id] = count
            var base = KubernetesNames.argoField(step.id)
            func names(_ base: String) -> [String] {
                count > 1 ? (1...count).map { "\(base)-shard-\($0)" } : [base]
            }
            var suffix = 2
            while names(base).contains(where: used.contains) || used.contains("step-" + base) {
                base = KubernetesNames.argoField(step.id) + "-\(suffix)"
                suffix += 1
            }
            let stepTasks = names(base)
            used.formUnion(stepTasks)
            tasksOfStep[step.id] = stepTasks
            templateOfStep[step.id] = "step-" + base
            used.insert("step-" + base)
        }
        for override in shardOverrides.keys where workflow.step(override) == nil {
            throw ExportError("--shards \(override)=...: the workflow has no step \"\(override)\"")
        }
        for step in workflow.steps {
            let count = counts[step.id] ?? 1
            let dependencies = step.dependencies.flatMap { tasksOfStep[$0] ?? [] }
            for (offset, name) in (tasksOfStep[step.id] ?? []).enumerated() {
                let shard = count > 1 ? try? ShardAssignment(index: offset + 1, count: count) : nil
                tasks.append(Task(name: name, step: step.id, shard: shard, dependencies: dependencies))
            }
        }
        let sensitive = Set(workflow.steps.filter { Self.isStatusSensitive($0) }.map(\.id))
        var regardless = sensitive
        var frontier = Array(sensitive)
        while let id = frontier.popLast() {
            for dependency in workflow.step(id)?.dependencies ?? [] where regardless.insert(dependency).inserted {
                frontier.append(dependency)
            }
        }
        self.tasks = tasks
        self.tasksOfStep = tasksOfStep
        self.templateOfStep = templateOfStep
        self.statusSensitive = sensitive
        self.runsRegardless = regardless
    }

    /// Whether a step's `if:` can be true when a need failed.
    public static func isStatusSensitive(_ step: Step) -> Bool {
        guard let condition = step.condition else { return false }
        if case .call("success", let arguments, _) = condition.expression, arguments.isEmpty { return false }
        return condition.expression.calls.contains { ["success", "failure", "always", "cancelled"].contains($0.name) }
    }

    /// Actions whose objects can be split by key.
    public static let shardableActions: Set<ActionKind> = [.upload, .download, .copy, .delete]

    /// A step's `shards:`: the file's own value (read from the step's
    /// parameters, where the loader keeps it once it accepts the key),
    /// else `override`, else 1.
    public static func shardCount(of step: Step, override: Int? = nil) throws(ExportError) -> Int {
        var count = override ?? 1
        if let value = step.parameter("shards") {
            switch value.kind {
            case .number(let n) where n.rounded() == n && n >= 1 && n <= Double(ShardAssignment.maximumCount):
                count = Int(n)
            case .string(let t) where t.literal.flatMap(Int.init) != nil:
                count = Int(t.literal!)!
            default:
                throw ExportError("step \"\(step.id)\": `shards` must be a whole number from 1 to \(ShardAssignment.maximumCount)")
            }
        }
        guard count >= 1, count <= ShardAssignment.maximumCount else {
            throw ExportError("step \"\(step.id)\": shards must be between 1 and \(ShardAssignment.maximumCount), found \(count)")
        }
        if count > 1, !shardableActions.contains(step.action) {
            throw ExportError("step \"\(step.id)\" (\(step.action.rawValue)) cannot be sharded; only upload, download, copy and delete steps can")
        }
        return count
    }

    /// The `depends` expression of a task whose step is `step`.
    func dependsExpression(for step: Step, workflow: Workflow) -> String {
        var terms: [String] = []
        let regardless = runsRegardless.contains(step.id)
        for dependency in step.dependencies {
            let continues = workflow.step(dependency)?.continueOnError ?? false
            for task in tasksOfStep[dependency] ?? [] {
                if regardless {
                    terms.append("(\(task).Succeeded || \(task).Failed || \(task).Errored)")
                } else if continues {
                    terms.append("(\(task).Succeeded || \(task).Failed)")
                } else {
                    terms.append("\(task).Succeeded")
                }
            }
        }
        return terms.joined(separator: " && ")
    }
}
