import Workflow
import Foundation
import Storage

/// `copy`: object(s) from one location to another: server-side within one
/// storage, through a temporary local file across storages.
enum CopyAction: StepAction {
    struct Item: Sendable {
        var object: ObjectInfo
        var key: String
    }

    enum ItemOutcome: Sendable {
        case copied(TransferResult)
        case unchanged
    }

    static func run(_ context: StepContext) async throws -> StepResult {
        let source = try await context.remote("from")
        let target = try await context.remote("to")
        let skipUnchanged = try context.bool("skip-unchanged", default: false)
        var result = StepResult()
        var items: [Item] = []
        do {
            if source.isPrefix {
                guard target.isPrefix else {
                    throw StepError.invalid("`to` must end with \"/\" when copying a prefix (\(source.display)); write \(target.display)/")
                }
                for object in try await source.storage.listAll(bucket: source.bucket, prefix: source.key) {
                    items.append(Item(object: object, key: target.key + object.key.dropFirst(source.key.count)))
                }
            } else {
                let object = try await source.storage.head(bucket: source.bucket, key: source.key)
                let name = source.key.split(separator: "/").last.map(String.init) ?? source.key
                items.append(Item(object: object, key: target.isPrefix ? target.key + name : target.key))
            }
        } catch let error as StorageError where context.dryRun {
            result.plan = ["copy \(source.display) to \(target.display) \(PlanText.unknown(error))"]
            return result
        }
        let sameStorage = source.storageName == target.storageName

        let outcomes: [Result<ItemOutcome, any Error>]
        if context.dryRun {
            outcomes = await items.asyncMap { item in
                if skipUnchanged, let existing = try? await target.storage.headIfExists(bucket: target.bucket, key: item.key),
                   Unchanged.objects(item.object, existing) {
                    return .success(.unchanged)
                }
                return .success(.copied(TransferResult(key: item.key, bytes: item.object.size)))
            }
        } else {
            outcomes = try await Transfers.forEach(items, context: context, limit: context.options.transfers) { item in
                if skipUnchanged, let existing = try await target.storage.headIfExists(bucket: target.bucket, key: item.key),
                   Unchanged.objects(item.object, existing) {
                    return ItemOutcome.unchanged
                }
                let transfer: TransferResult
                if sameStorage {
                    transfer = try await source.storage.copy(fromBucket: source.bucket, fromKey: item.object.key, toBucket: target.bucket, toKey: item.key)
                } else {
                    transfer = try await relay(item, source: source, target: target)
                }
                context.emit(.objectTransferred(step: context.step.id, operation: "copy", target: target.display(key: item.key), bytes: transfer.bytes))
                return .copied(transfer)
            }
        }
        var keys: [ExpressionValue] = []
        var failures: [(String, any Error)] = []
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .success(.copied(let transfer)):
                keys.append(.string(item.key))
                result.bytes += transfer.bytes
                result.objects += 1
                result.transferred += context.dryRun ? 0 : 1
                result.transfers.append(.init(operation: "copy", source: source.display(key: item.object.key), target: target.display(key: item.key), bytes: transfer.bytes, checksums: transfer.checksums.isEmpty ? nil : transfer.checksums))
            case .success(.unchanged):
                keys.append(.string(item.key))
                result.skippedUnchanged += 1
                result.transfers.append(.init(operation: "skip", source: source.display(key: item.object.key), target: target.display(key: item.key), bytes: item.object.size, reason: "unchanged"))
            case .failure(let error):
                result.failedObjects += 1
                failures.append((item.key, error))
            }
        }
        let urls = keys.map { ExpressionValue.string(target.display(key: $0.description)) }
        result.outputs = ["keys": .list(keys), "count": .number(Double(keys.count)), "bytes": .number(Double(result.bytes)),
                          "url": urls.count == 1 ? urls[0] : .string(target.display), "skipped": .number(Double(result.skippedUnchanged))]
        if context.dryRun {
            var line = "copy \(result.objects) object\(result.objects == 1 ? "" : "s") (\(ByteCount.format(result.bytes))) from \(source.display) to \(target.display)"
            if result.skippedUnchanged > 0 { line += ", \(result.skippedUnchanged) unchanged" }
            result.plan = [line] + result.transfers.prefix(50).map { "  \($0.operation == "skip" ? "=" : "+") \($0.target ?? "") (\(ByteCount.format($0.bytes)))" }
            if result.transfers.count > 50 { result.plan.append("  … and \(result.transfers.count - 50) more") }
            return result
        }
        result.summary = "\(result.transferred) copied (\(ByteCount.format(result.bytes)))" + (result.skippedUnchanged > 0 ? ", \(result.skippedUnchanged) unchanged" : "") + " to \(target.display)"
        if let (key, error) = failures.first {
            let detail = Executor.stepError(error)
            throw StepFailure(error: StepError(code: detail.code, message: "\(failures.count) of \(items.count) copies failed; first: \(target.display(key: key)): \(detail.message)"), partial: result)
        }
        return result
    }

    /// Copies across storages through a private temporary file.
    static func relay(_ item: Item, source: RemoteTarget, target: RemoteTarget) async throws -> TransferResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("object")
        _ = try await source.storage.download(bucket: source.bucket, key: item.object.key, to: file)
        var options = PutOptions(contentType: item.object.contentType, metadata: item.object.metadata)
        if let sha = Unchanged.sha256(of: item.object) { options.metadata["sha256"] = sha }
        return try await target.storage.upload(from: file, bucket: target.bucket, key: item.key, options: options)
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var results: [T] = []
        for element in self { results.append(await transform(element)) }
        return results
    }
}
