import Foundation
import Workflow
import Storage
import Credentials

/// The resources steps share during one run: credentials, storage
/// connections, the transfer budget and, in plans, the simulated effects of
/// earlier steps. An actor, because steps run concurrently.
///
/// Step statuses and outputs are not here: the run driver owns them and hands
/// each step the evaluation context it starts with.
actor RunState {
    let workflow: Workflow
    let options: RunOptions
    let dataArea: DataArea
    let budget: AsyncSemaphore
    /// Bytes of transfer buffers all storages of the run share.
    let memoryBudget: MemoryBudget
    let events: any EventSink
    let makeStorage: StorageMaker

    private var credentials: [String: CredentialSet] = [:]
    private var storages: [String: any ObjectStorage] = [:]
    private var secrets: [String] = []
    /// The zero-byte source of folder markers (see ``emptyFile()``).
    private var emptyFileURL: URL?
    /// Plans only: what earlier steps of the plan would have changed.
    var world = PlanWorld()

    init(workflow: Workflow, options: RunOptions, events: any EventSink, makeStorage: @escaping StorageMaker) {
        self.workflow = workflow
        self.options = options
        self.dataArea = DataArea(root: options.dataDirectory, userName: options.userName)
        self.budget = AsyncSemaphore(permits: options.transfers)
        self.memoryBudget = MemoryBudget(capacity: options.memoryBudget)
        self.events = events
        self.makeStorage = makeStorage
    }

    func store(credentials set: CredentialSet, for step: String) {
        credentials[step] = set
        secrets.append(contentsOf: set.keys.compactMap { set[$0]?.revealed }.filter { !$0.isEmpty })
        (events as? RedactingEventSink)?.update(secrets: secrets)
    }

    /// Every credential value loaded so far (for the redaction layer).
    var loadedSecrets: [String] { secrets }

    /// Scrubs every credential value loaded so far from `text`.
    func redact(_ text: String) -> String {
        Redaction(secrets: secrets).text(text)
    }

    /// The storage declared as `name`, connected on first use.
    func storage(named name: String, context: EvaluationContext) throws -> any ObjectStorage {
        if let existing = storages[name] { return existing }
        guard let spec = workflow.storage(name) else {
            throw StepError(code: .unknownStorage, message: "no storage named \"\(name)\" is declared")
        }
        let found = spec.credentials.flatMap { credentials[$0] }
        let storage = try StorageRegistry.$scoped.withValue(options.storageRegistry ?? StorageRegistry.standard) {
            try makeStorage(spec, workflow, context, found, options.environment, memoryBudget)
        }
        storages[name] = storage
        return storage
    }

    func shutdownStorages() async {
        for storage in storages.values { try? await storage.shutdown() }
        storages.removeAll()
        if let emptyFileURL { try? FileManager.default.removeItem(at: emptyFileURL) }
        emptyFileURL = nil
    }

    /// A zero-byte file to upload as a folder marker: made on first use and
    /// shared by every create-folder step of the run (uploads only read it),
    /// removed when the run ends.
    func emptyFile() throws -> URL {
        if let emptyFileURL { return emptyFileURL }
        let url = try EmptyFile.make()
        emptyFileURL = url
        return url
    }

    func updateWorld(_ change: (inout PlanWorld) -> Void) { change(&world) }
}

/// Makes a provider from a `storage:` declaration (the provider registry).
typealias StorageMaker = @Sendable (StorageSpec, Workflow, EvaluationContext, CredentialSet?, [String: String], MemoryBudget) throws -> any ObjectStorage
