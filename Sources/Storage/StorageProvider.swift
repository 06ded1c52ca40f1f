public import Foundation
import Synchronization

/// One kind of storage (`local`, `s3`, `b2`): what a `storage:` block of that
/// provider may say, how its buckets are named, what it can do, and how to
/// connect to it.
///
/// Validation, `file:line:col` diagnostics and the provider docs are driven
/// by ``settings``; the executor only calls ``make(settings:credentials:context:)``.
/// Providers are listed once, in the `Providers` target, and handed to the
/// loader and the executor as a ``StorageRegistry``.
public protocol StorageProvider: Sendable {
    /// The `provider:` value (`local`, `s3`, `b2`).
    var name: String { get }
    /// One line for docs and `validate` hints.
    var summary: String { get }
    /// Every key a `storage:` block of this provider may set, besides
    /// `provider` and `credentials`.
    var settings: [ProviderSetting] { get }
    /// Whether `credentials:` (a load-credentials step) is required.
    var requiresCredentials: Bool { get }
    /// Which credential keys it reads, for messages ("key_id and application_key").
    var credentialKeysHint: String { get }
    /// Which bucket names the provider accepts, checked on literal names.
    var bucketNaming: BucketNamingRule { get }
    /// What the provider can do; tests and actions read quirks from here.
    var capabilities: ProviderCapabilities { get }
    /// Problems with literal settings beyond each key's type (e.g. "one of
    /// `endpoint` or `preset`"); `literals` holds the settings written as
    /// plain text, `written` every key written.
    func problems(literals: [String: String], written: Set<String>) -> [String]
    /// Connects. `settings` are resolved and typed per ``settings``.
    func make(settings: ProviderSettings, credentials: ProviderCredentials?, context: ProviderContext) throws -> any ObjectStorage
}

extension StorageProvider {
    public var credentialKeysHint: String { "the keys the provider reads" }
    public func problems(literals: [String: String], written: Set<String>) -> [String] { [] }
    public func setting(_ key: String) -> ProviderSetting? { settings.first { $0.key == key } }
}

/// One key of a `storage:` block.
public struct ProviderSetting: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case string
        /// An http(s) URL with a host.
        case url
        case bool
        /// A size: `1048576`, `10MiB`, `5MB`, within the range.
        case bytes(ClosedRange<Int64>)
        /// A whole number within the range.
        case int(ClosedRange<Int64>)
        /// One of the listed words.
        case choice([String])

        public var name: String {
            switch self {
            case .string: "string"
            case .url: "url"
            case .bool: "bool"
            case .bytes: "bytes"
            case .int: "int"
            case .choice: "enum"
            }
        }
    }

    public var key: String
    public var kind: Kind
    public var required: Bool
    /// The default as written in docs, or nil.
    public var defaultValue: String?
    /// One line for docs and hints.
    public var doc: String
    /// An example, shown in messages (e.g. an endpoint URL).
    public var example: String?

    public init(_ key: String, _ kind: Kind, required: Bool = false, default defaultValue: String? = nil, example: String? = nil, doc: String) {
        self.key = key
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.doc = doc
        self.example = example
    }
}

/// A resolved setting, typed by its ``ProviderSetting/Kind``.
public enum ProviderSettingValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case number(Int64)
}

/// The settings of one storage, resolved (expressions evaluated) and typed.
public struct ProviderSettings: Sendable {
    /// The storage's name in the workflow, for messages.
    public var storageName: String
    public var values: [String: ProviderSettingValue]

    public init(storageName: String, values: [String: ProviderSettingValue]) {
        self.storageName = storageName
        self.values = values
    }

    public func string(_ key: String) -> String? {
        switch values[key] {
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .number(let n): String(n)
        case nil: nil
        }
    }

    public func bool(_ key: String) -> Bool? {
        if case .bool(let b) = values[key] { return b }
        return nil
    }

    public func number(_ key: String) -> Int64? {
        if case .number(let n) = values[key] { return n }
        return nil
    }

    /// An http(s) URL with a host, or a `.invalidConfiguration` error.
    public func url(_ key: String) throws(StorageError) -> URL? {
        guard let text = string(key) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw StorageError(.invalidConfiguration, "storage \"\(storageName)\": `\(key)` \"\(text)\" is not an http(s) URL")
        }
        return url
    }
}

/// The values a load-credentials step produced, for ``StorageProvider/make``.
public struct ProviderCredentials: Sendable {
    /// Where they came from (a file, the environment), for messages.
    public var source: String
    public var values: [String: String]

    public init(source: String, values: [String: String]) {
        self.source = source
        self.values = values
    }

