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
            let exists = try? await target.storage.bucketExists(target.bucket)
            switch exists {
            case true?:
                result.plan = ["bucket \(target.display) exists already" + (ifExists == "ok" ? " (nothing to do)" : "; the run would fail (if-exists: fail)")]
                result.outputs["created"] = .bool(false)
            case false?:
                result.plan = ["create bucket \(target.display)"]
                result.transfers = [.init(operation: "create-bucket", source: nil, target: target.display, bytes: 0)]
                result.outputs["created"] = .bool(true)
            case nil:
                result.plan = ["create bucket \(target.display) unless it exists (remote state unknown)"]
                result.transfers = [.init(operation: "create-bucket", source: nil, target: target.display, bytes: 0)]
            }
            return result
        }
        do {
            try await target.storage.createBucket(target.bucket)
            result.outputs["created"] = .bool(true)
            result.summary = "created \(target.display)"
            result.transfers = [.init(operation: "create-bucket", source: nil, target: target.display, bytes: 0)]
        } catch let error as StorageError where error.code == .bucketAlreadyExists && ifExists == "ok" {
            result.outputs["created"] = .bool(false)
            result.summary = "\(target.display) exists already"
        } catch let error as StorageError where error.code == .bucketAlreadyExists {
            throw StepError(code: error.code.rawValue, message: "bucket \(target.display) already exists; add `if-exists: ok` to accept an existing bucket")
        }
        return result
    }
}
