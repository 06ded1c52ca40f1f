public import Foundation

/// A place that holds buckets of objects: a directory on disk, an S3-compatible
/// service, Backblaze B2's native API.
///
/// The executor only ever talks to this protocol, so a new provider plugs in
/// without touching it. Providers must be safe to call concurrently; the
/// executor runs many transfers at once against one instance.
///
/// Every method honours task cancellation: a cancelled transfer stops, removes
/// its temporary file (downloads) or aborts its multipart upload (uploads) and
/// throws `CancellationError`.
///
/// Errors a user can act on are thrown as ``StorageError``.
public protocol ObjectStorage: Sendable {
    /// A short description for logs and reports, e.g. `local:/srv/buckets` or
    /// `s3:https://s3.us-west-004.backblazeb2.com`. Never contains a secret.
    var displayName: String { get }

    /// Lists the buckets visible to the credentials.
    func listBuckets() async throws -> [BucketInfo]

    /// Whether `bucket` exists and is reachable with these credentials.
    func bucketExists(_ bucket: String) async throws -> Bool

    /// Creates `bucket`.
    ///
    /// - Throws: ``StorageError`` with code `.bucketAlreadyExists` when it
    ///   already exists (owned by us or not).
    func createBucket(_ bucket: String) async throws

    /// Deletes an empty `bucket`.
    ///
    /// - Throws: ``StorageError`` `.bucketNotEmpty`, `.noSuchBucket`.
    func deleteBucket(_ bucket: String) async throws

    /// One page of a listing.
    ///
    /// - Parameters:
    ///   - bucket: The bucket to list.
    ///   - prefix: Only keys starting with this prefix ("" for all).
    ///   - delimiter: When set (normally "/"), keys containing the delimiter
    ///     after the prefix are rolled up into ``ListPage/commonPrefixes``.
    ///   - continuationToken: The ``ListPage/nextContinuationToken`` of the
    ///     previous page, or nil for the first page.
    ///   - maxKeys: Upper bound on objects plus prefixes in this page.
    /// - Returns: Objects sorted by key (byte order of UTF-8), and prefixes.
    func listPage(
        bucket: String,
        prefix: String,
        delimiter: String?,
        continuationToken: String?,
        maxKeys: Int
    ) async throws -> ListPage

    /// Metadata of one object.
    ///
    /// - Throws: ``StorageError`` `.noSuchKey` or `.noSuchBucket`.
    func head(bucket: String, key: String) async throws -> ObjectInfo

    /// Streams an object's bytes (optionally a byte range) without holding it
    /// in memory.
    func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream

    /// Downloads an object to `destination`.
    ///
    /// Bytes go to a temporary file in the destination's directory, which is
    /// renamed over `destination` only once the whole object arrived and its
    /// checksum matched. On any error or cancellation the temporary file is
    /// removed and `destination` is untouched.
    func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult

    /// Like ``download(bucket:key:to:)``, with the object's metadata already
    /// known (from a listing), so a provider can skip asking for it again.
    func download(bucket: String, key: String, to destination: URL, known: ObjectInfo) async throws -> TransferResult

    /// Uploads the local file `source` as `key`, streaming from disk.
    func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult

    /// Copies an object within this storage (server-side where possible).
    func copy(
        fromBucket: String, fromKey: String,
        toBucket: String, toKey: String
    ) async throws -> TransferResult

    /// Deletes `keys` from `bucket` (batched by the provider). Missing keys are
    /// not an error.
    ///
    /// - Returns: The keys that could not be deleted, with the reason.
    func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure]

    /// Releases connections and other resources. Called once, when the run ends.
    func shutdown() async throws

    /// The public URL of an object, when the provider has one (B2's friendly
    /// download URL `{downloadUrl}/file/{bucket}/{key}`); nil otherwise.
    /// The `upload` action's `url` output.
    func publicURL(bucket: String, key: String) async throws -> String?
}

extension ObjectStorage {
    public func shutdown() async throws {}

    public func publicURL(bucket: String, key: String) async throws -> String? { nil }

    public func download(bucket: String, key: String, to destination: URL, known: ObjectInfo) async throws -> TransferResult {
        try await download(bucket: bucket, key: key, to: destination)
    }

    /// Every object under `prefix`, following continuation tokens to the end.
    public func listAll(bucket: String, prefix: String, pageSize: Int = 1000) async throws -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        var token: String? = nil
        repeat {
            try Task.checkCancellation()
            let page = try await listPage(
                bucket: bucket, prefix: prefix, delimiter: nil,
                continuationToken: token, maxKeys: pageSize)
            objects.append(contentsOf: page.objects)
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        return objects
    }

    /// The object's metadata, or nil when it does not exist.
    public func headIfExists(bucket: String, key: String) async throws -> ObjectInfo? {
        do {
            return try await head(bucket: bucket, key: key)
        } catch let error as StorageError where error.code == .noSuchKey {
            return nil
        }
    }
}

/// A stream of byte chunks of an object.
public typealias ObjectByteStream = AsyncThrowingStream<[UInt8], any Error>
