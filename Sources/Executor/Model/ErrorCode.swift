public import Storage

/// Why a step or an object failed, in a form machines can switch on.
///
/// The raw value is the stable string written to reports and JSON logs
/// (`"NoSuchBucket"`); the Swift case names are for code. Provider codes
/// that bucketflow does not know map to ``storageError`` (the message keeps
/// the detail).
public enum ErrorCode: String, Sendable, Hashable, Codable, CaseIterable {
    // Workflow and parameters.
    case invalidParameter = "InvalidParameter"
    case expressionError = "ExpressionError"
    case unknownStorage = "UnknownStorage"
    case invalidStorage = "InvalidStorage"
    // Local files.
    case noSuchFile = "NoSuchFile"
    case ioError = "IOError"
    case tooLarge = "TooLarge"
    case invalidJSON = "InvalidJSON"
    // Credentials.
    case credentialsError = "CredentialsError"
    case credentialsUnavailable = "CredentialsUnavailable"
    case invalidCredentials = "InvalidCredentials"
    case signatureDoesNotMatch = "SignatureDoesNotMatch"
    case accessDenied = "AccessDenied"
    // Buckets and objects.
    case noSuchBucket = "NoSuchBucket"
    case noSuchKey = "NoSuchKey"
    case bucketAlreadyExists = "BucketAlreadyExists"
    case bucketNotEmpty = "BucketNotEmpty"
    case invalidBucketName = "InvalidBucketName"
    case invalidKey = "InvalidKey"
    /// A remote name that cannot be written safely to the local file system.
    case unsafeKey = "UnsafeKey"
    case checksumMismatch = "ChecksumMismatch"
    case expectationFailed = "ExpectationFailed"
    // Transport.
    case transient = "Transient"
    case timeout = "Timeout"
    case notSupported = "NotSupported"
    case invalidConfiguration = "InvalidConfiguration"
    case storageError = "StorageError"
    // Runs.
    case cancelled = "Cancelled"
    case internalError = "Error"

    /// The code for a provider's ``StorageError/Code``.
    public init(_ code: StorageError.Code) {
        self = ErrorCode(rawValue: code.rawValue) ?? .storageError
    }

    /// Reports written by other versions may hold codes this one does not
    /// know; they read as ``storageError`` rather than failing the decode.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = ErrorCode(rawValue: text) ?? .storageError
    }

    /// Errors that mean "the remote state could not be read" (a plan must
    /// fail on them instead of guessing).
    public var isReadFailure: Bool {
        switch self {
        case .invalidCredentials, .signatureDoesNotMatch, .accessDenied, .transient, .timeout, .ioError,
             .storageError, .invalidConfiguration, .credentialsError, .credentialsUnavailable, .notSupported:
            return true
        default:
            return false
        }
    }
}
