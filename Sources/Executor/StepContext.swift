import Foundation
import Workflow
import Storage

/// A resolved `NAME://bucket/key`.
struct RemoteTarget: Sendable {
    var storageName: String
    var storage: any ObjectStorage
    var bucket: String
    var key: String

    var display: String { "\(storageName)://\(bucket)\(key.isEmpty ? "" : "/" + key)" }
    var id: PlanWorld.BucketID { PlanWorld.BucketID(storage: storageName, bucket: bucket) }
    func display(key: String) -> String { "\(storageName)://\(bucket)/\(key)" }
    /// Whether the location names a prefix ("folder/" or the whole bucket).
    var isPrefix: Bool { key.isEmpty || key.hasSuffix("/") }
}

/// What one step attempt sees: its parameters resolved against the outputs
/// available now, the shared run state, and whether this is a dry run.
struct StepContext: Sendable {
    let step: Step
    let state: RunState
    let evaluation: EvaluationContext
    let dryRun: Bool
    let workflow: Workflow
    let options: RunOptions
    /// Where this attempt records every object it touches.
    let journal: StepJournal

    func value(_ name: String) throws -> ExpressionValue? {
        guard let value = step.parameter(name) else { return nil }
        do {
            return try Evaluator.resolve(value, in: evaluation)
        } catch let error as EvaluationError {
            if dryRun, case .unresolved(let reference, _) = error {
                throw PlanUnknown(reason: "`\(name)` depends on \(reference), known only when the run gets there")
            }
            throw Self.stepError(error, parameter: name)
        }
    }

    static func stepError(_ error: EvaluationError, parameter: String) -> StepError {
        switch error {
        case .unresolved(let reference, _):
            return StepError(code: .expressionError, message: "`\(parameter)`: \(reference) has no value (the step that produces it did not succeed)")
        case .failed(let message, _):
            return StepError(code: .expressionError, message: "`\(parameter)`: \(message)")
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = try value(name) else { return nil }
        if case .null = value { return nil }
        return value.description
    }

    func requiredString(_ name: String) throws -> String {
        guard let text = try string(name), !text.isEmpty else {
            throw StepError.invalid("`\(name)` is empty")
        }
        return text
    }

    func bool(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let value = try value(name) else { return defaultValue }
        switch value {
        case .bool(let b): return b
        case .string(let s) where s == "true" || s == "false": return s == "true"
        default: return value.isTruthy
        }
    }

    func int(_ name: String) throws -> Int? {
        guard let value = try value(name) else { return nil }
        guard let n = value.number, n.rounded() == n, let whole = Int(exactly: n) else { throw StepError.invalid("`\(name)` must be a whole number, found \"\(value)\"") }
        return whole
    }

    func stringList(_ name: String) throws -> [String] {
        guard let value = try value(name) else { return [] }
        switch value {
        case .list(let items): return items.flatMap { item -> [String] in
            if case .list(let inner) = item { return inner.map(\.description) }
            return [item.description]
        }
        case .null: return []
        default: return [value.description]
        }
    }

    func stringMap(_ name: String) throws -> [String: String] {
        guard let value = try value(name) else { return [:] }
        guard case .object(let object) = value else { return [:] }
        return object.mapValues(\.description)
    }

    /// Resolves a parameter that must name a declared storage.
    func remote(_ name: String) async throws -> RemoteTarget {
        let text = try requiredString(name)
        let location: Location
        do { location = try Location.parse(text) } catch { throw StepError.invalid("`\(name)`: \(error.message)") }
        guard case .remote(let storageName, let bucket, let key) = location else {
            throw StepError.invalid("`\(name)` must be a storage location like NAME://bucket/key, found \"\(text)\"")
        }
        let storage = try await state.storage(named: storageName, context: evaluation)
        return RemoteTarget(storageName: storageName, storage: storage, bucket: bucket, key: key)
    }

    /// Resolves a parameter that is a local path or a `data://` path.
    func localPath(_ name: String) async throws -> (url: URL, text: String) {
        let text = try requiredString(name)
        return (try await resolveLocal(text, parameter: name), text)
    }

    func resolveLocal(_ text: String, parameter: String) async throws -> URL {
        let location: Location
        do { location = try Location.parse(text) } catch { throw StepError.invalid("`\(parameter)`: \(error.message)") }
        switch location {
        case .data(let path):
            do {
                return try state.dataArea.resolve(path)
            } catch {
                throw StepError(code: ErrorCode(error.code), message: "`\(parameter)`: \(error)")
            }
        case .local(let path):
            var expanded = path
            if expanded == "~" || expanded.hasPrefix("~/") {
                let home = options.environment["HOME"] ?? NSHomeDirectory()
                expanded = home + expanded.dropFirst()
            }
            let url = URL(fileURLWithPath: expanded, relativeTo: workflow.directory).standardizedFileURL
            // Keep a trailing slash: it means "into this directory".
            if text.hasSuffix("/") && !url.path.hasSuffix("/") { return URL(fileURLWithPath: url.path + "/") }
            return url
        case .remote:
            throw StepError.invalid("`\(parameter)` must be a local path or data:// path, found the storage location \"\(text)\"")
        }
    }

    func emit(_ event: RunEvent) { state.events.emit(event) }

    /// Runs `body` holding one slot of the run's transfer budget.
    func withTransferSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await state.budget.withPermit(body)
    }
}

