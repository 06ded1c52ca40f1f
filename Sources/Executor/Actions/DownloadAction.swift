import Workflow
import Foundation
import Storage

/// `download`: one object to a file (or into a directory), or every object
/// under a prefix into a directory, keeping the relative paths. Each file
/// arrives under a temporary name and is renamed once complete. A key that
/// cannot be saved safely (`a/../../x`, or one whose path crosses a
/// symbolic link inside the destination) is refused and recorded; the
/// others still download, and the step then fails.
///
/// Before the first byte, the destination tree is swept of temporary files
/// left by writers that died (a killed run): only files whose lock can be
/// taken, never a live run's. Folders are created and walked below the
/// destination with ``BeneathDirectory``, so no write follows a link.
enum DownloadAction: StepAction {
    struct Item: Sendable {
        var object: ObjectInfo
        var destination: URL
        /// The path below ``DownloadAction/Destination/directory`` to write.
        var relative: String
    }

    /// The folder the files are written below, and whether its sub-folders are written too.
    struct Destination {
        var directory: URL
        var recursive: Bool
    }

    static func run(_ context: StepContext) async throws -> StepResult {
        let source = try await context.remote("from")
        let (destination, destinationText) = try await context.localPath("to")
        let skipUnchanged = try context.bool("skip-unchanged", default: false)
        var result = StepResult()

        var items: [Item] = []
        var total = 0
        if source.isPrefix {
            let objects = try await context.listAll(source, prefix: source.key)
            for object in objects where !object.key.hasSuffix("/") && context.owns(object.key) {
                total += 1
                let relative = String(object.key.dropFirst(source.key.count))
                do {
                    items.append(Item(object: object, destination: try safeJoin(destination, relative, key: object.key), relative: relative))
                } catch let error as StepError {
                    context.record(.download, .refused, source: source.display(key: object.key), target: nil, bytes: object.size, error: error)
                }
            }
        } else {
            guard let object = try await context.headIfExists(source, key: source.key) else {
                throw StepError(code: .noSuchKey, message: "\(source.display) does not exist; check the key, or end `from` with \"/\" to download a folder")
            }
            total = 1
            var isDirectory: ObjCBool = false
            let intoDirectory = destinationText.hasSuffix("/") || (FileManager.default.fileExists(atPath: destination.path, isDirectory: &isDirectory) && isDirectory.boolValue)
            let name = source.key.split(separator: "/").last.map(String.init) ?? source.key
            let file = intoDirectory ? destination.appendingPathComponent(name) : destination
            items.append(Item(object: object, destination: file, relative: file.lastPathComponent))
        }
        let folder = Destination(directory: source.isPrefix ? destination : items[0].destination.deletingLastPathComponent(), recursive: source.isPrefix)

        if context.dryRun {
            for item in items {
                let ref = (source.display(key: item.object.key), item.destination.path, item.object.size)
                if skipUnchanged, FileManager.default.fileExists(atPath: item.destination.path),
                   (try? await BlockingIO.run({ flag in try Unchanged.local(item.destination, size: fileSize(item.destination), matches: item.object, cancellation: flag).0 })) == true {
                    context.record(.download, .unchanged, source: ref.0, target: ref.1, bytes: ref.2)
                } else {
                    context.record(.download, .planned, source: ref.0, target: ref.1, bytes: ref.2)
                }
            }
            let counts = context.journal.counts
            result.outputs = outputs(files: items.map(\.destination.path), bytes: counts.bytes, destination: destination, skipped: counts.unchanged)
            var line = "download \(plural(counts.planned, "object")) (\(ByteCount.format(counts.bytes))) from \(source.display) to \(destination.path)"
            if counts.unchanged > 0 { line += ", \(counts.unchanged) unchanged" }
            if counts.refused > 0 { line += "; \(counts.refused) refused (unsafe names): the run would fail" }
            result.plan = context.planLines(line)
            return result
        }

        let beneath = try await prepareDestination(folder, hasItems: !items.isEmpty)
        RunProgress.shared.expect(step: context.step.id, objects: items.count, bytes: items.reduce(Int64(0)) { $0 + $1.object.size })
        let outcomes = try await Transfers.forEach(items, context: context, limit: context.options.transfers, ref: { item in
            .init(operation: .download, source: source.display(key: item.object.key), target: item.destination.path, bytes: item.object.size)
        }) { item in
            // Creates the folders without following links; a key crossing a
            // link (or naming one) is refused, not written through it.
            let target = try prepare(item, in: beneath)
            if skipUnchanged, FileManager.default.fileExists(atPath: target.path) {
                let size = fileSize(target)
                var object = item.object
                // A listing carries only the checksums a storage already has (the
                // local provider computes its SHA-256 lazily): ask for it when it
                // could prove the file unchanged.
                if size == object.size, Unchanged.sha256(of: object) == nil, Unchanged.md5(of: object) == nil,
                   let fresh = try await source.storage.headIfExists(bucket: source.bucket, key: object.key), fresh.size == object.size {
                    object = fresh
                }
                if try await BlockingIO.run({ [object] flag in try Unchanged.local(target, size: size, matches: object, cancellation: flag).0 }) {
                    return .unchanged
                }
            }
            let transfer = try await source.storage.download(bucket: source.bucket, key: item.object.key, to: target, known: item.object)
            context.emit(.objectTransferred(step: context.step.id, operation: "download", target: item.destination.path, bytes: transfer.bytes))
            return .transferred(transfer)
        }
        let counts = context.journal.counts
        let files = zip(items, outcomes).compactMap { $1 == nil ? nil : $0.destination.path }
        result.outputs = outputs(files: files, bytes: counts.bytes, destination: destination, skipped: counts.unchanged)
        result.summary = "\(counts.transferred) downloaded (\(ByteCount.format(counts.bytes)))" + (counts.unchanged > 0 ? ", \(counts.unchanged) unchanged" : "") + " to \(destination.path)"
        if let failure = Transfers.failure("download", total: total, journal: context.journal) {
            throw StepFailure(error: failure, partial: result)
        }
        return result
    }

