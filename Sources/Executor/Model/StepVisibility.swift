import Workflow

/// Which steps' outputs and statuses each step's expressions can name: its
/// dependencies, the steps its parameters and `if:` refer to, and the steps
/// any storage's settings refer to (a storage connects in the context of the
/// first step that uses it).
///
/// A step's evaluation context holds only these, copied when it starts, so
/// starting a step costs what it can see, not the size of the whole run (and
/// the run's own tables are never shared with a running step, which would
/// make every later update copy them).
struct StepVisibility: Sendable {
    private let visible: [String: [String]]

    init(workflow: Workflow) {
        var storageReferences: [String] = []
        var seenStorageReference: Set<String> = []
        for storage in workflow.storages {
            for value in storage.settings.values {
                for id in Self.stepReferences(in: value) where seenStorageReference.insert(id).inserted {
                    storageReferences.append(id)
                }
            }
        }
        var visible: [String: [String]] = [:]
        visible.reserveCapacity(workflow.steps.count)
        for step in workflow.steps where visible[step.id] == nil {
            var ids = step.dependencies
            for value in step.parameters.values { ids += Self.stepReferences(in: value) }
            if let condition = step.condition { ids += Self.stepReferences(in: condition.expression) }
            ids += storageReferences
            var seen: Set<String> = []
            visible[step.id] = ids.filter { seen.insert($0).inserted }
        }
        self.visible = visible
    }

    /// The step ids `id`'s expressions may name.
    func steps(for id: String) -> [String] { visible[id] ?? [] }

    static func stepReferences(in value: Value) -> [String] {
        value.templates.flatMap { template in template.expressions.flatMap { stepReferences(in: $0.expression) } }
    }

    static func stepReferences(in expression: Expression) -> [String] {
        expression.references.compactMap { $0.path.first == "steps" && $0.path.count > 1 ? $0.path[1] : nil }
    }
}
