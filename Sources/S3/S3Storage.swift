public import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import HTTPTransport
import SigV4
public import Storage
package import Synchronization

/// The `s3` provider: any S3-compatible service (AWS, Backblaze B2's S3 API,
/// MinIO, Cloudflare R2, Wasabi, ...), over one pooled HTTP client.
///
/// Bodies stream between disk and network: never a whole object in memory.
/// Objects above ``S3Configuration/multipartThreshold`` move in parts
/// (uploads) or ranges (downloads), ``S3Configuration/partConcurrency`` at a
/// time. Requests are signed with SigV4 over `UNSIGNED-PAYLOAD`; integrity
/// comes from `Content-MD5` or a CRC the server verifies on every body (see
/// ``S3ChecksumMode``) and from checking every download against the
/// cheapest checksum the server gave (a CRC, else the ETag's MD5).
/// Each request is retried on its own (5xx, throttling, connection errors),
/// with exponential backoff and full jitter.
public final class S3Storage: ObjectStorage {
    public let configuration: S3Configuration
    /// The shared HTTP layer: pooled client, timeouts, retries, redaction.
    let transport: HTTPTransport
    let signer: SigV4Signer
    /// `host` or `host:port` of the endpoint, as signed and sent.
    let endpointHost: String
    let scheme: String
    let logger: Logger
    /// Buckets seen to exist: a 404 on HEAD of an object in one of them is a
    /// missing key, with no second request to tell the two apart.
    let knownBuckets = Mutex<Set<String>>([])
    /// `checksum: auto`: whether the service has shown it checks
    /// `x-amz-checksum-*` (nil until the first PUT answers).
    let checksumVerified = Mutex<Bool?>(nil)
    /// Multipart uploads this instance aborted and whether the abort went
    /// through (tests read it; a server may be unable to list uploads).
    package let abortedUploads = Mutex<[AbortRecord]>([])

    package struct AbortRecord: Sendable {
        package var key: String
        package var uploadID: String
        package var succeeded: Bool
    }

    public var displayName: String { "s3:\(configuration.endpoint.absoluteString)" }

    /// - Parameters:
    ///   - configuration: Endpoint, credentials and tuning.
    ///   - environment: `AWS_CA_BUNDLE`, when set and the endpoint is https,
    ///     names a PEM file of CA certificates added to the system trust
    ///     roots (as AWS tools do). It is never read for http endpoints, so a
    ///     bundle meant for elsewhere cannot break a loopback server.
    /// - Throws: ``StorageError`` `.invalidConfiguration` for an endpoint that
    ///   is not http(s), plain http to another host without
    ///   ``S3Configuration/allowInsecureHTTP``, or an unreadable CA bundle.
    public init(configuration: S3Configuration, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let endpoint = configuration.endpoint
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = endpoint.host, !host.isEmpty else {
            throw StorageError(.invalidConfiguration, "S3 endpoint \"\(endpoint.absoluteString)\" is not an http(s) URL", hint: "write it like https://s3.us-west-004.backblazeb2.com")
        }
        if scheme == "http" && !S3Configuration.isLoopback(host) && !configuration.allowInsecureHTTP {
            throw StorageError(.invalidConfiguration, "S3 endpoint \(endpoint.absoluteString) is plain http to another machine",
                               hint: "use https, or set allow-insecure-http: true if the network is trusted")
        }
        guard !configuration.accessKeyId.isEmpty, !configuration.secretAccessKey.isEmpty else {
            throw StorageError(.invalidConfiguration, "S3 credentials for \(endpoint.absoluteString) are empty", hint: "configure your credentials: an access key id and a secret key")
        }
        self.configuration = configuration
        self.scheme = scheme
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        self.endpointHost = endpoint.port.map { $0 == defaultPort ? hostText : "\(hostText):\($0)" } ?? hostText
        self.signer = SigV4Signer(
            credentials: SigV4Credentials(accessKeyId: configuration.accessKeyId, secretAccessKey: configuration.secretAccessKey, sessionToken: configuration.sessionToken),
            region: configuration.region, service: "s3", mode: .s3)
        self.logger = Logger(label: "bucketflow.s3")
        var timeouts = HTTPTimeouts()
        timeouts.connect = configuration.connectTimeout
        timeouts.read = configuration.readTimeout
        timeouts.request = configuration.requestTimeout
        timeouts.response = configuration.responseTimeout
        timeouts.minimumBytesPerSecond = configuration.minimumBytesPerSecond
        self.transport = try HTTPTransport(
            scheme: scheme, timeouts: timeouts,
            retryPolicy: RetryPolicy(maxAttempts: configuration.maxAttempts, base: configuration.retryBaseDelay, cap: configuration.retryMaxDelay),
            caBundle: scheme == "https" ? environment["AWS_CA_BUNDLE"] : nil, caBundleVariable: "AWS_CA_BUNDLE",
            secrets: [configuration.secretAccessKey] + (configuration.sessionToken.map { [$0] } ?? []),
            label: "bucketflow.s3")
    }

    var retryPolicy: RetryPolicy { transport.retryPolicy }

    /// Shuts the HTTP client down; later calls do nothing.
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    /// A presigned URL for `method` on the object, valid for `expires`
    /// seconds (at most 7 days). Anyone holding it can use it until then.
    public func presignedURL(bucket: String, key: String, method: String = "GET", expires: Int) -> String {
        let (host, path) = location(bucket: bucket, key: key)
        return signer.presignedURL(scheme: scheme,
                                   request: SigV4Request(method: method.uppercased(), host: host, path: path, query: [], headers: [], payloadHash: S3Storage.unsignedPayload),
                                   expires: expires, date: Date())
    }

    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Host header and wire path for a bucket (and key); the key is encoded
    /// exactly once, keeping its slashes.
    func location(bucket: String?, key: String? = nil) -> (host: String, path: String) {
        guard let bucket else { return (endpointHost, "/") }
        let encodedKey = key.map { awsURIEncode($0, encodeSlash: false) }
        if configuration.usesPathStyle(for: bucket) {
            return (endpointHost, "/\(awsURIEncode(bucket, encodeSlash: true))" + (encodedKey.map { "/\($0)" } ?? ""))
        }
        return ("\(bucket).\(endpointHost)", "/\(encodedKey ?? "")")
    }
}
