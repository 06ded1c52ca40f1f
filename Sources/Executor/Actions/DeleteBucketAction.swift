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
            guard try await context.bucketExists(target) else {
                if ifMissing != "ok" {
                    throw StepError(code: .noSuchBucket, message: "bucket \(target.display) does not exist, so the run would fail; add `if-missing: ok` to accept that")
                }
                result.plan = ["bucket \(target.display) does not exist (nothing to do)"]
                result.outputs["deleted"] = .bool(false)
                return result
            }
            // The plan's world: objects deleted by earlier steps are gone,
            // objects uploaded by earlier steps are there.
            let objects = try await context.listAll(target, prefix: "")
            if !objects.isEmpty && !force {
                throw StepError(code: .bucketNotEmpty, message: "bucket \(target.display) would still hold \(plural(objects.count, "object")), so the run would fail; add `force: true` to delete them first")
            }
            if !objects.isEmpty {
                result.plan.append("delete \(plural(objects.count, "object")) (\(ByteCount.format(objects.reduce(0) { $0 + $1.size }))) in \(target.display)")
                for object in objects { context.record(.delete, .planned, target: target.display(key: object.key), bytes: object.size) }
            }
            result.plan.append("delete bucket \(target.display)")
            context.record(.deleteBucket, .planned, target: target.display)
            await context.plan { $0.deleteBucket(target.id) }
            result.outputs["deleted"] = .bool(true)
            result.outputs["objects-deleted"] = .number(Double(objects.count))
            return result
        }
        var deletedObjects = 0
        do {
            if force {
                let objects = try await target.storage.listAll(bucket: target.bucket, prefix: "")
                try await DeleteAction.deleteObjects(objects, in: target, context: context)
                deletedObjects = objects.count
            }
            try await target.storage.deleteBucket(target.bucket)
            context.record(.deleteBucket, .transferred, target: target.display)
            result.outputs["deleted"] = .bool(true)
            result.summary = "deleted \(target.display)" + (deletedObjects > 0 ? " and \(plural(deletedObjects, "object"))" : "")
        } catch let error as StorageError where error.code == .noSuchBucket && ifMissing == "ok" {
            result.outputs["deleted"] = .bool(false)
            result.summary = "\(target.display) does not exist"
        } catch let error as StorageError where error.code == .bucketNotEmpty {
            throw StepError(code: .bucketNotEmpty, message: "bucket \(target.display) is not empty; add `force: true` to delete its objects first")
        }
        result.outputs["objects-deleted"] = .number(Double(deletedObjects))
        return result
    }
}
