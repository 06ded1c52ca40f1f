import Foundation
public import Storage

/// `provider: b2`: Backblaze B2's native API.
public struct B2Provider: StorageProvider {
    public init() {}

    static let keyIdNames = ["key_id", "application_key_id", "keyid", "applicationkeyid", "account_id"]
    static let keyNames = ["application_key", "applicationkey"]
    static let partSizes: ClosedRange<Int64> = 1...(5 << 30)

    public let name = "b2"
    public let summary = "Backblaze B2's native API"
    public let settings: [ProviderSetting] = [
        ProviderSetting("endpoint", .url, default: "https://api.backblazeb2.com", example: "https://api.backblazeb2.com",
                        doc: "where b2_authorize_account is called (the b2 CLI's B2_ENVIRONMENT)"),
        ProviderSetting("allow-insecure-http", .bool, default: "false", doc: "allow plain http to another machine"),
        ProviderSetting("large-file-threshold", .bytes(partSizes), default: "the account's recommendedPartSize",
                        doc: "uploads above this size go as B2 large files"),
        ProviderSetting("part-size", .bytes(partSizes), default: "the account's recommendedPartSize",
                        doc: "size of each large-file part (at least the account's absoluteMinimumPartSize), smaller when the run's --memory-budget holds fewer than part-concurrency parts"),
        ProviderSetting("part-concurrency", .int(1...64), default: "4", doc: "parts of one large file in flight, as the run's --memory-budget allows"),
        ProviderSetting("max-attempts", .int(1...100), default: "10", doc: "attempts per request (exponential backoff with full jitter between them)"),
        ProviderSetting("max-list-keys", .int(1...1_000_000_000), default: "1000000", doc: "most keys one listing may return before it stops with an error"),
        ProviderSetting("response-timeout", .int(1...86_400), default: "600", doc: "seconds one response may take in all (plus one per 64 KiB expected)"),
        ProviderSetting("bucket-id", .string, doc: "unused; B2 bucket ids are looked up by name"),
    ]
    public let requiresCredentials = true
    public let credentialKeysHint = "key_id and application_key"
    public var bucketNaming: BucketNamingRule { BucketNames.b2Rule }
    public let capabilities = ProviderCapabilities(
        multipart: true, serverSideCopy: true, rangedReads: true,
        skipUnchangedChecksums: ["sha1", "sha256"], keepsUserMetadata: true, folderMarkers: true)

    public func make(settings: ProviderSettings, credentials: ProviderCredentials?, context: ProviderContext) throws -> any ObjectStorage {
        guard let credentials else {
            throw ProviderCredentialsError("storage \"\(settings.storageName)\" has no `credentials`; add a load-credentials step with key_id and application_key and name it in `credentials:`")
        }
        guard let keyId = credentials.first(Self.keyIdNames), let key = credentials.first(Self.keyNames) else {
            throw ProviderCredentialsError.missing("key_id / application_key pair", in: credentials, storage: settings.storageName,
                hint: "provide key_id (or application_key_id) and application_key from B2's App Keys page. Configure your credentials.")
        }
        var configuration = B2Configuration(keyId: keyId, applicationKey: key, authorizationURL: try settings.url("endpoint"))
        if let insecure = settings.bool("allow-insecure-http") { configuration.allowInsecureHTTP = insecure }
        if let bytes = settings.number("large-file-threshold") { configuration.largeFileThreshold = bytes }
        if let bytes = settings.number("part-size") { configuration.partSize = bytes }
        if let n = settings.number("part-concurrency") { configuration.partConcurrency = Int(n) }
        if let n = settings.number("max-attempts") { configuration.maxAttempts = Int(n) }
        if let n = settings.number("max-list-keys") { configuration.maxListKeys = Int(clamping: n) }
        if let n = settings.number("response-timeout") { configuration.responseTimeout = Double(n) }
        configuration.journal = context.uploadJournal
        configuration.memoryBudget = context.memoryBudget
        return try B2Storage(configuration: configuration)
    }
}

extension B2Storage {
    /// The friendly URL is the `upload` action's `url` output.
    public func publicURL(bucket: String, key: String) async throws -> String? {
        try await friendlyURL(bucket: bucket, key: key)
    }
}
