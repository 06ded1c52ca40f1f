import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import HTTPTransport
package import Synchronization

/// The `b2` provider: Backblaze B2's native API (`b2api/v4`) over one pooled
/// HTTP client.
///
/// - The account is authorized once (`b2_authorize_account`) and again,
///   once per failed request, when B2 answers 401 `expired_auth_token`.
/// - Restricted application keys are honoured up front: a bucket or name
///   outside the key's allowed bucket / name prefix fails with a clear
///   ``StorageError`` `.accessDenied` before any request is made.
/// - Uploads send `X-Bz-Content-Sha1` on every body (B2 verifies it). Upload
///   URLs are pooled, one upload in flight per URL; a URL that fails (401,
///   408, 429, 5xx, broken connection) is dropped and a new one fetched.
/// - Files above ``B2Configuration/largeFileThreshold`` go up as large
///   files, several parts at once, with the whole file's SHA-1 stored as
///   `large_file_sha1`; a failed or cancelled large file is cancelled on B2
///   (`b2_cancel_large_file`) so no parts are left behind.
/// - Downloads are verified against the SHA-1 B2 holds.
///
/// Folders are B2 web-UI style: a zero-byte `folder/.bzEmpty` object (see
/// ``folderMarkerKey(for:)`` and ``createFolder(bucket:folder:)``).
public final class B2Storage: ObjectStorage {
    public let configuration: B2Configuration
    /// The shared HTTP layer: pooled client, timeouts, retries, redaction.
    let transport: HTTPTransport
    let logger: Logger
    let auth: Authorizer
    /// Bucket name -> id, filled as buckets are seen.
    let bucketIDs = Mutex<[String: String]>([:])
    /// Idle upload URLs per bucket id (one upload in flight per URL).
    let uploadURLs = Mutex<[String: [UploadTarget]]>([:])
    /// Large files this instance cancelled and whether the cancel went
    /// through (tests read it).
    package let cancelledLargeFiles = Mutex<[CancelRecord]>([])
    package struct CancelRecord: Sendable {
        package var key: String
        package var fileID: String
        package var succeeded: Bool
    }

    public var displayName: String { "b2:\(configuration.authorizationURL.absoluteString)" }

    /// The name of B2's web-UI folder marker inside a folder.
    public static let folderMarkerName = ".bzEmpty"

    /// The key of the zero-byte object that makes `folder` show in B2's
    /// web UI: `folder/.bzEmpty` (a trailing slash is added when missing).
    public static func folderMarkerKey(for folder: String) -> String {
        (folder.hasSuffix("/") ? folder : folder + "/") + folderMarkerName
    }

    /// Whether `key` is a web-UI folder marker (`.../.bzEmpty`).
    public static func isFolderMarker(_ key: String) -> Bool {
        key == folderMarkerName || key.hasSuffix("/" + folderMarkerName)
    }

    /// - Throws: ``StorageError`` `.invalidConfiguration` for an
    ///   authorization URL that is not http(s), plain http to another host
    ///   without ``B2Configuration/allowInsecureHTTP``, or empty credentials.
    public init(configuration: B2Configuration) throws {
        let url = configuration.authorizationURL
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw StorageError(.invalidConfiguration, "B2 authorization URL \"\(url.absoluteString)\" is not an http(s) URL", hint: "leave it unset for https://api.backblazeb2.com")
        }
        if scheme == "http" && !B2Configuration.isLoopback(host) && !configuration.allowInsecureHTTP {
            throw StorageError(.invalidConfiguration, "B2 authorization URL \(url.absoluteString) is plain http to another machine",
                               hint: "use https, or set allow-insecure-http: true if the network is trusted")
        }
        guard !configuration.keyId.isEmpty, !configuration.applicationKey.isEmpty else {
            throw StorageError(.invalidConfiguration, "B2 credentials are empty", hint: "configure a key id and an application key (B2 web UI: App Keys)")
        }
        self.configuration = configuration
        self.logger = Logger(label: "bucketflow.b2")
        var timeouts = HTTPTimeouts()
        timeouts.connect = configuration.connectTimeout
        timeouts.read = configuration.readTimeout
        timeouts.request = configuration.requestTimeout
        timeouts.response = configuration.responseTimeout
        timeouts.minimumBytesPerSecond = configuration.minimumBytesPerSecond
        let transport = try HTTPTransport(
            scheme: scheme, timeouts: timeouts,
            retryPolicy: RetryPolicy(maxAttempts: configuration.maxAttempts, base: configuration.retryBaseDelay, cap: configuration.retryMaxDelay),
            secrets: [configuration.applicationKey], label: "bucketflow.b2")
        self.transport = transport
        self.auth = Authorizer(transport: transport, configuration: configuration)
    }

    var retryPolicy: RetryPolicy { transport.retryPolicy }

    public func shutdown() async throws {
        try await transport.shutdown()
    }

    /// `{downloadUrl}/file/{bucket}/{name}`: the file's "friendly URL"
    /// (public buckets serve it to anyone; private ones need a token).
    public func friendlyURL(bucket: String, key: String) async throws -> String {
        let session = try await auth.session()
        return "\(session.downloadURL)/file/\(Self.encodeName(bucket))/\(Self.encodeName(key))"
    }

    /// Percent-encodes a file name as B2 wants it in `X-Bz-File-Name` and
    /// URLs: UTF-8, everything but unreserved characters and `/` escaped
    /// (so `+` is `%2B`: a bare `+` means a space to B2).
    static func encodeName(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count)
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Removes signatures, the application key and every token B2 gave
    /// (the transport learns each one as it arrives) from `text`.
    func scrub(_ text: String) -> String {
        transport.redact(text)
    }
}

