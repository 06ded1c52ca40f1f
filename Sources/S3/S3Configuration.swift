public import Foundation
public import Storage

/// How to reach one S3-compatible service.
public struct S3Configuration: Sendable {
    public enum AddressingStyle: String, Sendable {
        /// Path style for IP addresses, `localhost` and bucket names with dots; virtual-hosted otherwise.
        case auto
        /// `https://endpoint/bucket/key`
        case path
        /// `https://bucket.endpoint/key`
        case virtualHosted = "virtual"
    }

    public var endpoint: URL
    public var region: String
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var addressingStyle: AddressingStyle = .auto
    /// Plain `http://` to a host other than loopback sends credentials'
    /// signatures and data unencrypted; it must be asked for.
    public var allowInsecureHTTP = false
    /// Objects larger than this go up in parts and come down in ranges.
    public var multipartThreshold: Int64 = 64 << 20
    /// Part size; grown automatically to stay under 10,000 parts.
    public var partSize: Int64 = 16 << 20
    /// Parts (or ranges) of one object in flight at once.
    public var partConcurrency = 4
    /// Attempts per request, counting the first.
    public var maxAttempts = 5
    /// Seconds to wait for a connection, and for a response to make progress.
    /// Keep connections open between requests (HTTP keep-alive). Turn it off
    /// for servers that mishandle a connection after an early error answer
    /// (moto's development server does).
    public var reuseConnections = true
    public var connectTimeout: Double = 10
    public var readTimeout: Double = 120

    public init(endpoint: URL, region: String = "us-east-1", accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Endpoints of well-known services.
    ///
    /// - `aws`: `https://s3.REGION.amazonaws.com`
    /// - `b2`: Backblaze B2's S3 API, `https://s3.REGION.backblazeb2.com` (e.g. region `us-west-004`)
    /// - `r2`: Cloudflare R2, `https://ACCOUNT.r2.cloudflarestorage.com` (region `auto`)
    /// - `wasabi`: `https://s3.REGION.wasabisys.com`
    /// - `minio`: no public endpoint: give `endpoint:` (path style is used)
    public static func endpoint(forPreset preset: String, region: String, account: String?) throws(StorageError) -> URL {
        let text: String
        switch preset {
        case "aws": text = region == "us-east-1" ? "https://s3.amazonaws.com" : "https://s3.\(region).amazonaws.com"
        case "b2": text = "https://s3.\(region).backblazeb2.com"
        case "wasabi": text = "https://s3.\(region).wasabisys.com"
        case "r2":
            guard let account, !account.isEmpty else {
                throw StorageError(.invalidConfiguration, "preset r2 needs `account` (your Cloudflare account id)")
            }
            text = "https://\(account).r2.cloudflarestorage.com"
        case "minio":
            throw StorageError(.invalidConfiguration, "preset minio has no public endpoint", hint: "set `endpoint:` to your MinIO server, e.g. http://127.0.0.1:9000")
        default:
            throw StorageError(.invalidConfiguration, "unknown preset \"\(preset)\"", hint: "use aws, b2, r2, wasabi or minio")
        }
        return URL(string: text)!
    }

    /// Whether requests for `bucket` use path style.
    func usesPathStyle(for bucket: String) -> Bool {
        switch addressingStyle {
        case .path: return true
        case .virtualHosted: return false
        case .auto:
            let host = endpoint.host ?? ""
            return Self.isLoopbackOrIP(host) || bucket.contains(".")
        }
    }

    static func isLoopbackOrIP(_ host: String) -> Bool {
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if host.contains(":") { return true }  // IPv6 literal
        let parts = host.split(separator: ".")
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }
}
