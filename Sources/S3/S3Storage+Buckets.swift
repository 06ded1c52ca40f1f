import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import HTTPTransport
import NIOPosix
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
        // A retry after an answer was lost finds the bucket made by the
        // attempt whose answer was cut off: that is success.
        try await performAnswerMayBeLost(call, accept: [200]) { $0.code == .bucketAlreadyExists }
        knownBuckets.withLock { _ = $0.insert(bucket) }
    }

    public func deleteBucket(_ bucket: String) async throws {
        // A retry after an answer was lost finds the bucket gone: success.
        try await performAnswerMayBeLost(Call(method: .DELETE, bucket: bucket, operation: "DeleteBucket"), accept: [200, 204]) { $0.code == .noSuchBucket }
        knownBuckets.withLock { _ = $0.remove(bucket) }
    }

    /// Sends a call that is not idempotent on the wire (create, delete) with
    /// retries. When an attempt reached the server but its answer was lost
    /// (the connection broke after sending) and a later attempt fails with
    /// an error `done` recognizes (the bucket already exists / no longer
    /// exists), the lost attempt did the work and the call succeeds.
    func performAnswerMayBeLost(_ call: Call, accept: Set<UInt>, done: @escaping @Sendable (StorageError) -> Bool) async throws {
        let lost = Atomic<Bool>(false)
        do {
            _ = try await withRetries(call) {
                do {
                    return try await self.transport.withDeadline(bytes: call.bodyBytes) {
                        let response = try await self.sendOnce(call)
                        guard accept.contains(response.status.code) else { throw await self.error(from: response, call: call) }
                        _ = try await response.body.collect(upTo: 1 << 20)
                        return true
                    }
                } catch {
                    if RetryPolicy.isTransportError(error) && !Self.neverSent(error) { lost.store(true, ordering: .relaxed) }
                    throw error
                }
            }
        } catch let error as StorageError where lost.load(ordering: .relaxed) && done(error) {
            logger.debug("\(call.operation) on \(Self.subject(call.bucket, call.key)): an earlier attempt's answer was lost and did the work")
        }
    }

    /// Transport errors that mean the request never reached the server.
    static func neverSent(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return true }
        if let client = error as? HTTPClientError, client == .connectTimeout { return true }
        return false
    }
}
