import NIOHTTP1
import Storage

/// S3 error codes as errors a user can act on. Messages name the bucket or
/// key and never contain a secret.
enum S3Errors {
    static func map(code: String, status: UInt, message: String?, subject: String, region: String, headers: HTTPHeaders) -> StorageError {
        let detail = message.map { ": \($0)" } ?? ""
        switch code {
        case "NoSuchBucket":
            return StorageError(.noSuchBucket, "\(subject.hasPrefix("bucket ") ? subject : "the bucket of \(subject)") does not exist (NoSuchBucket)", hint: "create it first with a create-bucket step, or check the bucket name and endpoint")
        case "NoSuchKey":
            return StorageError(.noSuchKey, "\(subject) does not exist (NoSuchKey)")
        case "NotFound" where subject.contains("/"):
            return StorageError(.noSuchKey, "\(subject) does not exist (NoSuchKey)")
        case "NotFound":
            return StorageError(.noSuchBucket, "\(subject) does not exist (404)", hint: "create it first with a create-bucket step")
        case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
            return StorageError(.bucketAlreadyExists, "\(subject) already exists (\(code))", hint: code == "BucketAlreadyExists" ? "bucket names are global on this service; choose another name" : nil)
        case "BucketNotEmpty":
            return StorageError(.bucketNotEmpty, "\(subject) is not empty (BucketNotEmpty)", hint: "use force: true to empty it first")
        case "SignatureDoesNotMatch":
            return StorageError(.signatureMismatch, "the service rejected the request signature for \(subject) (SignatureDoesNotMatch)", hint: "check the secret key and the region (\(region))")
        case "InvalidAccessKeyId":
            return StorageError(.invalidCredentials, "the service does not know the access key used for \(subject) (InvalidAccessKeyId)", hint: "check the access key id in your credentials")
        case "AccessDenied", "AllAccessDisabled":
            return StorageError(.accessDenied, "access denied to \(subject) (\(code))\(detail)", hint: "check the key's permissions for \(subject.split(separator: "/").first.map(String.init) ?? subject)")
        case "InvalidBucketName":
            return StorageError(.invalidBucketName, "invalid bucket name for \(subject) (InvalidBucketName)", hint: "use 3 to 63 lowercase letters, digits, '-' and '.'")
        case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch":
            return StorageError(.checksumMismatch, "the service received different bytes than were sent for \(subject) (\(code))", hint: "the transfer was corrupted; retry", isRetryable: true)
        case "RequestTimeTooSkewed":
            return StorageError(.invalidConfiguration, "this machine's clock differs too much from the service's (RequestTimeTooSkewed)", hint: "synchronize the clock (e.g. with NTP)")
        case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
            let actual = headers.first(name: "x-amz-bucket-region").map { " (the bucket is in \($0))" } ?? ""
            return StorageError(.invalidConfiguration, "\(subject) is not in region \(region)\(actual) (\(code))", hint: "set `region:` to the bucket's region")
        case "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestLimitExceeded", "TooManyRequests", "InternalError", "ServiceUnavailable":
            return StorageError(.transient, "the service is busy for \(subject) (\(code))", hint: "retried with backoff; lower --transfers if it persists", isRetryable: true)
        default:
            let retryable = status >= 500 || status == 429
            return StorageError(retryable ? .transient : .other, "S3 error for \(subject): \(code) (HTTP \(status))\(detail)", isRetryable: retryable)
        }
    }
}
