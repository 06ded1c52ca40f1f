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
        result.transfers = [.init(operation: "create-folder", source: nil, target: target.display, bytes: 0)]
        if context.dryRun {
            let existing = try? await target.storage.headIfExists(bucket: target.bucket, key: target.key)
            if existing != nil {
                result.plan = ["folder \(target.display) exists already"]
                result.transfers = []
            } else {
                result.plan = ["create folder \(target.display)"]
            }
            return result
        }
        let empty = try EmptyFile.url()
        _ = try await target.storage.upload(from: empty, bucket: target.bucket, key: target.key, options: PutOptions(contentType: "application/x-directory"))
        result.objects = 1
        result.summary = "created \(target.display)"
        return result
    }
}

/// A zero-byte file to upload as a folder marker.
enum EmptyFile {
    static func url() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-empty-\(getpid())")
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: Data()) else {
                throw StepError(code: "IOError", message: "cannot create \(url.path)")
            }
        }
        return url
    }
}
