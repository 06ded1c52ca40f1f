import Foundation
public import Storage

/// `provider: s3`: any S3-compatible service (AWS, B2's S3 endpoint, R2,
/// MinIO, Wasabi, moto, rclone).
public struct S3Provider: StorageProvider {
    public init() {}

    static let accessKeyNames = ["aws_access_key_id", "access_key_id", "key_id", "accesskeyid", "access_key"]
    static let secretKeyNames = ["aws_secret_access_key", "secret_access_key", "application_key", "secretaccesskey", "secret_key"]
    static let tokenNames = ["aws_session_token", "session_token"]
    static let presets = ["aws", "b2", "r2", "minio", "wasabi"]
    static let partSizes: ClosedRange<Int64> = (5 << 20)...(5 << 30)

    public let name = "s3"
    public let summary = "an S3-compatible service"
    public let settings: [ProviderSetting] = [
        ProviderSetting("endpoint", .url, example: "https://s3.us-west-004.backblazeb2.com", doc: "the service URL (or use `preset`)"),
        ProviderSetting("region", .string, default: "us-east-1", doc: "the signing region"),
        ProviderSetting("preset", .choice(presets), doc: "a known service whose endpoint follows from `region` (and `account` for r2)"),
        ProviderSetting("account", .string, doc: "the account id (preset r2)"),
        ProviderSetting("addressing", .choice(["auto", "path", "virtual"]), default: "auto", doc: "bucket in the path or in the host name"),
        ProviderSetting("allow-insecure-http", .bool, default: "false", doc: "allow plain http to another machine"),
        ProviderSetting("multipart-threshold", .bytes(partSizes), default: "64MiB", doc: "uploads above this size go in parts"),
        ProviderSetting("part-size", .bytes(partSizes), default: "16MiB", doc: "size of each part, smaller when the run's --memory-budget holds fewer than part-concurrency parts"),
        ProviderSetting("part-concurrency", .int(1...64), default: "4", doc: "parts of one upload in flight, as the run's --memory-budget allows"),
        ProviderSetting("checksum", .choice(S3ChecksumMode.allCases.map(\.rawValue)), default: "auto",
                        doc: "how the server verifies uploads: `auto` sends CRC32C plus Content-MD5 until the service echoes the CRC; `md5`, `crc32c` or `crc64nvme` only that"),
        ProviderSetting("max-attempts", .int(1...100), default: "10", doc: "attempts per request (exponential backoff with full jitter between them)"),
        ProviderSetting("max-list-keys", .int(1...1_000_000_000), default: "1000000", doc: "most keys one listing may return before it stops with an error"),
        ProviderSetting("response-timeout", .int(1...86_400), default: "600", doc: "seconds one response may take in all (plus one per 64 KiB expected)"),
        ProviderSetting("keep-alive", .bool, default: "true", doc: "reuse connections"),
    ]
    /// Not required in the file (the run says so when they are missing):
    /// workflows may validate before their credentials step is written.
    public let requiresCredentials = false
    public let credentialKeysHint = "aws_access_key_id and aws_secret_access_key (or key_id and application_key)"
    public var bucketNaming: BucketNamingRule { BucketNames.s3Rule }
    public let capabilities = ProviderCapabilities(
        multipart: true, serverSideCopy: true, rangedReads: true,
        skipUnchangedChecksums: ["sha256", "md5"], keepsUserMetadata: true, folderMarkers: true)

    public func problems(literals: [String: String], written: Set<String>) -> [String] {
        if !written.contains("endpoint") && !written.contains("preset") {
            return ["needs `endpoint` (e.g. https://s3.us-west-004.backblazeb2.com) or `preset` (aws, b2, r2, minio)"]
        }
        return []
    }

    public func make(settings: ProviderSettings, credentials: ProviderCredentials?, context: ProviderContext) throws -> any ObjectStorage {
        guard let credentials else {
            throw ProviderCredentialsError("storage \"\(settings.storageName)\" has no `credentials`; add a load-credentials step and name it in `credentials:`")
        }
        guard let accessKey = credentials.first(Self.accessKeyNames), let secretKey = credentials.first(Self.secretKeyNames) else {
            throw ProviderCredentialsError.missing("access key / secret pair", in: credentials, storage: settings.storageName,
                hint: "provide key_id and application_key (Backblaze) or aws_access_key_id and aws_secret_access_key. Configure your credentials.")
        }
        let region = settings.string("region") ?? "us-east-1"
        let endpoint: URL
        if let url = try settings.url("endpoint") {
            endpoint = url
        } else {
            endpoint = try S3Configuration.endpoint(forPreset: settings.string("preset") ?? "aws", region: region, account: settings.string("account"))
        }
        var configuration = S3Configuration(endpoint: endpoint, region: region, accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken: credentials.first(Self.tokenNames))
        if let style = settings.string("addressing"), let value = S3Configuration.AddressingStyle(rawValue: style) {
            configuration.addressingStyle = value
        } else if settings.string("preset") == "minio" {
            configuration.addressingStyle = .path
        }
        if let insecure = settings.bool("allow-insecure-http") { configuration.allowInsecureHTTP = insecure }
        if let bytes = settings.number("multipart-threshold") { configuration.multipartThreshold = bytes }
        if let bytes = settings.number("part-size") { configuration.partSize = bytes }
        if let n = settings.number("part-concurrency"), n > 0 { configuration.partConcurrency = Int(n) }
        if let mode = settings.string("checksum").flatMap(S3ChecksumMode.init(rawValue:)) { configuration.checksum = mode }
        if let n = settings.number("max-attempts"), n > 0 { configuration.maxAttempts = Int(n) }
        if let keepAlive = settings.bool("keep-alive") { configuration.reuseConnections = keepAlive }
        if let n = settings.number("max-list-keys") { configuration.maxListKeys = Int(clamping: n) }
        if let n = settings.number("response-timeout") { configuration.responseTimeout = Double(n) }
        configuration.journal = context.uploadJournal
        configuration.memoryBudget = context.memoryBudget
        return try S3Storage(configuration: configuration, environment: context.environment)
    }
}
