import Workflow
import Foundation
import Storage

/// `upload`: a file, a directory (recursively) or a glob into a bucket. A
/// `to` ending in "/" is a prefix the files' relative paths go under.
enum UploadAction: StepAction {
    struct Item: Sendable {
        var file: LocalFile
        var key: String
    }

    enum ItemOutcome: Sendable {
        case uploaded(TransferResult)
        case unchanged
    }

    static func run(_ context: StepContext) async throws -> StepResult {
        let (source, sourceText) = try await context.localPath("from")
        let target = try await context.remote("to")
        let skipUnchanged = try context.bool("skip-unchanged", default: false)
        let contentType = try context.string("content-type")
        let metadata = try context.stringMap("metadata")
        let exclude = try context.stringList("exclude")
        let files = try await BlockingIO.run { _ in try LocalFiles.expand(sourceText, resolved: source, exclude: exclude) }
        guard !files.isEmpty else {
            throw StepError(code: "NoSuchFile", message: "no files match \(sourceText) (resolved to \(source.path))")
        }
        if files.count > 1 && !target.isPrefix {
            throw StepError.invalid("`to` must end with \"/\" when uploading several files (\(files.count) match \(sourceText)); write \(target.display)/")
        }
        let items = files.map { file in
            Item(file: file, key: target.isPrefix ? target.key + file.relativePath : target.key)
        }

        var result = StepResult()
        if context.dryRun {
            return try await plan(items, target: target, skipUnchanged: skipUnchanged, result: &result)
        }

        let outcomes = try await Transfers.forEach(items, context: context, limit: context.options.transfers) { item in
            var options = PutOptions(contentType: contentType, metadata: metadata)
            if skipUnchanged {
                if let remote = try await target.storage.headIfExists(bucket: target.bucket, key: item.key) {
                    let (same, sha) = try await BlockingIO.run { _ in try Unchanged.local(item.file.url, size: item.file.size, matches: remote) }
                    if same { return ItemOutcome.unchanged }
                    if let sha { options.metadata["sha256"] = sha }
                } else {
                    options.metadata["sha256"] = try await BlockingIO.run { _ in try FileDigest.digests(of: item.file.url).sha256 }
                }
            }
            let transfer = try await target.storage.upload(from: item.file.url, bucket: target.bucket, key: item.key, options: options)
            context.emit(.objectTransferred(step: context.step.id, operation: "upload", target: target.display(key: item.key), bytes: transfer.bytes))
            return .uploaded(transfer)
        }
        var keys: [ExpressionValue] = []
        var failures: [(String, any Error)] = []
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .success(.uploaded(let transfer)):
                result.bytes += transfer.bytes
                result.objects += 1
                result.transferred += 1
                keys.append(.string(item.key))
                result.transfers.append(.init(operation: "upload", source: item.file.url.path, target: target.display(key: item.key), bytes: transfer.bytes, checksums: transfer.checksums))
            case .success(.unchanged):
                result.skippedUnchanged += 1
                keys.append(.string(item.key))
                result.transfers.append(.init(operation: "skip", source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size, reason: "unchanged"))
            case .failure(let error):
                result.failedObjects += 1
                failures.append((item.key, error))
            }
        }
        result.outputs = outputs(keys: keys, bytes: result.bytes, target: target, skipped: result.skippedUnchanged)
        result.summary = "\(result.transferred) uploaded (\(ByteCount.format(result.bytes)))" + (result.skippedUnchanged > 0 ? ", \(result.skippedUnchanged) unchanged" : "") + " to \(target.display)"
        if let (key, error) = failures.first {
            let detail = Executor.stepError(error)
            throw StepFailure(error: StepError(code: detail.code, message: "\(failures.count) of \(items.count) uploads failed; first: \(target.display(key: key)): \(detail.message)"), partial: result)
        }
        return result
    }

    static func outputs(keys: [ExpressionValue], bytes: Int64, target: RemoteTarget, skipped: Int) -> [String: ExpressionValue] {
        let urls = keys.map { ExpressionValue.string(target.display(key: $0.description)) }
        return [
            "keys": .list(keys), "count": .number(Double(keys.count)), "bytes": .number(Double(bytes)),
            "url": urls.count == 1 ? urls[0] : .string(target.display), "urls": .list(urls), "skipped": .number(Double(skipped)),
        ]
    }

    static func plan(_ items: [Item], target: RemoteTarget, skipUnchanged: Bool, result: inout StepResult) async throws -> StepResult {
        var unknownRemote = false
        var keys: [ExpressionValue] = []
        for item in items {
            keys.append(.string(item.key))
            if skipUnchanged, !unknownRemote {
                do {
                    if let remote = try await target.storage.headIfExists(bucket: target.bucket, key: item.key),
                       try Unchanged.local(item.file.url, size: item.file.size, matches: remote).0 {
                        result.skippedUnchanged += 1
                        result.transfers.append(.init(operation: "skip", source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size, reason: "unchanged"))
                        continue
                    }
                } catch let error as StorageError where error.code == .noSuchBucket {
                    // The bucket is created by an earlier step: everything is new.
                } catch {
                    unknownRemote = true
                }
            }
            result.bytes += item.file.size
            result.objects += 1
            result.transfers.append(.init(operation: "upload", source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size))
        }
        result.outputs = outputs(keys: keys, bytes: result.bytes, target: target, skipped: result.skippedUnchanged)
        var line = "upload \(result.objects) object\(result.objects == 1 ? "" : "s") (\(ByteCount.format(result.bytes))) to \(target.display)"
        if result.skippedUnchanged > 0 { line += ", \(result.skippedUnchanged) unchanged" }
        if unknownRemote { line += " (remote state unknown; unchanged files cannot be told apart)" }
        result.plan = [line] + result.transfers.prefix(50).map { "  \($0.operation == "skip" ? "=" : "+") \($0.target ?? "") (\(ByteCount.format($0.bytes)))" }
        if result.transfers.count > 50 { result.plan.append("  … and \(result.transfers.count - 50) more") }
        return result
    }
}
