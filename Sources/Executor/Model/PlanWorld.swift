import Storage

/// The remote state a plan expects after the steps it has planned so far.
///
/// A plan reads real listings but writes nothing, so a step planned after
/// `delete-folder` would still see the folder's objects, and `delete-bucket`
/// would count them again. Steps record their planned effects here and read
/// listings through it, so totals follow the plan's own order.
struct PlanWorld: Sendable {
    struct BucketID: Hashable, Sendable {
        var storage: String
        var bucket: String
    }

    /// Buckets the plan creates (true) or deletes (false).
    private var buckets: [BucketID: Bool] = [:]
    /// Keys the plan deletes, per bucket.
    private var deleted: [BucketID: Set<String>] = [:]
    /// Keys the plan writes (upload, copy, folder markers), with their sizes.
    private var written: [BucketID: [String: Int64]] = [:]

    /// Whether the bucket exists after the planned steps; nil when the plan
    /// has not touched it (ask the storage).
    func bucketExists(_ id: BucketID) -> Bool? { buckets[id] }

    mutating func createBucket(_ id: BucketID) {
        buckets[id] = true
    }

    mutating func deleteBucket(_ id: BucketID) {
        buckets[id] = false
        deleted[id] = nil
        written[id] = nil
    }

    mutating func delete(_ keys: [String], in id: BucketID) {
        deleted[id, default: []].formUnion(keys)
        for key in keys { written[id]?[key] = nil }
    }

    mutating func write(_ key: String, size: Int64, in id: BucketID) {
        written[id, default: [:]][key] = size
        deleted[id]?.remove(key)
    }

    /// The remote listing as the plan expects it at this point.
    ///
    /// - Parameter remote: Reads the real listing; `NoSuchBucket` from it is
    ///   fine when the plan creates the bucket.
    func listing(_ id: BucketID, prefix: String, remote: () async throws -> [ObjectInfo]) async throws -> [ObjectInfo] {
        var objects: [ObjectInfo]
        switch buckets[id] {
        case false?:
            objects = []
        case true?:
            do { objects = try await remote() } catch let error as StorageError where error.code == .noSuchBucket { objects = [] }
        case nil:
            objects = try await remote()
        }
        if let gone = deleted[id], !gone.isEmpty { objects.removeAll { gone.contains($0.key) } }
        if let added = written[id] {
            let present = Set(objects.map(\.key))
            for (key, size) in added where key.hasPrefix(prefix) && !present.contains(key) {
                objects.append(ObjectInfo(key: key, size: size))
            }
            objects.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
        return objects
    }

    /// One object as the plan expects it: nil when it will not exist.
    /// `known` is false when the plan has no opinion (ask the storage).
    func object(_ key: String, in id: BucketID) -> (known: Bool, info: ObjectInfo?) {
        if buckets[id] == false { return (true, nil) }
        if deleted[id]?.contains(key) == true { return (true, nil) }
        if let size = written[id]?[key] { return (true, ObjectInfo(key: key, size: size)) }
        return (false, nil)
    }
}
