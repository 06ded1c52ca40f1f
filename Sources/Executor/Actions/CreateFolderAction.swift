import Workflow
import Foundation
import Storage

/// `create-folder`: writes the empty folder marker `prefix/` (what the S3
/// consoles show as a folder; a directory on the local provider).
enum CreateFolderAction: StepAction {
    static func run(_ context: StepContext) async throws -> StepResult {
        var target = try await context.remote("at")
        guard !target.key.isEmpty else { throw StepError.invalid("`at` must name a folder inside the bucket, e.g. \(target.display)/folder/") }
        if !target.key.hasSuffix("/") { target.key += "/" }
        var result = StepResult()
        result.outputs = ["key": .string(target.key), "url": .string(target.display)]
        if context.dryRun {
            if try await context.headIfExists(target, key: target.key) != nil {
                result.plan = ["folder \(target.display) exists already (nothing to do)"]
                context.record(.createFolder, .unchanged, target: target.display)
            } else {
                result.plan = ["create folder \(target.display)"]
                context.record(.createFolder, .planned, target: target.display)
                let key = target.key, id = target.id
                await context.plan { $0.write(key, size: 0, in: id) }
            }
            return result
        }
        let empty = try await context.state.emptyFile()
        _ = try await target.storage.upload(from: empty, bucket: target.bucket, key: target.key, options: PutOptions(contentType: "application/x-directory"))
        context.record(.createFolder, .transferred, target: target.display)
        result.summary = "created \(target.display)"
        return result
    }
}

/// A zero-byte file to upload as folder markers; the caller removes it.
enum EmptyFile {
    static func make() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-empty-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: url.path, contents: Data()) else {
            throw StepError(code: .ioError, message: "cannot create \(url.path); check that the temporary directory (TMPDIR) is writable")
        }
        return url
    }
}