    /// Opens (creating) the destination folder and sweeps the temporary
    /// files that dead writers left in it (and below it, for a folder
    /// download). Live runs' files are locked and stay.
    static func prepareDestination(_ folder: Destination, hasItems: Bool) async throws -> BeneathDirectory? {
        guard hasItems else { return nil }
        let beneath: BeneathDirectory
        do {
            beneath = try BeneathDirectory(path: folder.directory.path, create: true)
        } catch {
            throw StepError(code: ErrorCode(error.code), message: "cannot write into \(folder.directory.path): \(error)")
        }
        let root = URL(fileURLWithPath: beneath.path)
        try await BlockingIO.run { flag in
            _ = try TemporaryFiles.sweep(directory: root, recursive: folder.recursive, cancellation: flag)
        }
        return beneath
    }

    /// The checked file URL of one item below the destination.
    static func prepare(_ item: Item, in beneath: BeneathDirectory?) throws -> URL {
        guard let beneath else { return item.destination }
        do {
            return try beneath.prepare(relativePath: item.relative)
        } catch where error.code == .unsafePath {
            throw StepError(code: .unsafeKey, message: "object key \"\(item.object.key)\" cannot be saved safely at \(item.destination.path): \(error.message); it was not downloaded")
        } catch {
            throw StepError(code: ErrorCode(error.code), message: error.description)
        }
    }

    static func outputs(files: [String], bytes: Int64, destination: URL, skipped: Int) -> [String: ExpressionValue] {
        [
            "files": .list(files.map(ExpressionValue.string)), "count": .number(Double(files.count)), "bytes": .number(Double(bytes)),
            "path": files.count == 1 ? .string(files[0]) : .string(destination.path), "skipped": .number(Double(skipped)),
        ]
    }

    static func fileSize(_ url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? -1
    }

    /// `directory/relative`, refusing keys that would escape the directory.
    static func safeJoin(_ directory: URL, _ relative: String, key: String) throws -> URL {
        let segments = relative.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let dot = Array(".".utf8), dotdot = Array("..".utf8)
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.utf8.contains(0),
              !segments.contains(where: { $0.isEmpty || Array($0) == dot || Array($0) == dotdot }) else {
            throw StepError(code: .unsafeKey, message: "object key \"\(key)\" cannot be saved safely under \(directory.path) (it contains an empty, \".\" or \"..\" segment); it was not downloaded")
        }
        return directory.appendingPathComponent(relative)
    }
}
