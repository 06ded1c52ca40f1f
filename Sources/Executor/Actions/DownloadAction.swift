import Workflow
import Foundation
import Storage

/// `download`: one object to a file (or into a directory), or every object
/// under a prefix into a directory, keeping the relative paths. Each file
/// arrives under a temporary name and is renamed once complete.
enum DownloadAction: StepAction {
    struct Item: Sendable {
        var object: ObjectInfo
        var destination: URL
    }

    enum ItemOutcome: Sendable {
        case downloaded(TransferResult)
        case unchanged
    }

    static func run(_ context: StepContext) async throws -> StepResult {
        let source = try await context.remote("from")
        let (destination, destinationText) = try await context.localPath("to")
        let skipUnchanged = try context.bool("skip-unchanged", default: false)
        var result = StepResult()

        var items: [Item] = []
        do {
            if source.isPrefix {
                let objects = try await source.storage.listAll(bucket: source.bucket, prefix: source.key)
                for object in objects where !object.key.hasSuffix("/") {
                    let relative = String(object.key.dropFirst(source.key.count))
                    items.append(Item(object: object, destination: try safeJoin(destination, relative, key: object.key)))
                }
            } else {
                let object = try await source.storage.head(bucket: source.bucket, key: source.key)
                var isDirectory: ObjCBool = false
                let intoDirectory = destinationText.hasSuffix("/") || (FileManager.default.fileExists(atPath: destination.path, isDirectory: &isDirectory) && isDirectory.boolValue)
                let name = source.key.split(separator: "/").last.map(String.init) ?? source.key
                items.append(Item(object: object, destination: intoDirectory ? destination.appendingPathComponent(name) : destination))
            }
        } catch let error as StorageError where context.dryRun {
            result.plan = ["download \(source.display) to \(destination.path) \(PlanText.unknown(error))"]
            return result
        }

        if context.dryRun {
            var files: [ExpressionValue] = []
            for item in items {
                files.append(.string(item.destination.path))
                if skipUnchanged, FileManager.default.fileExists(atPath: item.destination.path),
                   let same = try? Unchanged.local(item.destination, size: fileSize(item.destination), matches: item.object).0, same {
                    result.skippedUnchanged += 1
                    result.transfers.append(.init(operation: "skip", source: source.display(key: item.object.key), target: item.destination.path, bytes: item.object.size, reason: "unchanged"))
                    continue
                }
                result.objects += 1
                result.bytes += item.object.size
                result.transfers.append(.init(operation: "download", source: source.display(key: item.object.key), target: item.destination.path, bytes: item.object.size))
            }
            result.outputs = outputs(files: files, bytes: result.bytes, destination: destination, skipped: result.skippedUnchanged)
            var line = "download \(result.objects) object\(result.objects == 1 ? "" : "s") (\(ByteCount.format(result.bytes))) from \(source.display) to \(destination.path)"
            if result.skippedUnchanged > 0 { line += ", \(result.skippedUnchanged) unchanged" }
            result.plan = [line] + result.transfers.prefix(50).map { "  \($0.operation == "skip" ? "=" : "+") \($0.target ?? "") (\(ByteCount.format($0.bytes)))" }
            if result.transfers.count > 50 { result.plan.append("  … and \(result.transfers.count - 50) more") }
            return result
        }

        let outcomes = try await Transfers.forEach(items, context: context, limit: context.options.transfers) { item in
            if skipUnchanged, FileManager.default.fileExists(atPath: item.destination.path),
               try await BlockingIO.run({ _ in try Unchanged.local(item.destination, size: fileSize(item.destination), matches: item.object).0 }) {
                return ItemOutcome.unchanged
            }
            try FileManager.default.createDirectory(at: item.destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            let transfer = try await source.storage.download(bucket: source.bucket, key: item.object.key, to: item.destination, known: item.object)
            context.emit(.objectTransferred(step: context.step.id, operation: "download", target: item.destination.path, bytes: transfer.bytes))
            return .downloaded(transfer)
        }
        var files: [ExpressionValue] = []
        var failures: [(String, any Error)] = []
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .success(.downloaded(let transfer)):
                files.append(.string(item.destination.path))
                result.bytes += transfer.bytes
                result.objects += 1
                result.transferred += 1
                result.transfers.append(.init(operation: "download", source: source.display(key: item.object.key), target: item.destination.path, bytes: transfer.bytes, checksums: transfer.checksums))
            case .success(.unchanged):
                files.append(.string(item.destination.path))
                result.skippedUnchanged += 1
                result.transfers.append(.init(operation: "skip", source: source.display(key: item.object.key), target: item.destination.path, bytes: item.object.size, reason: "unchanged"))
            case .failure(let error):
                result.failedObjects += 1
                failures.append((item.object.key, error))
            }
        }
        result.outputs = outputs(files: files, bytes: result.bytes, destination: destination, skipped: result.skippedUnchanged)
        result.summary = "\(result.transferred) downloaded (\(ByteCount.format(result.bytes)))" + (result.skippedUnchanged > 0 ? ", \(result.skippedUnchanged) unchanged" : "") + " to \(destination.path)"
        if let (key, error) = failures.first {
            let detail = Executor.stepError(error)
            throw StepFailure(error: StepError(code: detail.code, message: "\(failures.count) of \(items.count) downloads failed; first: \(source.display(key: key)): \(detail.message)"), partial: result)
        }
        return result
    }

    static func outputs(files: [ExpressionValue], bytes: Int64, destination: URL, skipped: Int) -> [String: ExpressionValue] {
        [
            "files": .list(files), "count": .number(Double(files.count)), "bytes": .number(Double(bytes)),
            "path": files.count == 1 ? files[0] : .string(destination.path), "skipped": .number(Double(skipped)),
        ]
    }

    static func fileSize(_ url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? -1
    }

    /// `directory/relative`, refusing keys that would escape the directory.
    static func safeJoin(_ directory: URL, _ relative: String, key: String) throws -> URL {
        let segments = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !relative.hasPrefix("/"), !segments.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw StepError(code: "UnsafeKey", message: "object key \"\(key)\" cannot be saved safely under \(directory.path) (it contains an empty, \".\" or \"..\" segment)")
        }
        return directory.appendingPathComponent(relative)
    }
}
