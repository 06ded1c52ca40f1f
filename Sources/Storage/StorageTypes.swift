public import Foundation

/// A bucket as listed by a provider.
public struct BucketInfo: Sendable, Hashable, Codable {
    public var name: String
    public var createdAt: Date?

    public init(name: String, createdAt: Date? = nil) {
        self.name = name
        self.createdAt = createdAt
    }
}

/// What a provider knows about one object.
public struct ObjectInfo: Sendable, Hashable, Codable {
    public var key: String
    public var size: Int64
    public var lastModified: Date?
    /// The provider's entity tag without quotes (S3: MD5 hex for single-part
    /// uploads, `hex-N` for multipart).
    public var etag: String?
    public var contentType: String?
    /// User metadata (S3 `x-amz-meta-*`), keys lower-cased without the prefix.
    public var metadata: [String: String]
    /// Checksums the provider stores or computed, keyed by algorithm
    /// (`sha256`, `md5`, `crc32c`), values lower-case hex.
    public var checksums: [String: String]

    public init(
        key: String, size: Int64, lastModified: Date? = nil, etag: String? = nil,
        contentType: String? = nil, metadata: [String: String] = [:],
        checksums: [String: String] = [:]
    ) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
        self.contentType = contentType
        self.metadata = metadata
        self.checksums = checksums
    }
}

/// One page of a listing.
public struct ListPage: Sendable, Hashable {
    public var objects: [ObjectInfo]
    /// Rolled-up "folders" when a delimiter was given, each ending in the delimiter.
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextContinuationToken: String?

    public init(objects: [ObjectInfo], commonPrefixes: [String] = [], isTruncated: Bool = false, nextContinuationToken: String? = nil) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextContinuationToken = nextContinuationToken
    }
}

/// Options for an upload.
public struct PutOptions: Sendable, Hashable {
    /// Content type to store; nil lets the provider guess from the key's extension.
    public var contentType: String?
    /// User metadata to store with the object.
    public var metadata: [String: String]

    public init(contentType: String? = nil, metadata: [String: String] = [:]) {
        self.contentType = contentType
        self.metadata = metadata
    }
}

/// The outcome of one object transfer.
public struct TransferResult: Sendable, Hashable, Codable {
    public var key: String
    public var bytes: Int64
    /// Checksums computed while the bytes streamed, keyed by algorithm
    /// (`sha256`, `md5`, `crc32c`), values lower-case hex.
    public var checksums: [String: String]
    public var etag: String?

    public init(key: String, bytes: Int64, checksums: [String: String] = [:], etag: String? = nil) {
        self.key = key
        self.bytes = bytes
        self.checksums = checksums
        self.etag = etag
    }
}

/// A key a batch delete could not remove.
public struct DeleteFailure: Sendable, Hashable, Codable {
    public var key: String
    public var code: String
    public var message: String

    public init(key: String, code: String, message: String) {
        self.key = key
        self.code = code
        self.message = message
    }
}
