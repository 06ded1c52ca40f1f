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

    static func run(_ context: StepContext) async throws -> StepResult {
        let source = try await context.remote("from")
        let target = try await context.remote("to")
        let skipUnchanged = try context.bool("skip-unchanged", default: false)
        var result = StepResult()
        var items: [Item] = []
        if source.isPrefix {
            guard target.isPrefix else {
                throw StepError.invalid("`to` must end with \"/\" when copying a prefix (\(source.display)); write \(target.display)/")
            }
            for object in try await context.listAll(source, prefix: source.key) where context.owns(object.key) {
                items.append(Item(object: object, key: target.key + object.key.dropFirst(source.key.count)))
            }
        } else {
            guard let object = try await context.headIfExists(source, key: source.key) else {
                throw StepError(code: .noSuchKey, message: "\(source.display) does not exist; check the key, or end `from` with \"/\" to copy a folder")
            }
            let name = source.key.split(separator: "/").last.map(String.init) ?? source.key
            items.append(Item(object: object, key: target.isPrefix ? target.key + name : target.key))
        }
        let sameStorage = source.storageName == target.storageName

        if context.dryRun {
            for item in items {
                let existing = skipUnchanged ? try await context.headIfExists(target, key: item.key) : nil
                let unchanged = existing.map { Unchanged.objects(item.object, $0) } ?? false
                context.record(.copy, unchanged ? .unchanged : .planned, source: source.display(key: item.object.key), target: target.display(key: item.key), bytes: item.object.size)
            }
            let writes = items.map { ($0.key, $0.object.size) }
            await context.plan { world in for (key, size) in writes { world.write(key, size: size, in: target.id) } }
            let counts = context.journal.counts
            result.outputs = outputs(keys: items.map(\.key), target: target, bytes: counts.bytes, skipped: counts.unchanged)
            var line = "copy \(plural(counts.planned, "object")) (\(ByteCount.format(counts.bytes))) from \(source.display) to \(target.display)"
            if counts.unchanged > 0 { line += ", \(counts.unchanged) unchanged" }
            result.plan = context.planLines(line)
            return result
        }

        RunProgress.shared.expect(step: context.step.id, objects: items.count, bytes: items.reduce(Int64(0)) { $0 + $1.object.size })
        let outcomes = try await Transfers.forEach(items, context: context, limit: context.options.transfers, ref: { item in
            .init(operation: .copy, source: source.display(key: item.object.key), target: target.display(key: item.key), bytes: item.object.size)
        }, reconcile: { item in
            // A copy cancelled in flight may have completed on the server.
            guard let existing = try? await target.storage.headIfExists(bucket: target.bucket, key: item.key),
                  Unchanged.objects(item.object, existing) else { return nil }
            return TransferResult(key: item.key, bytes: existing.size, etag: existing.etag)
        }) { item in
            if skipUnchanged, let existing = try await target.storage.headIfExists(bucket: target.bucket, key: item.key), existing.size == item.object.size {
                var object = item.object
                // A listing carries only the checksums a storage already has (the
                // local provider computes its SHA-256 lazily): ask for it when it
                // could prove the object unchanged.
                if Unchanged.sha256(of: object) == nil,
                   let fresh = try await source.storage.headIfExists(bucket: source.bucket, key: object.key), fresh.size == object.size {
                    object = fresh
                }
                if Unchanged.objects(object, existing) { return .unchanged }
            }
            let transfer: TransferResult
            if sameStorage {
                transfer = try await source.storage.copy(fromBucket: source.bucket, fromKey: item.object.key, toBucket: target.bucket, toKey: item.key)
            } else {
                transfer = try await relay(item, source: source, target: target)
            }
            context.emit(.objectTransferred(step: context.step.id, operation: "copy", target: target.display(key: item.key), bytes: transfer.bytes))
            return .transferred(transfer)
        }
        let counts = context.journal.counts
        result.outputs = outputs(keys: zip(items, outcomes).compactMap { $1 == nil ? nil : $0.key }, target: target, bytes: counts.bytes, skipped: counts.unchanged)
        result.summary = "\(counts.transferred) copied (\(ByteCount.format(counts.bytes)))" + (counts.unchanged > 0 ? ", \(counts.unchanged) unchanged" : "") + " to \(target.display)"
        if let failure = Transfers.failure("copy", total: items.count, journal: context.journal) {
            throw StepFailure(error: failure, partial: result)
        }
        return result
    }

    static func outputs(keys: [String], target: RemoteTarget, bytes: Int64, skipped: Int) -> [String: ExpressionValue] {
        let urls = keys.map { ExpressionValue.string(target.display(key: $0)) }
        return ["keys": .list(keys.map(ExpressionValue.string)), "count": .number(Double(keys.count)), "bytes": .number(Double(bytes)),
                "url": urls.count == 1 ? urls[0] : .string(target.display), "skipped": .number(Double(skipped))]
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
