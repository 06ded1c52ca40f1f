/// An error from a storage provider that a user can act on.
///
/// `message` says what went wrong, naming the bucket and key; `hint` says what
/// the user may do about it. Neither ever contains a credential value.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let noSuchBucket = Code(rawValue: "NoSuchBucket")
        public static let noSuchKey = Code(rawValue: "NoSuchKey")
        public static let bucketAlreadyExists = Code(rawValue: "BucketAlreadyExists")
        public static let bucketNotEmpty = Code(rawValue: "BucketNotEmpty")
        public static let accessDenied = Code(rawValue: "AccessDenied")
        public static let invalidCredentials = Code(rawValue: "InvalidCredentials")
        public static let signatureMismatch = Code(rawValue: "SignatureDoesNotMatch")
        public static let invalidBucketName = Code(rawValue: "InvalidBucketName")
        public static let invalidKey = Code(rawValue: "InvalidKey")
        /// A path would go through a symbolic link (inside a local storage
        /// root, the data area or a download destination), or could leave
        /// its folder.
        public static let unsafePath = Code(rawValue: "UnsafePath")
        public static let checksumMismatch = Code(rawValue: "ChecksumMismatch")
        public static let transient = Code(rawValue: "Transient")
        public static let io = Code(rawValue: "IOError")
        public static let notSupported = Code(rawValue: "NotSupported")
        public static let invalidConfiguration = Code(rawValue: "InvalidConfiguration")
        public static let other = Code(rawValue: "StorageError")
    }

    public var code: Code
    public var message: String
    public var hint: String?
    /// Whether retrying the same operation may succeed (5xx, throttling,
    /// connection errors).
    public var isRetryable: Bool

    public init(_ code: Code, _ message: String, hint: String? = nil, isRetryable: Bool = false) {
        self.code = code
        self.message = message
        self.hint = hint
        self.isRetryable = isRetryable
    }

    public var description: String {
        if let hint { return "\(message) (\(hint))" }
        return message
    }
}
