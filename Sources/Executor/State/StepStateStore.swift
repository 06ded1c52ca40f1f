public import Foundation
public import Workflow
public import Storage

/// Where `--only` runs keep each step's outcome: a local directory (a volume
/// every pod mounts) or a location in one of the workflow's storages
/// (`NAME://bucket/prefix/`). Layout: `LOCATION/RUN-ID/STEP.json`
/// (`STEP.shard-K-of-N.json` for shards), each written atomically.
public struct StepStateStore: Sendable {
    public enum Place: Sendable, Hashable {
        case directory(URL)
        case storage(name: String, bucket: String, prefix: String)
    }

    public let place: Place

    /// - Parameter location: A directory path (relative to the current
    ///   directory) or `NAME://bucket/prefix/` naming a declared storage.
    public init(location: String, workflow: Workflow) throws(StepStateError) {
        if let parsed = try? Location.parse(location), case .remote(let name, let bucket, let key) = parsed {
            guard workflow.storage(name) != nil else {
                throw StepStateError("--state \(location): the workflow declares no storage \"\(name)\"; use a directory or NAME://bucket/prefix/ with a declared storage")
            }
            var prefix = key
            if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
            place = .storage(name: name, bucket: bucket, prefix: prefix)
        } else {
            guard !location.isEmpty, !location.contains("://") else {
                throw StepStateError("--state \(location): expected a directory or NAME://bucket/prefix/ naming a declared storage")
            }
            place = .directory(URL(fileURLWithPath: location).standardizedFileURL)
        }
    }

    /// A run id is a path segment: letters, digits, `.`, `_`, `-`.
    public static func checkRunID(_ id: String) throws(StepStateError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !id.isEmpty, id.count <= 200, id.allSatisfy({ allowed.contains($0) }), id != ".", id != ".." else {
            throw StepStateError("--run-id \"\(id)\": use 1 to 200 letters, digits, '.', '_' or '-' (Argo's {{workflow.name}} qualifies)")
        }
    }

    /// The storage the place lives in (nil for a directory).
    public var storageName: String? {
        if case .storage(let name, _, _) = place { return name }
        return nil
    }

    public func write(_ document: StepStateDocument, storage: (any ObjectStorage)?) async throws {
        let name = StepStateDocument.fileName(step: document.step.id, shard: try document.shard.map { try ShardAssignment(parsing: $0) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(document)
        switch place {
        case .directory(let root):
            try AtomicFile.write(data, to: root.appendingPathComponent(document.runId).appendingPathComponent(name))
        case .storage(_, let bucket, let prefix):
            guard let storage else { throw StepStateError("the state storage is not available") }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-state-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent(name)
            try data.write(to: file)
            _ = try await storage.upload(from: file, bucket: bucket, key: "\(prefix)\(document.runId)/\(name)", options: PutOptions(contentType: "application/json"))
        }
    }

    /// Every recorded document of a run.
    public func documents(runID: String, storage: (any ObjectStorage)?) async throws -> [StepStateDocument] {
        var blobs: [Data] = []
        switch place {
        case .directory(let root):
            let directory = root.appendingPathComponent(runID)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
                blobs.append(try Data(contentsOf: directory.appendingPathComponent(name)))
            }
        case .storage(_, let bucket, let prefix):
            guard let storage else { throw StepStateError("the state storage is not available") }
            for object in try await storage.listAll(bucket: bucket, prefix: "\(prefix)\(runID)/") where object.key.hasSuffix(".json") {
                guard object.size <= 64 << 20 else { throw StepStateError("\(object.key) is larger than 64 MiB; not a step state document") }
                var data = Data()
                for try await chunk in try await storage.read(bucket: bucket, key: object.key, range: nil) { data.append(contentsOf: chunk) }
                blobs.append(data)
            }
        }
        let decoder = JSONDecoder()
        return try blobs.map { data in
            do { return try decoder.decode(StepStateDocument.self, from: data) } catch {
                throw StepStateError("a step state document of run \(runID) cannot be read: \(error)")
            }
        }
    }

    /// Each step's outcome in the run, shards merged.
    public func outcomes(runID: String, storage: (any ObjectStorage)?) async throws -> [String: RunReport.StepReport] {
        let documents = try await documents(runID: runID, storage: storage)
        var byStep: [String: [RunReport.StepReport]] = [:]
        for document in documents { byStep[document.step.id, default: []].append(document.step) }
        return byStep.compactMapValues(StepStateDocument.merge)
    }
}

public struct StepStateError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
