import Foundation
import NIOHTTP1
import Storage

/// The fields of an S3 error document (`<Error><Code>...`).
struct S3ErrorResponse: Sendable, Equatable {
    var code: String
    var message: String?
    var bucket: String?
    var key: String?

    /// Nil when `data` is not an S3 error document.
    static func parse(_ data: Data) -> S3ErrorResponse? {
        guard let root = S3XMLElement.parse(data), root.name == "Error", let code = root.string("Code"), !code.isEmpty else { return nil }
        return S3ErrorResponse(code: code, message: root.string("Message"), bucket: root.string("BucketName"), key: root.string("Key"))
    }
}

/// S3 error codes as errors a user can act on. Messages name the bucket and
/// key; no message ever carries a credential (the error documents' own
/// `StringToSign` and `CanonicalRequest` fields are never copied).
enum S3Errors {
    /// S3 error codes that mean "busy or broken right now, try again".
    static let retryableCodes: Set<String> = [
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
        "TooManyRequests", "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded", "ProvisionedThroughputExceededException",
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "InternalFailure", "OperationAborted",
        "BadDigest", "IncompleteBody",
    ]

    static func map(code: String, status: UInt, message: String?, bucket: String?, key: String?, region: String, headers: HTTPHeaders) -> StorageError {
        let subject = S3Storage.subject(bucket, key)
        let detail = message.flatMap { $0.isEmpty ? nil : ": \(Self.clip($0))" } ?? ""
        let bucketName = bucket.map { "bucket \($0)" } ?? "the bucket"
        switch code {
        case "NoSuchBucket":
            return StorageError(.noSuchBucket, "\(bucket.map { "bucket \"\($0)\"" } ?? "the bucket") does not exist (NoSuchBucket)",
                                hint: "create it first with a create-bucket step, or check the bucket name and the endpoint")
        case "NoSuchKey":
            return StorageError(.noSuchKey, "\(subject) does not exist (NoSuchKey)")
        case "NoSuchUpload":
            return StorageError(.other, "the multipart upload of \(subject) no longer exists (NoSuchUpload)", hint: "it was aborted or expired; upload again")
        case "BucketAlreadyOwnedByYou":
            return StorageError(.bucketAlreadyExists, "\(bucketName) already exists and is yours (BucketAlreadyOwnedByYou)", hint: "use if-exists: ok to accept an existing bucket")
        case "BucketAlreadyExists":
            return StorageError(.bucketAlreadyExists, "\(bucketName) already exists (BucketAlreadyExists)", hint: "bucket names are global on this service; choose another name")
        case "BucketNotEmpty":
            return StorageError(.bucketNotEmpty, "\(bucketName) is not empty (BucketNotEmpty)", hint: "delete its objects first, or use force: true")
        case "SignatureDoesNotMatch":
            return StorageError(.signatureMismatch, "the service rejected the request signature for \(subject) (SignatureDoesNotMatch)",
                                hint: "check the secret key and the region (\(region))")
        case "InvalidAccessKeyId":
            return StorageError(.invalidCredentials, "the service does not know the access key used for \(subject) (InvalidAccessKeyId)",
                                hint: "check the access key id")
        case "InvalidToken", "ExpiredToken", "TokenRefreshRequired":
            return StorageError(.invalidCredentials, "the session token was refused for \(subject) (\(code))", hint: "get fresh temporary credentials")
        case "AccessDenied", "AllAccessDisabled", "Forbidden":
            return StorageError(.accessDenied, "access denied to \(subject) (\(code))\(detail)",
                                hint: bucket.map { "check the key's permissions for bucket \($0)" } ?? "check the key's permissions")
        case "InvalidBucketName":
            return StorageError(.invalidBucketName, "invalid bucket name \(bucket.map { "\"\($0)\"" } ?? "") (InvalidBucketName)",
                                hint: "use 3 to 63 lowercase letters, digits, '-' and '.'")
        case "KeyTooLongError":
            return StorageError(.invalidKey, "the key of \(subject) is too long (KeyTooLongError)", hint: "keys are at most 1024 bytes of UTF-8")
        case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch":
            return StorageError(.checksumMismatch, "the service received other bytes than were sent for \(subject) (\(code))",
                                hint: "the transfer was corrupted on the way, or the file changed while it was read; retry",
                                isRetryable: code == "BadDigest")
        case "PreconditionFailed":
            return StorageError(.other, "\(subject) changed while it was being read (PreconditionFailed)", hint: "run the step again")
        case "RequestTimeTooSkewed":
            return StorageError(.invalidConfiguration, "this machine's clock differs too much from the service's (RequestTimeTooSkewed)", hint: "synchronize the clock (e.g. with NTP)")
        case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "Redirect", "TemporaryRedirect":
            let actual = headers.first(name: "x-amz-bucket-region").map { " (it is in \($0))" } ?? ""
            return StorageError(.invalidConfiguration, "\(subject) is not served in region \(region)\(actual) (\(code))", hint: "set `region:` (and the endpoint) to the bucket's region")
        case "EntityTooLarge", "EntityTooSmall", "InvalidPart", "InvalidPartOrder", "InvalidRange":
            return StorageError(.other, "the service refused \(subject) (\(code))\(detail)")
        case "NotImplemented":
            return StorageError(.notSupported, "this S3 service does not implement the request for \(subject) (NotImplemented)\(detail)")
        default:
            if Self.retryableCodes.contains(code) || status >= 500 || status == 429 {
                return StorageError(.transient, "the service is busy or failing for \(subject) (\(code), HTTP \(status))\(detail)",
                                    hint: "retried with backoff; lower the concurrency if it persists", isRetryable: true)
            }
            return StorageError(.other, "the service refused the request for \(subject): \(code) (HTTP \(status))\(detail)")
        }
    }

    /// The code to assume for a response without an error document (HEAD,
    /// or a proxy's bare status).
    static func code(forStatus status: UInt, method: HTTPMethod, hasKey: Bool) -> String {
        switch status {
        case 301, 307: return "PermanentRedirect"
        case 400: return "BadRequest"
        case 403: return "AccessDenied"
        case 404: return hasKey ? "NoSuchKey" : "NoSuchBucket"
        case 409: return "Conflict"
        case 412: return "PreconditionFailed"
        case 416: return "InvalidRange"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "SlowDown"
        default: return "HTTP\(status)"
        }
    }

    /// Server messages are for people; keep them to one short line.
    static func clip(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }
}