/// An authorized account: what `b2_authorize_account` answered.
struct B2Session: Sendable {
    var accountID: String
    var token: String
    var apiURL: String
    var downloadURL: String
    var recommendedPartSize: Int64
    var absoluteMinimumPartSize: Int64
    /// Buckets the key is limited to (nil: all of the account's).
    var allowedBuckets: [(id: String, name: String?)]?
    var namePrefix: String?
    var capabilities: [String]
    /// Counts authorizations, so a request that saw a token expire only
    /// triggers a new authorization when nobody else did already.
    var generation: Int
}

/// Authorizes the account once, and again on demand; concurrent callers
/// share one `b2_authorize_account` call.
final class Authorizer: Sendable {
    let transport: HTTPTransport
    let configuration: B2Configuration
    private let state = Mutex<State>(State())

    private struct State {
        var session: B2Session?
        var pending: Task<B2Session, any Error>?
        var pendingGeneration = 0
        var generation = 0
        var tokens: [String] = []
    }

    init(transport: HTTPTransport, configuration: B2Configuration) {
        self.transport = transport
        self.configuration = configuration
    }

    func knownTokens() -> [String] { state.withLock { $0.tokens } }

    /// The current session, authorizing first when there is none.
    func session() async throws -> B2Session {
        try await refresh(replacing: nil)
    }

    /// A session newer than `stale` (nil: any session).
    func refresh(replacing stale: Int?) async throws -> B2Session {
        enum Next { case ready(B2Session), wait(Task<B2Session, any Error>) }
        let next: Next = state.withLock { state in
            if let session = state.session, stale == nil || session.generation != stale { return .ready(session) }
            if let pending = state.pending { return .wait(pending) }
            state.generation += 1
            let generation = state.generation
            // Unstructured: one caller's cancellation must not fail the others.
            let task = Task { try await self.authorize(generation: generation) }
            state.pending = task
            state.pendingGeneration = generation
            return .wait(task)
        }
        let task: Task<B2Session, any Error>
        switch next {
        case .ready(let session): return session
        case .wait(let pending): task = pending
        }
        do {
            let session = try await task.value
            state.withLock { state in
                if (state.session?.generation ?? -1) < session.generation {
                    state.session = session
                    state.tokens.append(session.token)
                    transport.addSecrets([session.token])
                }
                if state.pendingGeneration == session.generation { state.pending = nil }
            }
            return session
        } catch {
            state.withLock { $0.pending = nil }
            throw error
        }
    }

    private func authorize(generation: Int) async throws -> B2Session {
        let base = configuration.authorizationURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var request = HTTPClientRequest(url: "\(base)/b2api/v4/b2_authorize_account")
        request.method = .GET
        let basic = Data("\(configuration.keyId):\(configuration.applicationKey)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(basic)")
        var attempt = 1
        while true {
            do {
                let response = try await transport.withDeadline(bytes: 0) { [request] in try await self.transport.send(request) }
                let body = Data(buffer: try await response.body.collect(upTo: 4 << 20))
                if response.status.code == 200 { return try Self.parse(body, generation: generation) }
                let failure = B2Failure.parse(status: response.status.code, body: body, headers: response.headers)
                if failure.status == 401 || failure.status == 403 {
                    throw StorageError(.invalidCredentials, "B2 refused the application key id \(configuration.keyId) (\(failure.code)\(failure.message.isEmpty ? "" : ": " + failure.message))",
                                       hint: "check the key id and application key (B2 web UI: App Keys); a deleted or expired key must be replaced")
                }
                throw failure.storageError(operation: "b2_authorize_account", subject: "the account")
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard attempt < transport.retryPolicy.maxAttempts, RetryPolicy.isRetryable(error) else {
                    if let error = error as? StorageError { throw transport.redact(error) }
                    throw StorageError(.transient, transport.redact("cannot reach B2 at \(base) to authorize: \(TransportErrorText.describe(error))") + (attempt > 1 ? " (after \(attempt) attempts)" : ""),
                                       hint: "check the network and the authorization URL", isRetryable: RetryPolicy.isRetryable(error))
                }
                try await transport.retryPolicy.pause(afterAttempt: attempt)
                attempt += 1
            }
        }
    }

