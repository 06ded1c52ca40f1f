import Workflow
import Storage

/// `create-bucket`: creates the bucket; `if-exists: ok` makes reruns succeed.
enum CreateBucketAction: StepAction {
    static func run(_ context: StepContext) async throws -> StepResult {
        let target = try await context.remote("bucket")
        guard target.key.isEmpty else {
            throw StepError.invalid("`bucket` must name only a bucket (\(target.storageName)://\(target.bucket)), not a key")
        }
        let ifExists = try context.string("if-exists") ?? "fail"
        var result = StepResult()
        result.outputs["bucket"] = .string(target.bucket)
        result.outputs["url"] = .string(target.display)
        if context.dryRun {
            // A storage that cannot be read fails the plan: "unknown" is not
            // an answer a cron batch can act on.
            if try await context.bucketExists(target) {
                if ifExists != "ok" {
                    throw StepError(code: .bucketAlreadyExists, message: "bucket \(target.display) already exists, so the run would fail; add `if-exists: ok` to accept an existing bucket")
                }
                result.plan = ["bucket \(target.display) exists already (nothing to do)"]
                result.outputs["created"] = .bool(false)
                context.record(.createBucket, .unchanged, target: target.display)
            } else {
                result.plan = ["create bucket \(target.display)"]
                result.outputs["created"] = .bool(true)
                context.record(.createBucket, .planned, target: target.display)
            }
            await context.plan { $0.createBucket(target.id) }
            return result
        }
        do {
            try await target.storage.createBucket(target.bucket)
            result.outputs["created"] = .bool(true)
            result.summary = "created \(target.display)"
            context.record(.createBucket, .transferred, target: target.display)
        } catch let error as StorageError where error.code == .bucketAlreadyExists && ifExists == "ok" {
            result.outputs["created"] = .bool(false)
            result.summary = "\(target.display) exists already"
            context.record(.createBucket, .unchanged, target: target.display)
        } catch let error as StorageError where error.code == .bucketAlreadyExists {
            throw StepError(code: .bucketAlreadyExists, message: "bucket \(target.display) already exists; add `if-exists: ok` to accept an existing bucket")
        }
        return result
    }
}
