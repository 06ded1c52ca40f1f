import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import Synchronization

extension S3Storage {
    public func listBuckets() async throws -> [BucketInfo] {
        let (_, data) = try await performCollecting(Call(method: .GET, bucket: nil, operation: "ListBuckets"))
        return try S3ListParser.buckets(data)
    }

    /// HEAD on the bucket: 200 exists, 404 does not; 403 is an error (the
    /// bucket may exist, but these credentials cannot tell).
    public func bucketExists(_ bucket: String) async throws -> Bool {
        let call = Call(method: .HEAD, bucket: bucket, operation: "HeadBucket")
        let status = try await perform(call, accept: [200, 404]) { $0.status.code }
        if status == 200 { knownBuckets.withLock { _ = $0.insert(bucket) } }
        return status == 200
    }

    /// PUT bucket, with a LocationConstraint outside us-east-1 (where S3
    /// refuses one).
    ///
    /// - Throws: `.bucketAlreadyExists` when it exists, ours or another's.
    public func createBucket(_ bucket: String) async throws {
        // us-east-1 answers 200 to re-creating a bucket you own: ask first,
        // so "already exists" is reported the same everywhere.
        if try await bucketExists(bucket) {
            throw S3Errors.map(code: "BucketAlreadyOwnedByYou", status: 409, message: nil, bucket: bucket, key: nil, region: configuration.region, headers: [:])
        }
        var call = Call(method: .PUT, bucket: bucket, operation: "CreateBucket")
        if configuration.region != "us-east-1" && !configuration.region.isEmpty && configuration.region != "auto" {
            call.body = .xml("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(xmlEscape(configuration.region))</LocationConstraint></CreateBucketConfiguration>")
        }
        _ = try await performCollecting(call)
        knownBuckets.withLock { _ = $0.insert(bucket) }
    }

    public func deleteBucket(_ bucket: String) async throws {
        _ = try await performCollecting(Call(method: .DELETE, bucket: bucket, operation: "DeleteBucket"), accept: [200, 204])
        knownBuckets.withLock { _ = $0.remove(bucket) }
    }
}
