public import Foundation
public import Storage
public import HTTPTransport

/// How to reach one S3-compatible service, and how hard to push it.
public struct S3Configuration: Sendable {
    /// How a bucket is named in a request.
    public enum AddressingStyle: String, Sendable {
        /// Path style for IP literals and `localhost` (which have no DNS for
        /// `bucket.host`) and for bucket names with dots (which a TLS
        /// wildcard certificate cannot cover); virtual-hosted otherwise.
        case auto
        /// `https://endpoint/bucket/key` (MinIO, most self-hosted servers).
        case path
        /// `https://bucket.endpoint/key` (AWS, B2, R2, Wasabi).
        case virtualHosted = "virtual"
    }

    /// The service's base URL, e.g. `https://s3.us-west-004.backblazeb2.com`
    /// or `http://127.0.0.1:9000`.
    public var endpoint: URL
    /// The signing region (`auto` for R2, `us-west-004` for that B2 cluster).
    public var region: String
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var addressingStyle: AddressingStyle = .auto
    /// Plain `http://` to a host other than this machine sends data (and
    /// request signatures anyone on the path can replay) unencrypted, so it
    /// must be asked for explicitly.
    public var allowInsecureHTTP = false
    /// Objects larger than this go up in parts and come down in ranges.
    public var multipartThreshold: Int64 = 64 << 20
    /// Part (and download range) size; grown automatically so an object
    /// never needs more than 10,000 parts, and never below S3's 5 MiB minimum.
    public var partSize: Int64 = 16 << 20
    /// Parts (uploads) or ranges (downloads) of one object in flight at once.
    /// Each in-flight upload part is held in memory (read once, hashed once,
    /// sent), paid for from ``memoryBudget``.
    public var partConcurrency = 4
    /// How uploads prove their bytes to the server: see ``S3ChecksumMode``.
    public var checksum: S3ChecksumMode = .auto
    /// The bytes of upload buffers (parts, bodies read into memory) all
    /// transfers of the run may hold at once; parts shrink (not below
    /// 5 MiB) so `partConcurrency` of them fit.
    public var memoryBudget = MemoryBudget.process
    /// Attempts per request, counting the first (like rclone and s5cmd).
    public var maxAttempts = RetryPolicy.defaultMaxAttempts
    /// Seconds: the first retry delay's upper bound (full jitter below it,
    /// doubling per attempt).
    public var retryBaseDelay: Double = 0.1
    /// Seconds: no retry delay is longer.
    public var retryMaxDelay: Double = 20
    /// Keep connections open between requests (HTTP keep-alive). Turn it
    /// off for servers that mishandle a connection after an early error
    /// answer (moto's development server has been seen to).
    public var reuseConnections = true
    /// Seconds one request may take to send its whole body and receive the
    /// response head (a single PUT of up to `multipartThreshold`, or one part).
    /// Response bodies are governed by `readTimeout` instead, so a long
    /// download is never cut off while bytes keep arriving.
    public var requestTimeout: Double = 300
    /// Seconds to establish a connection (TCP and TLS).
    public var connectTimeout: Double = 10
    /// Seconds a connection may stay silent while a response is read.
    public var readTimeout: Double = 60
    /// The whole-response deadline: seconds one request may take from
    /// sending to its last response byte, plus one second per
    /// `minimumBytesPerSecond` bytes it moves (a trickling server never
    /// trips `readTimeout`, but trips this).
    public var responseTimeout: Double = 600
    public var minimumBytesPerSecond: Double = 64 * 1024
    /// Keys and pages one listing may return before it stops with an
    /// error (a server listing forever cannot exhaust memory).
    public var listingLimits = ListingLimits()
    /// ``listingLimits``' key cap, for the `max-list-keys` setting
    /// (callers need not import HTTPTransport).
    public var maxListKeys: Int {
        get { listingLimits.maxKeys }
        set { listingLimits.maxKeys = max(1, newValue) }
    }
    /// ``listingLimits``' page cap, for the `max-list-pages` setting.
    public var maxListPages: Int {
        get { listingLimits.maxPages }
        set { listingLimits.maxPages = max(1, newValue) }
    }

