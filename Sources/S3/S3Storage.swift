public import Foundation
public import Storage
import AsyncHTTPClient
import Crypto
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SigV4
package import Synchronization

/// The `s3` provider: any S3-compatible service (AWS, Backblaze B2's S3
/// API, MinIO, R2, Wasabi, ...), over one pooled HTTP client.
///
/// Bodies stream from and to disk; a large object moves in parts (uploads)
/// or ranges (downloads) with `partConcurrency` in flight. Every request is
/// signed with SigV4 (payload `UNSIGNED-PAYLOAD`; integrity comes from
/// Content-MD5, which the server verifies, and from checking downloads
/// against the ETag). Requests are retried with backoff on 5xx, throttling
/// and connection errors, never on other 4xx.
public final class S3Storage: ObjectStorage {
    public let configuration: S3Configuration
    let client: HTTPClient
    let signer: SigV4Signer
    let hostHeader: String

    public var displayName: String { "s3:\(configuration.endpoint.absoluteString)" }

    public init(configuration: S3Configuration, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let endpoint = configuration.endpoint
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = endpoint.host, !host.isEmpty else {
            throw StorageError(.invalidConfiguration, "endpoint \"\(endpoint.absoluteString)\" is not an http(s) URL")
        }
        if scheme == "http" && !S3Configuration.isLoopback(host) && !configuration.allowInsecureHTTP {
            throw StorageError(.invalidConfiguration, "endpoint \(endpoint.absoluteString) is plain http to a host that is not this machine",
                               hint: "use https, or set allow-insecure-http: true if the network is trusted")
        }
        self.configuration = configuration
        self.signer = SigV4Signer(
            credentials: SigV4Credentials(accessKeyId: configuration.accessKeyId, secretAccessKey: configuration.secretAccessKey, sessionToken: configuration.sessionToken),
            region: configuration.region)
        let defaultPort = scheme == "https" ? 443 : 80
        self.hostHeader = endpoint.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host

        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: .milliseconds(Int64(configuration.connectTimeout * 1000)), read: .milliseconds(Int64(configuration.readTimeout * 1000)))
        http.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        http.decompression = .disabled
        http.redirectConfiguration = .disallow
        if scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            // AWS tools honour AWS_CA_BUNDLE for https; it never applies to http.
            if let bundle = environment["AWS_CA_BUNDLE"], !bundle.isEmpty {
                guard FileManager.default.isReadableFile(atPath: bundle) else {
                    throw StorageError(.invalidConfiguration, "AWS_CA_BUNDLE=\(bundle) is not a readable file", hint: "point it at a PEM file of CA certificates, or unset it")
                }
                tls.additionalTrustRoots = [.file(bundle)]
            }
            http.tlsConfiguration = tls
        }
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    public func shutdown() async throws {
        guard isShutDown.exchange(true, ordering: .acquiringAndReleasing) == false else { return }
        try await client.shutdown()
    }

    /// Multipart uploads this instance aborted, and whether the abort
    /// succeeded (tests check it on servers that cannot list uploads).
    package let abortedUploads = Mutex<[AbortRecord]>([])

    package struct AbortRecord: Sendable {
        package var uploadID: String
        package var succeeded: Bool
    }

    /// Set once `shutdown()` ran; a provider dropped without it (an error
    /// path) still releases its connections instead of leaking them.
    private let isShutDown = Atomic<Bool>(false)

    /// For tests that shut the client down themselves.
    package func markShutDown() { isShutDown.store(true, ordering: .releasing) }

    deinit {
        if !isShutDown.load(ordering: .acquiring) { try? client.syncShutdown() }
    }

    /// A presigned URL for `method` on the object, valid `expires` seconds.
    public func presignedURL(bucket: String, key: String, method: String = "GET", expires: Int) -> String {
        let (host, path) = location(bucket: bucket, key: key)
        return signer.presignedURL(scheme: configuration.endpoint.scheme ?? "https",
                                   request: SigV4Request(method: method, host: host, path: path, payloadHash: SigV4Request.unsignedPayload),
                                   expires: expires, date: Date())
    }

    // MARK: Requests

    /// Host header and wire path for a bucket (and key).
    func location(bucket: String?, key: String? = nil) -> (host: String, path: String) {
        let encodedKey = key.map { awsURIEncode($0, encodeSlash: false) } ?? ""
        guard let bucket else { return (hostHeader, "/") }
        if configuration.usesPathStyle(for: bucket) {
            return (hostHeader, "/\(awsURIEncode(bucket, encodeSlash: true))" + (key == nil ? "" : "/\(encodedKey)"))
        }
        return ("\(bucket).\(hostHeader)", "/\(encodedKey)")
    }

    enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of a file from `offset`.
        case file(URL, offset: Int64, length: Int64)
    }

    struct Call: Sendable {
        var method: HTTPMethod
        var bucket: String?
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: Body = .none
        /// What the error message names ("bucket b", "b/key").
        var subject: String {
            switch (bucket, key) {
            case (let b?, let k?): return "\(b)/\(k)"
            case (let b?, nil): return "bucket \(b)"
            default: return "the service"
            }
        }
    }

    /// Sends a request once, signing it now.
    func sendOnce(_ call: Call) async throws -> HTTPClientResponse {
        let (host, path) = location(bucket: call.bucket, key: call.key)
        let queryString = SigV4Signer.canonicalQueryString(call.query)
        var headers = call.headers
        if case .bytes(let bytes) = call.body, !headers.contains(where: { $0.name.lowercased() == "content-md5" }) {
            headers.append(("Content-MD5", Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()))
        }
        let signed = signer.signedHeaders(
            for: SigV4Request(method: call.method.rawValue, host: host, path: path, query: call.query, headers: headers, payloadHash: SigV4Request.unsignedPayload),
            date: Date())
        let scheme = configuration.endpoint.scheme ?? "https"
        var request = HTTPClientRequest(url: "\(scheme)://\(host)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
        request.method = call.method
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        if !configuration.reuseConnections { request.headers.add(name: "Connection", value: "close") }
        switch call.body {
        case .none:
            if call.method == .PUT || call.method == .POST { request.headers.replaceOrAdd(name: "Content-Length", value: "0") }
        case .bytes(let bytes):
            request.body = .bytes(ByteBuffer(bytes: bytes))
        case .file(let url, let offset, let length):
            request.body = .stream(FileChunks(url: url, offset: offset, length: length), length: .known(length))
        }
        TransferMetrics.current?.recordRequest()
        return try await client.execute(request, timeout: .seconds(Int64(configuration.readTimeout)))
    }

    /// Sends a request with retries; returns the response when its status is
    /// in `accept`, else throws the mapped S3 error.
    func send(_ call: Call, accept: Set<UInt> = [200]) async throws -> HTTPClientResponse {
        try await withRetries(subject: call.subject) {
            let response = try await self.sendOnce(call)
            if accept.contains(response.status.code) { return response }
            throw await self.error(from: response, call: call)
        }
    }

    /// Sends a request with retries and collects a (small) response body.
    func sendCollecting(_ call: Call, accept: Set<UInt> = [200]) async throws -> (HTTPClientResponse, Data) {
        try await withRetries(subject: call.subject) {
            let response = try await self.sendOnce(call)
            guard accept.contains(response.status.code) else { throw await self.error(from: response, call: call) }
            let buffer = try await response.body.collect(upTo: 64 << 20)
            return (response, Data(buffer: buffer))
        }
    }

    /// Runs `operation`, retrying retryable failures with exponential
    /// backoff and full jitter (base 100 ms, cap 5 s).
    func withRetries<T: Sendable>(subject: String, _ operation: @Sendable () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch {
                try Task.checkCancellation()
                guard attempt < configuration.maxAttempts, Self.isRetryable(error) else { throw Self.describe(error, subject: subject) }
                TransferMetrics.current?.recordRetry()
                let cap = min(5.0, 0.1 * Double(1 << min(attempt, 10)))
                try await Task.sleep(for: .milliseconds(Int(Double.random(in: 0...cap) * 1000)))
                attempt += 1
            }
        }
    }

    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as StorageError: return error.isRetryable
        case is CancellationError: return false
        case let error as HTTPClientError:
            let transient: [HTTPClientError] = [.remoteConnectionClosed, .readTimeout, .connectTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout, .requestStreamCancelled]
            return transient.contains(error)
        case is IOError, is ChannelError: return true
        default: return (error as NSError).domain == NSPOSIXErrorDomain
        }
    }

    /// Turns transport errors into StorageErrors a user understands.
    static func describe(_ error: any Error, subject: String) -> any Error {
        switch error {
        case is StorageError, is CancellationError: return error
        case let error as HTTPClientError:
            return StorageError(.transient, "could not reach the S3 endpoint for \(subject): \(error)", hint: "check the endpoint URL and the network", isRetryable: true)
        case is ChannelError, is IOError:
            return StorageError(.transient, "could not reach the S3 endpoint for \(subject): \(error)", hint: "check the endpoint URL and the network", isRetryable: true)
        default:
            return error
        }
    }

    /// Maps an error response (S3 error XML or a bare status) to a StorageError.
    func error(from response: HTTPClientResponse, call: Call) async -> StorageError {
        let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
        let xml = XMLElement.parse(body)
        let code = xml?.string("Code") ?? Self.codeForStatus(response.status.code)
        let message = xml?.string("Message")
        return S3Errors.map(code: code, status: response.status.code, message: message, subject: call.subject, region: configuration.region,
                            headers: response.headers)
    }

    static func codeForStatus(_ status: UInt) -> String {
        switch status {
        case 301, 307: return "PermanentRedirect"
        case 400: return "BadRequest"
        case 403: return "AccessDenied"
        case 404: return "NotFound"
        case 409: return "Conflict"
        case 429: return "SlowDown"
        case 500: return "InternalError"
        case 503: return "SlowDown"
        default: return "HTTP\(status)"
        }
    }
}
