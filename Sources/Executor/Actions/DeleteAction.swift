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
            return try await deletePrefix(target, context: context, ifMissing: ifMissing, countOutput: "count", keysOutput: "keys")
        }
        var result = StepResult()
        let existing = try await target.storage.headIfExists(bucket: target.bucket, key: target.key)
        guard let existing else {
            if ifMissing == "fail" { throw StepError(code: "NoSuchKey", message: "\(target.display) does not exist") }
            result.outputs = ["keys": .list([]), "count": .number(0)]
            result.plan = ["\(target.display) does not exist (nothing to do)"]
            result.summary = "\(target.display) did not exist"
            return result
        }
        result.outputs = ["keys": .list([.string(target.key)]), "count": .number(1)]
        result.transfers = [.init(operation: "delete", source: nil, target: target.display, bytes: existing.size)]
        result.objects = 1
        if context.dryRun {
            result.plan = ["delete \(target.display) (\(ByteCount.format(existing.size)))"]
            return result
        }
        let failures = try await target.storage.delete(bucket: target.bucket, keys: [target.key])
        if let failure = failures.first { throw StepError(code: failure.code, message: "could not delete \(target.display): \(failure.message)") }
        result.summary = "deleted \(target.display)"
        return result
    }

    static func deletePrefix(_ target: RemoteTarget, context: StepContext, ifMissing: String, countOutput: String, keysOutput: String?) async throws -> StepResult {
        var result = StepResult()
        let objects: [ObjectInfo]
        do {
            objects = try await target.storage.listAll(bucket: target.bucket, prefix: target.key)
        } catch let error as StorageError where context.dryRun {
            result.plan = ["delete everything under \(target.display) \(PlanText.unknown(error))"]
            return result
        }
        if objects.isEmpty && ifMissing == "fail" {
            throw StepError(code: "NoSuchKey", message: "nothing exists under \(target.display)")
        }
        result.outputs[countOutput] = .number(Double(objects.count))
        if let keysOutput { result.outputs[keysOutput] = .list(objects.map { .string($0.key) }) }
        result.outputs["prefix"] = .string(target.key)
        result.objects = objects.count
        result.transfers = objects.map { .init(operation: "delete", source: nil, target: target.display(key: $0.key), bytes: $0.size) }
        if context.dryRun {
            result.plan = objects.isEmpty ? ["nothing under \(target.display) (nothing to do)"] : ["delete \(objects.count) objects (\(ByteCount.format(objects.reduce(0) { $0 + $1.size }))) under \(target.display)"]
            return result
        }
        let failures = try await target.storage.delete(bucket: target.bucket, keys: objects.map(\.key))
        if let first = failures.first {
            result.failedObjects = failures.count
            throw StepError(code: first.code, message: "\(failures.count) of \(objects.count) objects under \(target.display) were not deleted, e.g. \(first.key): \(first.message)")
        }
        result.summary = "deleted \(objects.count) objects under \(target.display)"
        return result
    }
}
