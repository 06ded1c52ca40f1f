// TEMPORARY compile stub until the S3 module lands (helper). Not for commit.
public import Foundation
public import Storage

public struct S3Configuration: Sendable {
    public enum AddressingStyle: String, Sendable { case auto, path, virtualHosted = "virtual" }
    public var endpoint: URL
    public var region: String
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var addressingStyle: AddressingStyle = .auto
    public var allowInsecureHTTP = false
    public var multipartThreshold: Int64 = 64 << 20
    public var partSize: Int64 = 16 << 20
    public var partConcurrency = 4
    public var maxAttempts = 5
    public init(endpoint: URL, region: String = "us-east-1", accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.endpoint = endpoint; self.region = region; self.accessKeyId = accessKeyId; self.secretAccessKey = secretAccessKey; self.sessionToken = sessionToken
    }
    public static func endpoint(forPreset preset: String, region: String, account: String?) throws(StorageError) -> URL {
        throw StorageError(.notSupported, "S3 is not available in this build")
    }
}

public final class S3Storage: ObjectStorage {
    public init(configuration: S3Configuration, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        throw StorageError(.notSupported, "S3 is not available in this build")
    }
    public var displayName: String { "s3" }
    public func listBuckets() async throws -> [BucketInfo] { [] }
    public func bucketExists(_ bucket: String) async throws -> Bool { false }
    public func createBucket(_ bucket: String) async throws {}
    public func deleteBucket(_ bucket: String) async throws {}
    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage { ListPage(objects: []) }
    public func head(bucket: String, key: String) async throws -> ObjectInfo { throw StorageError(.notSupported, "") }
    public func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream { throw StorageError(.notSupported, "") }
    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult { throw StorageError(.notSupported, "") }
    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult { throw StorageError(.notSupported, "") }
    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult { throw StorageError(.notSupported, "") }
    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] { [] }
}