    static func parse(_ body: Data, generation: Int) throws -> B2Session {
        struct Answer: Decodable {
            struct APIInfo: Decodable { var storageApi: StorageAPI }
            struct StorageAPI: Decodable {
                var apiUrl: String
                var downloadUrl: String
                var recommendedPartSize: Int64
                var absoluteMinimumPartSize: Int64
                var allowed: Allowed?
                var namePrefix: String?
                var capabilities: [String]?
            }
            struct Allowed: Decodable {
                struct Bucket: Decodable { var id: String; var name: String? }
                var buckets: [Bucket]?
                var capabilities: [String]?
                var namePrefix: String?
            }
            var accountId: String
            var authorizationToken: String
            var apiInfo: APIInfo
        }
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: body)
        } catch {
            throw StorageError(.other, "B2 sent an unreadable b2_authorize_account answer", hint: "check that the authorization URL is B2's (https://api.backblazeb2.com)")
        }
        let storage = answer.apiInfo.storageApi
        return B2Session(
            accountID: answer.accountId, token: answer.authorizationToken,
            apiURL: storage.apiUrl.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
            downloadURL: storage.downloadUrl.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
            recommendedPartSize: storage.recommendedPartSize, absoluteMinimumPartSize: storage.absoluteMinimumPartSize,
            allowedBuckets: storage.allowed?.buckets.map { list in list.map { bucket in (id: bucket.id, name: bucket.name) } },
            namePrefix: storage.allowed?.namePrefix ?? storage.namePrefix,
            capabilities: storage.allowed?.capabilities ?? storage.capabilities ?? [],
            generation: generation)
    }
}

/// B2's JSON error body: `{"status": 400, "code": "...", "message": "..."}`.
struct B2Failure: Error, Sendable {
    var status: UInt
    var code: String
    var message: String
    var retryAfter: Double?

    static func parse(status: UInt, body: Data, headers: HTTPHeaders) -> B2Failure {
        struct Body: Decodable { var status: UInt?; var code: String?; var message: String? }
        let parsed = try? JSONDecoder().decode(Body.self, from: body)
        return B2Failure(status: status, code: parsed?.code ?? "http_\(status)", message: parsed?.message ?? "",
                         retryAfter: headers.first(name: "Retry-After").flatMap(Double.init))
    }

    /// 401 expired/bad token: authorize again (once) and resend.
    var needsReauthorization: Bool { status == 401 && (code == "expired_auth_token" || code == "bad_auth_token") }

    var isRetryable: Bool { RetryPolicy.isRetryableStatus(status) }

    /// The ``StorageError`` a user sees.
    func storageError(operation: String, subject: String) -> StorageError {
        let detail = message.isEmpty ? code : "\(code): \(message)"
        switch (status, code) {
        case (_, "duplicate_bucket_name"):
            return StorageError(.bucketAlreadyExists, "\(subject) already exists (B2 bucket names are global across all accounts)", hint: "choose another bucket name")
        case (_, "cannot_delete_non_empty_bucket"):
            return StorageError(.bucketNotEmpty, "\(subject) is not empty", hint: "delete every file version in it first (hidden versions and unfinished large files count)")
        case (_, "bad_bucket_id"):
            return StorageError(.noSuchBucket, "\(subject) does not exist", hint: "check the bucket name")
        case (404, _), (_, "file_not_present"), (_, "no_such_file"):
            return StorageError(.noSuchKey, "\(subject) does not exist (\(operation))", hint: "check the name; B2 names are case-sensitive")
        case (401, "unauthorized"):
            return StorageError(.accessDenied, "B2 refused \(operation) on \(subject): \(detail)", hint: "the application key lacks a capability or is restricted to another bucket or name prefix; use a key that allows it")
        case (401, _):
            return StorageError(.invalidCredentials, "B2 refused the authorization for \(operation) on \(subject) (\(code))", hint: "check the key id and application key")
        case (403, "storage_cap_exceeded"), (403, "transaction_cap_exceeded"), (403, "download_cap_exceeded"):
            return StorageError(.accessDenied, "B2 refused \(operation) on \(subject): \(detail)", hint: "raise the account's caps (B2 web UI: Caps & Alerts)")
        case (403, _):
            return StorageError(.accessDenied, "B2 refused \(operation) on \(subject): \(detail)", hint: "check the application key's capabilities")
        case (416, _):
            return StorageError(.other, "\(operation) on \(subject): the byte range is outside the file (\(detail))", hint: "check the range against the file's size")
        case (408, _), (429, _), (500..., _):
            return StorageError(.transient, "B2 is busy or failing (\(status) \(detail)) during \(operation) on \(subject)", hint: "try again later", isRetryable: true)
        case (400, "bad_request") where operation == "b2_create_bucket":
            return StorageError(.invalidBucketName, "B2 refused to create \(subject): \(detail)", hint: "B2 bucket names are 6-63 letters, digits and dashes")
        default:
            return StorageError(.other, "B2 refused \(operation) on \(subject) (\(status) \(detail))")
        }
    }
}
