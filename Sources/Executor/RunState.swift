import Foundation
import Workflow
import Storage
import Credentials
import S3

/// Everything steps share during one run: outputs, credentials, storage
/// connections. An actor, because steps finish concurrently.
actor RunState {
    let workflow: Workflow
    let options: RunOptions
    let baseContext: EvaluationContext
    let dataArea: DataArea
    let budget: AsyncSemaphore
    let events: any EventSink

    private var outputs: [String: [String: ExpressionValue]] = [:]
    private var statuses: [String: String] = [:]
    private var credentials: [String: CredentialSet] = [:]
    private var storages: [String: any ObjectStorage] = [:]
    private var secrets: [String] = []

    init(workflow: Workflow, options: RunOptions, baseContext: EvaluationContext, events: any EventSink) {
        self.workflow = workflow
        self.options = options
        self.baseContext = baseContext
        self.dataArea = DataArea(root: options.dataDirectory, userName: options.userName)
        self.budget = AsyncSemaphore(permits: options.transfers)
        self.events = events
    }

    /// The context expressions of a step see now.
    func evaluationContext(success: Bool = true, failure: Bool = false) -> EvaluationContext {
        var context = baseContext
        context.outputs = outputs
        context.statuses = statuses
        context.success = success
        context.failure = failure
        return context
    }

    func record(step: String, status: String, outputs stepOutputs: [String: ExpressionValue]?) {
        statuses[step] = status
        if let stepOutputs { outputs[step] = stepOutputs }
    }

    func store(credentials set: CredentialSet, for step: String) {
        credentials[step] = set
        secrets.append(contentsOf: set.keys.compactMap { set[$0]?.revealed })
    }

    func credentials(from step: String) -> CredentialSet? { credentials[step] }

    /// Scrubs every credential value loaded so far from `text`.
    func redact(_ text: String) -> String {
        Redactor(secrets: secrets).redact(text)
    }

    var redactor: Redactor { Redactor(secrets: secrets) }

    /// The storage declared as `name`, connected on first use.
    func storage(named name: String) throws -> any ObjectStorage {
        if let existing = storages[name] { return existing }
        guard let spec = workflow.storage(name) else {
            throw StepError(code: "UnknownStorage", message: "no storage named \"\(name)\" is declared")
        }
        let storage = try StorageFactory.make(spec, workflow: workflow, context: evaluationContext(), credentials: spec.credentials.flatMap { credentials[$0] }, environment: options.environment)
        storages[name] = storage
        return storage
    }

    func shutdownStorages() async {
        for storage in storages.values { try? await storage.shutdown() }
        storages.removeAll()
    }
}
