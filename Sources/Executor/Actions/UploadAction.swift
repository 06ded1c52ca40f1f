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

    static func run(_ context: StepContext) async throws -> StepResult {
        let (source, sourceText) = try await context.localPath("from")
        let target = try await context.remote("to")
        let skipUnchanged = try context.bool("skip-unchanged", default: false)
        let contentType = try context.string("content-type")
        let metadata = try context.stringMap("metadata")
        let exclude = try context.stringList("exclude")
        let files = try await BlockingIO.run { flag in try LocalFiles.expand(sourceText, resolved: source, exclude: exclude, cancellation: flag) }
        guard !files.isEmpty else {
            throw StepError(code: .noSuchFile, message: "no files match \(sourceText) (resolved to \(source.path)); check the path, which is relative to the workflow file")
        }
        if files.count > 1 && !target.isPrefix {
            throw StepError.invalid("`to` must end with \"/\" when uploading several files (\(files.count) match \(sourceText)); write \(target.display)/")
        }
        // One shard of a sharded step keeps its share of the files (by relative path).
        let items = files.filter { context.owns($0.relativePath) }.map { file in
            Item(file: file, key: target.isPrefix ? target.key + file.relativePath : target.key)
        }
        var result = StepResult()
        result.outputs = outputs(keys: items.map(\.key), target: target)
        if context.dryRun {
            try await plan(items, target: target, skipUnchanged: skipUnchanged, context: context)
            let counts = context.journal.counts
            var line = "upload \(plural(counts.planned, "object")) (\(ByteCount.format(counts.bytes))) to \(target.display)"
            if counts.unchanged > 0 { line += ", \(counts.unchanged) unchanged" }
            result.plan = context.planLines(line)
            result.outputs["bytes"] = .number(Double(counts.bytes))
            return result
        }

        RunProgress.shared.expect(step: context.step.id, objects: items.count, bytes: items.reduce(Int64(0)) { $0 + $1.file.size })
        let outcomes = try await Transfers.forEach(items, context: context, limit: context.options.transfers, ref: { item in
            .init(operation: .upload, source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size)
        }, reconcile: { item in
            await landed(item, target: target)
        }) { item in
            var options = PutOptions(contentType: contentType, metadata: metadata)
            if skipUnchanged {
                if let remote = try await target.storage.headIfExists(bucket: target.bucket, key: item.key) {
                    let (same, sha) = try await BlockingIO.run { flag in try Unchanged.local(item.file.url, size: item.file.size, matches: remote, cancellation: flag) }
                    if same { return .unchanged }
                    if let sha { options.metadata["sha256"] = sha }
                } else {
                    options.metadata["sha256"] = try await BlockingIO.run { flag in try FileDigest.digests(of: item.file.url, cancellation: flag).sha256 }
                }
            }
            let transfer = try await target.storage.upload(from: item.file.url, bucket: target.bucket, key: item.key, options: options)
            context.emit(.objectTransferred(step: context.step.id, operation: "upload", target: target.display(key: item.key), bytes: transfer.bytes))
            return .transferred(transfer)
        }
        let counts = context.journal.counts
        result.outputs = outputs(keys: zip(items, outcomes).compactMap { $1 == nil ? nil : $0.key }, target: target)
        result.outputs["bytes"] = .number(Double(counts.bytes))
        result.outputs["skipped"] = .number(Double(counts.unchanged))
        // The provider's own address for a single object (B2: its friendly
        // download URL, as the origin script's `new_file.url`); `location`
        // keeps the NAME://bucket/key form for later steps.
        if items.count == 1, outcomes.first.flatMap({ $0 }) != nil,
           let url = try? await target.storage.publicURL(bucket: target.bucket, key: items[0].key) {
            result.outputs["url"] = .string(url)
        }
        result.summary = "\(counts.transferred) uploaded (\(ByteCount.format(counts.bytes)))" + (counts.unchanged > 0 ? ", \(counts.unchanged) unchanged" : "") + " to \(target.display)"
        if let failure = Transfers.failure("upload", total: items.count, journal: context.journal) {
            throw StepFailure(error: failure, partial: result)
        }
        return result
    }

    /// Whether an upload cancelled in flight landed anyway: the object is
    /// there with this file's size and content checksum.
    static func landed(_ item: Item, target: RemoteTarget) async -> TransferResult? {
        guard let remote = try? await target.storage.headIfExists(bucket: target.bucket, key: item.key),
              remote.size == item.file.size,
              let (same, _) = try? await BlockingIO.run({ flag in try Unchanged.local(item.file.url, size: item.file.size, matches: remote, cancellation: flag) }),
              same else { return nil }
        return TransferResult(key: item.key, bytes: remote.size, etag: remote.etag)
    }

    static func outputs(keys: [String], target: RemoteTarget) -> [String: ExpressionValue] {
        let urls = keys.map { ExpressionValue.string(target.display(key: $0)) }
        return [
            "keys": .list(keys.map(ExpressionValue.string)), "count": .number(Double(keys.count)), "bytes": .number(0),
            "url": urls.count == 1 ? urls[0] : .string(target.display), "urls": .list(urls), "skipped": .number(0),
            "location": urls.count == 1 ? urls[0] : .string(target.display),
        ]
    }

    /// Plans the upload: each file is new, unchanged, or replaces an object.
    /// A remote that cannot be read fails the plan (it cannot tell).
    static func plan(_ items: [Item], target: RemoteTarget, skipUnchanged: Bool, context: StepContext) async throws {
        if skipUnchanged {
            // One listing instead of a HEAD per file; the plan's world knows
            // what earlier steps add or remove.
            let common = commonPrefix(items.map(\.key))
            let existing = try await context.listAll(target, prefix: common)
            let byKey = Dictionary(existing.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for item in items {
                if let remote = byKey[item.key],
                   (try? await BlockingIO.run({ flag in try Unchanged.local(item.file.url, size: item.file.size, matches: remote, cancellation: flag).0 })) == true {
                    context.record(.upload, .unchanged, source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size)
                } else {
                    context.record(.upload, .planned, source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size)
                }
            }
        } else {
            for item in items {
                context.record(.upload, .planned, source: item.file.url.path, target: target.display(key: item.key), bytes: item.file.size)
            }
        }
        let writes = items.map { ($0.key, $0.file.size) }
        await context.plan { world in for (key, size) in writes { world.write(key, size: size, in: target.id) } }
    }

    static func commonPrefix(_ keys: [String]) -> String {
        guard var prefix = keys.first.map({ Array($0.utf8) }) else { return "" }
        for key in keys.dropFirst() {
            let bytes = Array(key.utf8)
            var n = 0
            while n < prefix.count && n < bytes.count && prefix[n] == bytes[n] { n += 1 }
            prefix.removeLast(prefix.count - n)
        }
        // Cut back to the last "/" so the prefix is a folder (and valid UTF-8).
        while let last = prefix.last, last != UInt8(ascii: "/") { prefix.removeLast() }
        return String(decoding: prefix, as: UTF8.self)
    }
}