    /// Where this process notes the multipart uploads it starts until they
    /// complete or are aborted, so a later run aborts those of a killed run
    /// (``S3Storage/abortAbandonedUploads()``). nil: not noted.
    public var journal: UploadJournal?

    /// Copies of objects above this size use UploadPartCopy (S3's
    /// CopyObject stops at 5 GiB); lowered only by tests.
    package var multipartCopyThreshold: Int64 = 5 << 30
    /// Smallest part of an UploadPartCopy (fewer, larger server-side parts).
    package var copyPartSize: Int64 = 512 << 20

    public init(endpoint: URL, region: String = "us-east-1", accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The endpoint of a well-known service.
    ///
    /// - `aws`: `https://s3.REGION.amazonaws.com`
    /// - `b2`: Backblaze B2's S3 API, `https://s3.REGION.backblazeb2.com`
    ///   (region like `us-west-004`; B2's `key_id` / `application_key` are
    ///   the access key id / secret)
    /// - `r2`: Cloudflare R2, `https://ACCOUNT.r2.cloudflarestorage.com`
    ///   (region `auto`; `account` is the Cloudflare account id)
    /// - `wasabi`: `https://s3.REGION.wasabisys.com`
    /// - `minio`: has no public endpoint; set `endpoint` to the server
    ///   (path style, see ``defaultAddressingStyle(forPreset:)``)
    ///
    /// - Throws: `.invalidConfiguration` for an unknown preset, `r2` without
    ///   an account, or `minio`.
    public static func endpoint(forPreset preset: String, region: String, account: String?) throws(StorageError) -> URL {
        let text: String
        switch preset.lowercased() {
        case "aws", "s3": text = "https://s3.\(region).amazonaws.com"
        case "b2", "backblaze": text = "https://s3.\(region).backblazeb2.com"
        case "wasabi": text = "https://s3.\(region).wasabisys.com"
        case "r2", "cloudflare":
            guard let account, !account.isEmpty else {
                throw StorageError(.invalidConfiguration, "preset r2 needs an account (your Cloudflare account id)", hint: "set `account:` or give `endpoint: https://ACCOUNT.r2.cloudflarestorage.com`")
            }
            text = "https://\(account).r2.cloudflarestorage.com"
        case "minio":
            throw StorageError(.invalidConfiguration, "preset minio has no public endpoint", hint: "set `endpoint:` to your MinIO server, e.g. http://127.0.0.1:9000")
        default:
            throw StorageError(.invalidConfiguration, "unknown S3 preset \"\(preset)\"", hint: "use aws, b2, r2, wasabi or minio, or give `endpoint:`")
        }
        guard let url = URL(string: text), url.host != nil else {
            throw StorageError(.invalidConfiguration, "preset \(preset) with region \"\(region)\" does not make a valid endpoint", hint: "check the region")
        }
        return url
    }

    /// The addressing style a preset's service expects: path for MinIO,
    /// automatic otherwise.
    public static func defaultAddressingStyle(forPreset preset: String) -> AddressingStyle {
        preset.lowercased() == "minio" ? .path : .auto
    }

    /// Whether requests for `bucket` use path style.
    func usesPathStyle(for bucket: String) -> Bool {
        switch addressingStyle {
        case .path: return true
        case .virtualHosted: return false
        case .auto: return Self.isIPLiteralOrLocalhost(endpoint.host ?? "") || bucket.contains(".")
        }
    }

    /// IPv4/IPv6 literals and `localhost` names have no per-bucket DNS names.
    static func isIPLiteralOrLocalhost(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if host.contains(":") { return true }  // IPv6 literal
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
    }

    /// This machine: plain http to it never leaves the host.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host.hasSuffix(".localhost") || host.hasPrefix("127.") || host == "::1"
    }
}
