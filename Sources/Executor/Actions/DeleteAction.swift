import Workflow
import Storage

/// `delete`: deletes one object, or everything under a prefix (`at` ending in
/// "/" or `recursive: true`).
enum DeleteAction: StepAction {
    static func run(_ context: StepContext) async throws -> StepResult {
        var target = try await context.remote("at")
        let recursive = try context.bool("recursive", default: false)
        let ifMissing = try context.string("if-missing") ?? "ok"
        if target.key.isEmpty && !recursive {
            throw StepError.invalid("`at` names the whole bucket \(target.display); add `recursive: true` to delete every object in it")
        }
        if recursive || target.key.hasSuffix("/") {
            if !target.key.isEmpty && !target.key.hasSuffix("/") { target.key += "/" }
            return try await deletePrefix(target, context: context, ifMissing: ifMissing, keysOutput: "keys")
        }
        var result = StepResult()
        guard let existing = try await context.headIfExists(target, key: target.key) else {
            if ifMissing == "fail" { throw StepError(code: .noSuchKey, message: "\(target.display) does not exist; use `if-missing: ok` to accept that") }
            result.outputs = ["keys": .list([]), "count": .number(0)]
            result.plan = ["\(target.display) does not exist (nothing to do)"]
            result.summary = "\(target.display) did not exist"
            return result
        }
        result.outputs = ["keys": .list([.string(target.key)]), "count": .number(1)]
        if context.dryRun {
            context.record(.delete, .planned, target: target.display, bytes: existing.size)
            let key = target.key, id = target.id
            await context.plan { $0.delete([key], in: id) }
            result.plan = ["delete \(target.display) (\(ByteCount.format(existing.size)))"]
            return result
        }
        let failures = try await target.storage.delete(bucket: target.bucket, keys: [target.key])
        if let failure = failures.first {
            let error = StepError(code: ErrorCode(StorageError.Code(rawValue: failure.code)), message: "could not delete \(target.display): \(failure.message)")
            context.record(.delete, .failed, target: target.display, bytes: existing.size, error: error)
            throw error
        }
        context.record(.delete, .transferred, target: target.display, bytes: existing.size)
        result.summary = "deleted \(target.display)"
        return result
    }

    /// Deletes every object under the target's key, recording each.
    static func deletePrefix(_ target: RemoteTarget, context: StepContext, ifMissing: String, keysOutput: String?) async throws -> StepResult {
        var result = StepResult()
        let objects = try await context.listAll(target, prefix: target.key).filter { context.owns($0.key) }
        if objects.isEmpty && ifMissing == "fail" && context.options.shard?.step != context.step.id {
            throw StepError(code: .noSuchKey, message: "nothing exists under \(target.display); use `if-missing: ok` to accept that")
        }
        result.outputs["count"] = .number(Double(objects.count))
        if let keysOutput { result.outputs[keysOutput] = .list(objects.map { .string($0.key) }) }
        result.outputs["prefix"] = .string(target.key)
        if context.dryRun {
            for object in objects { context.record(.delete, .planned, target: target.display(key: object.key), bytes: object.size) }
            let keys = objects.map(\.key)
            await context.plan { $0.delete(keys, in: target.id) }
            result.plan = objects.isEmpty ? ["nothing under \(target.display) (nothing to do)"] : context.planLines("delete \(plural(objects.count, "object")) (\(ByteCount.format(objects.reduce(0) { $0 + $1.size }))) under \(target.display)")
            return result
        }
        try await deleteObjects(objects, in: target, context: context)
        result.summary = "deleted \(plural(objects.count, "object")) under \(target.display)"
        return result
    }

    /// Deletes `objects` and records each one's outcome; throws when some failed.
    static func deleteObjects(_ objects: [ObjectInfo], in target: RemoteTarget, context: StepContext) async throws {
        guard !objects.isEmpty else { return }
        let failures = try await target.storage.delete(bucket: target.bucket, keys: objects.map(\.key))
        let failed = Dictionary(failures.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for object in objects {
            if let failure = failed[object.key] {
                context.record(.delete, .failed, target: target.display(key: object.key), bytes: object.size,
                               error: StepError(code: ErrorCode(StorageError.Code(rawValue: failure.code)), message: failure.message))
            } else {
                context.record(.delete, .transferred, target: target.display(key: object.key), bytes: object.size)
            }
        }
        if let failure = Transfers.failure("delete", total: objects.count, journal: context.journal) {
            throw failure
        }
    }
}