/// What a step attempt produced besides its objects (which are in its
/// ``StepJournal``).
struct StepResult: Sendable {
    var outputs: [String: ExpressionValue] = [:]
    /// Dry runs: what the step would do, in words.
    var plan: [String] = []
    /// One line for the console.
    var summary: String?
}

/// A plan cannot know this step's parameters yet (they come from outputs of
/// steps that only produce them when really run). Not an error.
struct PlanUnknown: Error, Sendable {
    var reason: String
}

extension StepContext {
    /// Whether this step handles `key` (always, unless it runs as one shard).
    func owns(_ key: String) -> Bool {
        guard let shard = options.shard, shard.step == step.id else { return true }
        return shard.assignment.owns(key)
    }

    /// Records one object's outcome in the step's journal.
    func record(_ operation: ObjectOperation, _ outcome: ObjectOutcome, source: String? = nil, target: String? = nil, bytes: Int64 = 0, checksums: [String: String]? = nil, error: StepError? = nil) {
        journal.record(ObjectRecord(operation: operation, outcome: outcome, source: source, target: target, bytes: bytes, checksums: checksums, error: error.map(ErrorInfo.init)))
    }

    /// Every object under `prefix` of the target's bucket: the real listing
    /// in a run; in a plan, the listing as earlier planned steps leave it.
    func listAll(_ target: RemoteTarget, prefix: String) async throws -> [ObjectInfo] {
        guard dryRun else { return try await target.storage.listAll(bucket: target.bucket, prefix: prefix) }
        let world = await state.world
        return try await world.listing(target.id, prefix: prefix) {
            try await target.storage.listAll(bucket: target.bucket, prefix: prefix)
        }
    }

    /// One object's metadata or nil, through the plan's world in a plan.
    func headIfExists(_ target: RemoteTarget, key: String) async throws -> ObjectInfo? {
        if dryRun {
            let (known, info) = await state.world.object(key, in: target.id)
            if known { return info }
            if await state.world.bucketExists(target.id) == true {
                do { return try await target.storage.headIfExists(bucket: target.bucket, key: key) } catch let error as StorageError where error.code == .noSuchBucket { return nil }
            }
        }
        return try await target.storage.headIfExists(bucket: target.bucket, key: key)
    }

    /// Whether the bucket exists, through the plan's world in a plan.
    func bucketExists(_ target: RemoteTarget) async throws -> Bool {
        if dryRun, let planned = await state.world.bucketExists(target.id) { return planned }
        return try await target.storage.bucketExists(target.bucket)
    }

    /// Plans only: remember what this step would change.
    func plan(_ change: @Sendable (inout PlanWorld) -> Void) async {
        guard dryRun else { return }
        await state.updateWorld(change)
    }

    /// The plan's lines for a list of planned objects: a header, then up to
    /// 50 objects (`+` would change, `=` unchanged).
    func planLines(_ header: String) -> [String] {
        let records = journal.records
        var lines = [header] + records.prefix(50).map { "  \($0.outcome == .unchanged ? "=" : $0.operation == .delete ? "-" : "+") \($0.name) (\(ByteCount.format($0.bytes)))" }
        if records.count > 50 { lines.append("  … and \(records.count - 50) more") }
        return lines
    }
}

/// "1 object", "2 objects".
public func plural(_ count: Int, _ word: String) -> String {
    "\(count) \(word)\(count == 1 ? "" : "s")"
}

/// A step's work. Each action is one type in `Actions/`.
protocol StepAction {
    static func run(_ context: StepContext) async throws -> StepResult
}