    /// The first non-empty value among `names`.
    public func first(_ names: [String]) -> String? {
        for name in names { if let value = values[name], !value.isEmpty { return value } }
        return nil
    }

    public var keys: [String] { values.keys.sorted() }
}

/// What a provider sees of the run.
public struct ProviderContext: Sendable {
    /// The workflow file's directory (relative `root:`s resolve against it).
    public var workflowDirectory: URL
    public var environment: [String: String]
    /// Where providers note the multipart uploads / large files they start
    /// (`STATE/uploads/`), so the next run aborts those of killed runs.
    public var uploadJournal: UploadJournal?
    /// The run's budget for transfer buffers, shared by all its storages.
    public var memoryBudget: MemoryBudget

    public init(workflowDirectory: URL, environment: [String: String], uploadJournal: UploadJournal? = nil, memoryBudget: MemoryBudget = .process) {
        self.workflowDirectory = workflowDirectory
        self.environment = environment
        self.uploadJournal = uploadJournal
        self.memoryBudget = memoryBudget
    }
}

/// What a provider can do. Quirks are declared here, never tested by name.
public struct ProviderCapabilities: Sendable, Hashable {
    /// Large objects move in parts (multipart upload, B2 large files).
    public var multipart: Bool
    /// `copy` happens on the server, without the bytes passing through us.
    public var serverSideCopy: Bool
    /// `read(range:)` fetches only the range.
    public var rangedReads: Bool
    /// Checksums (`md5`, `sha1`, `sha256`) the provider can compare for
    /// skip-unchanged without downloading.
    public var skipUnchangedChecksums: Set<String>
    /// `PutOptions.metadata` comes back in `head`.
    public var keepsUserMetadata: Bool
    /// Folders are marker objects (`folder/` or B2's `folder/.bzEmpty`)
    /// rather than directories.
    public var folderMarkers: Bool
    /// An empty folder (`create-folder`) lists as a common prefix.
    public var emptyFolders: Bool

    public init(multipart: Bool, serverSideCopy: Bool, rangedReads: Bool, skipUnchangedChecksums: Set<String>, keepsUserMetadata: Bool, folderMarkers: Bool, emptyFolders: Bool = true) {
        self.multipart = multipart
        self.serverSideCopy = serverSideCopy
        self.rangedReads = rangedReads
        self.skipUnchangedChecksums = skipUnchangedChecksums
        self.keepsUserMetadata = keepsUserMetadata
        self.folderMarkers = folderMarkers
        self.emptyFolders = emptyFolders
    }
}

/// Bucket naming rules of one provider. Validation applies them to bucket
/// names written literally in locations (`NAME://bucket/key`).
public struct BucketNamingRule: Sendable {
    /// What the rule allows, for the hint after an error.
    public var summary: String
    /// Why `name` is refused, or nil when it is acceptable.
    public var check: @Sendable (String) -> String?

    public init(summary: String, check: @escaping @Sendable (String) -> String?) {
        self.summary = summary
        self.check = check
    }
}

/// The providers a run knows, by name: the one list in the `Providers`
/// target, handed to the loader and the executor.
public struct StorageRegistry: Sendable {
    public let providers: [any StorageProvider]

    public init(_ providers: [any StorageProvider]) {
        var seen = Set<String>()
        self.providers = providers.filter { seen.insert($0.name).inserted }
    }

    public var names: [String] { providers.map(\.name) }

    public func provider(named name: String) -> (any StorageProvider)? {
        providers.first { $0.name == name }
    }

    private static let installed = Mutex(StorageRegistry([]))

    /// The registry used when none is passed explicitly (`WorkflowLoader.load`,
    /// `RunOptions`). Empty until a front end installs one (the CLI installs
    /// the built-in list at start; tests call `BuiltInProviders.install()`).
    public static var standard: StorageRegistry {
        scoped ?? installed.withLock { $0 }
    }

    /// Overrides ``standard`` for the work done inside `withValue`
    /// (`WorkflowLoader.load(path:registry:)`).
    @TaskLocal public static var scoped: StorageRegistry?

    public static func install(_ registry: StorageRegistry) {
        installed.withLock { $0 = registry }
    }
}

/// Thrown by ``StorageProvider/make(settings:credentials:context:)`` when the
/// loaded credentials lack what the provider needs (reported as a
/// credentials error, not a storage error).
public struct ProviderCredentialsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// "credentials from SOURCE (keys: a, b) have no NEED for storage NAME; HINT".
    public static func missing(_ need: String, in credentials: ProviderCredentials, storage: String, hint: String) -> ProviderCredentialsError {
        ProviderCredentialsError("credentials from \(credentials.source) (keys: \(credentials.keys.joined(separator: ", "))) have no \(need) for storage \"\(storage)\"; \(hint)")
    }
}
