import Workflow
import Storage

/// `delete-bucket`: deletes a bucket; `force: true` empties it first.
enum DeleteBucketAction: StepAction {
    static func run(_ context: StepContext) async throws -> StepResult {
        let target = try await context.remote("bucket")
        guard target.key.isEmpty else {
            throw StepError.invalid("`bucket` must name only a bucket (\(target.storageName)://\(target.bucket)), not a key")
        }
        let force = try context.bool("force", default: false)
        let ifMissing = try context.string("if-missing") ?? "fail"
        var result = StepResult()
        result.outputs["bucket"] = .string(target.bucket)
        if context.dryRun {
            guard let exists = try? await target.storage.bucketExists(target.bucket) else {
                result.plan = ["delete bucket \(target.display) (remote state unknown)"]
                return result
            }
            if !exists {
                result.plan = ["bucket \(target.display) does not exist" + (ifMissing == "ok" ? " (nothing to do)" : "; the run would fail (if-missing: fail)")]
                return result
            }
            let objects = (try? await target.storage.listAll(bucket: target.bucket, prefix: "")) ?? []
            if !objects.isEmpty && force {
                result.plan.append("delete \(objects.count) objects (\(ByteCount.format(objects.reduce(0) { $0 + $1.size }))) in \(target.display)")
                result.transfers += objects.map { .init(operation: "delete", source: nil, target: target.display(key: $0.key), bytes: $0.size) }
            } else if !objects.isEmpty {
                result.plan.append("bucket \(target.display) holds \(objects.count) objects; the run would fail without `force: true`")
            }
            result.plan.append("delete bucket \(target.display)")
            result.transfers.append(.init(operation: "delete-bucket", source: nil, target: target.display, bytes: 0))
            return result
        }
        var deletedObjects = 0
        do {
            if force {
                let objects = try await target.storage.listAll(bucket: target.bucket, prefix: "")
                let failures = try await target.storage.delete(bucket: target.bucket, keys: objects.map(\.key))
                if let first = failures.first {
                    throw StepError(code: first.code, message: "could not empty \(target.display): \(failures.count) objects not deleted, e.g. \(first.key): \(first.message)")
                }
                deletedObjects = objects.count
            }
            try await target.storage.deleteBucket(target.bucket)
            result.outputs["deleted"] = .bool(true)
            result.summary = "deleted \(target.display)" + (deletedObjects > 0 ? " and \(deletedObjects) objects" : "")
            result.transfers.append(.init(operation: "delete-bucket", source: nil, target: target.display, bytes: 0))
        } catch let error as StorageError where error.code == .noSuchBucket && ifMissing == "ok" {
            result.outputs["deleted"] = .bool(false)
            result.summary = "\(target.display) does not exist"
        } catch let error as StorageError where error.code == .bucketNotEmpty {
            throw StepError(code: error.code.rawValue, message: "bucket \(target.display) is not empty; add `force: true` to delete its objects first")
        }
        result.outputs["objects-deleted"] = .number(Double(deletedObjects))
        result.objects = deletedObjects
        return result
    }
}
