import Foundation
import AsyncHTTPClient
import Crypto
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SigV4
import Storage
import HTTPTransport
import Synchronization

extension S3Storage {
    /// A request body.
    enum Body: Sendable {
        case none
        /// Bytes already in memory, with their Content-MD5.
        case bytes(ByteBuffer, contentMD5: ContentMD5)
        /// `length` bytes of an open file from `offset`, streamed; a retry
        /// re-reads them from `offset`. Content-MD5 (base64) when given.
        case file(SharedFile, offset: Int64, length: Int64, contentMD5: String?)

        static func xml(_ text: String) -> Body { .bytes(ByteBuffer(string: text), contentMD5: .compute) }
    }

    /// The Content-MD5 header of an in-memory body.
    enum ContentMD5: Sendable {
        /// Computed when the request is sent (small XML bodies).
        case compute
        /// Base64, computed by the caller.
        case given(String)
        /// None: an `x-amz-checksum-*` header the service checks stands in for it.
        case omitted
    }

    /// One S3 operation, before signing.
    struct Call: Sendable {
        var method: HTTPMethod
        var bucket: String?
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: Body = .none
        /// The operation's name in messages (ListObjectsV2, PutObject, ...).
        var operation: String
        /// Bytes of body expected to move (either way), for the
        /// whole-response deadline; request bodies count themselves.
        var responseBytes: Int64 = 0

        var bodyBytes: Int64 {
            switch body {
            case .none: return 0
            case .bytes(let buffer, _): return Int64(buffer.readableBytes)
            case .file(_, _, let length, _): return length
            }
        }
    }

    /// Signs and sends `call` once.
    func sendOnce(_ call: Call) async throws -> HTTPClientResponse {
        let (host, path) = location(bucket: call.bucket, key: call.key)
        let queryString = SigV4Signer.canonicalQueryString(call.query)
        var headers = call.headers
        switch call.body {
        case .none: break
        case .bytes(let buffer, .compute):
            headers.append(("Content-MD5", buffer.withUnsafeReadableBytes { Data(Insecure.MD5.hash(data: $0)).base64EncodedString() }))
        case .bytes(_, .given(let md5)), .file(_, _, _, let md5?):
            headers.append(("Content-MD5", md5))
        case .bytes(_, .omitted), .file(_, _, _, nil): break
        }
        let signed = signer.signedHeaders(
            for: SigV4Request(method: call.method.rawValue, host: host, path: path, query: call.query, headers: headers, payloadHash: Self.unsignedPayload),
            date: Date())
        var request = HTTPClientRequest(url: "\(scheme)://\(host)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
        request.method = call.method
        request.headers.reserveCapacity(headers.count + signed.count)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        if !configuration.reuseConnections { request.headers.add(name: "Connection", value: "close") }
        switch call.body {
        case .none:
            // S3 wants a Content-Length on every PUT and POST, even empty ones.
            if call.method == .PUT || call.method == .POST { request.body = .bytes(ByteBuffer()) }
        case .bytes(let buffer, _): request.body = .bytes(buffer)
        case .file(let file, let offset, let count, _):
            request.body = .stream(FileChunks(file: file, offset: offset, length: count), length: .known(count))
        }
        return try await transport.send(request)
    }

    /// Sends `call` with retries. A response whose status is in `accept` is
    /// handed to `handle` (which consumes its body); any other status is
    /// mapped to a ``StorageError``. An error `handle` throws is retried
    /// like a failed request when it is retryable, so a body cut off halfway
    /// starts over from scratch. Each attempt, body included, runs under the
    /// whole-response deadline.
    func perform<T: Sendable>(_ call: Call, accept: Set<UInt> = [200], _ handle: @Sendable (HTTPClientResponse) async throws -> T) async throws -> T {
        try await withRetries(call) {
            try await self.transport.withDeadline(bytes: call.bodyBytes + call.responseBytes) {
                let response = try await self.sendOnce(call)
                guard accept.contains(response.status.code) else { throw await self.error(from: response, call: call) }
                return try await handle(response)
            }
        }
    }

    /// Sends `call` with retries and returns its (small) response body.
    func performCollecting(_ call: Call, accept: Set<UInt> = [200]) async throws -> (HTTPHeaders, Data) {
        try await perform(call, accept: accept) { response in
            let buffer = try await response.body.collect(upTo: 16 << 20)
            return (response.headers, Data(buffer: buffer, byteTransferStrategy: .noCopy))
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or runs out of
    /// attempts (the shared ``HTTPTransport`` policy); the final error is
    /// described and redacted.
    func withRetries<T: Sendable>(_ call: Call, _ attempt: @Sendable () async throws -> T) async throws -> T {
        try await transport.retrying(operation: call.operation, { _ in try await attempt() },
                                     describe: { error, attempts in self.describe(error, call: call, attempts: attempts) })
    }

    /// Turns transport errors into ``StorageError``s a user can act on;
    /// other errors (already StorageErrors, cancellation, internal signals)
    /// pass through.
    func describe(_ error: any Error, call: Call, attempts: Int) -> any Error {
        let after = attempts > 1 ? " (after \(attempts) attempts)" : ""
        if var error = error as? StorageError {
            if error.isRetryable { error.message += after }
            return error
        }
        guard RetryPolicy.isTransportError(error) else { return error }
        return transport.transportError(error, operation: call.operation, subject: Self.subject(call.bucket, call.key), peer: "\(scheme)://\(endpointHost)", attempts: attempts,
                                        hint: scheme == "https" ? "check the endpoint URL and the network (and AWS_CA_BUNDLE for a certificate error)" : "check the endpoint URL and that the server is running")
    }

    /// Maps an error response (S3 error XML, or a bare status for HEAD) to a ``StorageError``.
    func error(from response: HTTPClientResponse, call: Call) async -> StorageError {
        let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
        let parsed = S3ErrorResponse.parse(body)
        return S3Errors.map(
            code: parsed?.code ?? S3Errors.code(forStatus: response.status.code, method: call.method, hasKey: call.key != nil),
            // Redacted before it is clipped: a secret cut in half would
            // no longer match.
            status: response.status.code, message: parsed?.message.map { transport.redact($0) },
            bucket: call.bucket ?? parsed?.bucket, key: call.key ?? parsed?.key,
            region: configuration.region, headers: response.headers)
    }

    /// "bucket b", "b/key" or "the service", for messages.
    static func subject(_ bucket: String?, _ key: String?) -> String {
        switch (bucket, key) {
        case (let bucket?, let key?): return "\(bucket)/\(key)"
        case (let bucket?, nil): return "bucket \(bucket)"
        default: return "the service"
        }
    }
}
