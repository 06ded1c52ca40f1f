public import Foundation
public import HTTPTransport
public import Storage

/// How to reach Backblaze B2's native API, and how hard to push it.
public struct B2Configuration: Sendable {
    /// Where `b2_authorize_account` is called; the answer names the API and
    /// download URLs of the account's cluster.
    public var authorizationURL: URL = URL(string: "https://api.backblazeb2.com")!
    /// The application key id (`keyID` on B2's "App Keys" page).
    public var keyId: String
    /// The application key itself. Never appears in a message or log.
    public var applicationKey: String
    /// Plain `http://` to a host other than this machine must be asked for.
    public var allowInsecureHTTP = false
    /// Attempts per request, counting the first (B2 asks clients to retry
    /// 408/429/500/503 and broken connections with backoff).
    public var maxAttempts = RetryPolicy.defaultMaxAttempts
    /// Seconds: the first retry delay's upper bound (full jitter, doubling).
    public var retryBaseDelay: Double = 0.1
    /// Seconds: no retry delay is longer (B2's Retry-After included).
    public var retryMaxDelay: Double = 20
    /// Files larger than this go up as B2 large files (start, parts,
    /// finish). nil: the account's `recommendedPartSize` (100 MB on B2).
    public var largeFileThreshold: Int64?
    /// Part size of large files. nil: the account's `recommendedPartSize`.
    /// Never below `absoluteMinimumPartSize`, and grown so a file needs at
    /// most 10,000 parts.
    public var partSize: Int64?
    /// Parts of one large file in flight at once; each is held in memory
    /// (read once, hashed once, sent), paid for from ``memoryBudget``.
    public var partConcurrency = 4
    /// The bytes of upload buffers (parts, bodies read into memory) all
    /// transfers of the run may hold at once; parts shrink (not below the
    /// account's minimum) so `partConcurrency` of them fit.
    public var memoryBudget = MemoryBudget.process
    /// Seconds one request may take to send its body and receive the response head.
    public var requestTimeout: Double = 300
    /// Seconds to establish a connection (TCP and TLS).
    public var connectTimeout: Double = 10
    /// Seconds a connection may stay silent while a response is read.
    public var readTimeout: Double = 60
    /// The whole-response deadline: seconds one request may take to its
    /// last response byte, plus one second per `minimumBytesPerSecond` bytes.
    public var responseTimeout: Double = 600
    public var minimumBytesPerSecond: Double = 64 * 1024
    /// Names and pages one listing may return before it stops with an error.
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
    /// Where this process notes the large files it starts until they are
    /// finished or cancelled, so a later run cancels those of a killed run
    /// (``B2Storage/cancelAbandonedLargeFiles()``). nil: not noted.
    public var journal: UploadJournal?
    /// Copies of files above this size use b2_copy_part (b2_copy_file stops
    /// at 5 GB); lowered only by tests.
    package var largeCopyThreshold: Int64 = 5_000_000_000

    public init(keyId: String, applicationKey: String, authorizationURL: URL? = nil) {
        self.keyId = keyId
        self.applicationKey = applicationKey
        if let authorizationURL { self.authorizationURL = authorizationURL }
    }

    /// This machine: plain http to it never leaves the host.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host.hasSuffix(".localhost") || host.hasPrefix("127.") || host == "::1"
    }
}
