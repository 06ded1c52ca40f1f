import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Storage
import HTTPTransport
import Synchronization

extension B2Storage {
    /// What a request is about, for messages.
    struct Subject: Sendable {
        var bucket: String?
        var key: String?

        var text: String {
            switch (bucket, key) {
            case (let bucket?, let key?): return "\(bucket)/\(key)"
            case (let bucket?, nil): return "bucket \(bucket)"
            default: return "the account"
            }
        }
    }

    /// Calls `b2_<name>` on the API URL with a JSON body and decodes the
    /// answer. `params` may use the session (account id, allowed bucket).
    /// Retries 408/429/5xx and broken connections; authorizes again (once)
    /// on 401 `expired_auth_token`.
    func api<T: Decodable & Sendable>(
        _ name: String, _ type: T.Type, subject: Subject,
        params: @escaping @Sendable (B2Session) -> [String: JSONValue]
    ) async throws -> T {
        var attempt = 1
        var reauthorized = false
        var session = try await auth.session()
        while true {
            do {
                let body = try JSONValue.object(params(session)).encoded()
                var request = HTTPClientRequest(url: "\(session.apiURL)/b2api/v4/\(name)")
                request.method = .POST
                request.headers.add(name: "Authorization", value: session.token)
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: body))
                let (response, data) = try await transport.withDeadline(bytes: 0) { [request] in
                    let response = try await self.transport.send(request)
                    return (response, Data(buffer: try await response.body.collect(upTo: 64 << 20)))
                }
                guard response.status.code == 200 else {
                    throw B2Failure.parse(status: response.status.code, body: data, headers: response.headers)
                }
                do {
                    return try JSONDecoder().decode(T.self, from: data)
                } catch {
                    throw StorageError(.other, "B2 sent an unreadable \(name) answer for \(subject.text)")
                }
            } catch let failure as B2Failure {
                if failure.needsReauthorization && !reauthorized {
                    reauthorized = true
                    logger.debug("authorizing again after \(failure.code)")
                    session = try await auth.refresh(replacing: session.generation)
                    continue
                }
                guard failure.isRetryable, attempt < retryPolicy.maxAttempts else {
                    throw sanitize(failure.storageError(operation: name, subject: subject.text), attempts: attempt)
                }
                try await backoff(attempt: &attempt, retryAfter: failure.retryAfter, operation: name, error: failure)
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard RetryPolicy.isRetryable(error), attempt < retryPolicy.maxAttempts else {
                    throw describe(error, operation: name, subject: subject, attempts: attempt)
                }
                try await backoff(attempt: &attempt, retryAfter: nil, operation: name, error: error)
            }
        }
    }

    func backoff(attempt: inout Int, retryAfter: Double?, operation: String, error: any Error) async throws {
        logger.debug("retrying \(operation) after \(scrub(String(describing: error)))", metadata: ["attempt": "\(attempt)"])
        try await retryPolicy.pause(afterAttempt: attempt, retryAfter: retryAfter)
        attempt += 1
    }

    /// A StorageError with secrets scrubbed and the attempt count noted.
    func sanitize(_ error: StorageError, attempts: Int) -> StorageError {
        var error = error
        error.message = scrub(error.message)
        error.hint = error.hint.map(scrub)
        if error.isRetryable && attempts > 1 { error.message += " (after \(attempts) attempts)" }
        return error
    }

    /// Transport errors as ``StorageError``s; others pass through.
    func describe(_ error: any Error, operation: String, subject: Subject, attempts: Int) -> any Error {
        if let error = error as? StorageError { return sanitize(error, attempts: attempts) }
        if let failure = error as? B2Failure { return sanitize(failure.storageError(operation: operation, subject: subject.text), attempts: attempts) }
        guard RetryPolicy.isTransportError(error) else { return error }
        return transport.transportError(error, operation: operation, subject: subject.text, peer: "B2", attempts: attempts,
                                        hint: "check the network and that B2 (or the configured authorization URL) is reachable")
    }

    // MARK: - Restricted keys and bucket ids

    /// Fails when the application key is restricted to other buckets or
    /// another name prefix.
    func checkAllowed(_ session: B2Session, bucket: String, key: String?) throws(StorageError) {
        if let allowed = session.allowedBuckets, !allowed.isEmpty, !allowed.contains(where: { $0.name == bucket }) {
            let names = allowed.map { $0.name ?? "(deleted bucket \($0.id))" }.joined(separator: ", ")
            throw StorageError(.accessDenied, "the B2 application key \(configuration.keyId) is restricted to bucket \(names); \(bucket) is outside it",
                               hint: "use a key that allows bucket \(bucket), or work in \(names)")
        }
        if let key, let prefix = session.namePrefix, !prefix.isEmpty, !key.hasPrefix(prefix) {
            throw StorageError(.accessDenied, "the B2 application key \(configuration.keyId) is restricted to names starting with \"\(prefix)\"; \(bucket)/\(key) is outside it",
                               hint: "use keys under \"\(prefix)\" or a key without a name prefix")
        }
    }

    struct BucketList: Decodable, Sendable {
        struct Bucket: Decodable, Sendable { var bucketId: String; var bucketName: String; var bucketType: String? }
        var buckets: [Bucket]
    }

    /// The bucket's id (cached), checking the key's restrictions first.
    func bucketID(_ bucket: String, key: String? = nil) async throws -> String {
        let session = try await auth.session()
        try checkAllowed(session, bucket: bucket, key: key)
        if let id = bucketIDs.withLock({ $0[bucket] }) { return id }
        if let allowed = session.allowedBuckets?.first(where: { $0.name == bucket }) {
            bucketIDs.withLock { $0[bucket] = allowed.id }
            return allowed.id
        }
        let list = try await api("b2_list_buckets", BucketList.self, subject: Subject(bucket: bucket)) { session in
            ["accountId": .string(session.accountID), "bucketName": .string(bucket)]
        }
        guard let found = list.buckets.first(where: { $0.bucketName == bucket }) else {
            throw StorageError(.noSuchBucket, "bucket \(bucket) does not exist (or belongs to another B2 account)", hint: "check the bucket name, or create it")
        }
        bucketIDs.withLock { $0[bucket] = found.bucketId }
        return found.bucketId
    }
}

/// A minimal JSON value for request bodies (Sendable, unlike `[String: Any]`).
enum JSONValue: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    var any: Any {
        switch self {
        case .string(let s): return s
        case .int(let i): return i
        case .bool(let b): return b
        case .array(let a): return a.map(\.any)
        case .object(let o): return o.mapValues(\.any)
        case .null: return NSNull()
        }
    }

    func encoded() throws -> Data {
        try JSONSerialization.data(withJSONObject: any, options: [.sortedKeys])
    }
}
