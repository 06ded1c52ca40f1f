/// The parts of an HTTP request that Signature Version 4 covers.
public struct SigV4Request: Sendable {
    public var method: String
    /// The Host header: `host` or `host:port` when the port is not the scheme's default.
    public var host: String
    /// The path exactly as sent on the wire, already percent-encoded once.
    public var path: String
    /// Query parameters, not encoded; the signer encodes and sorts them.
    public var query: [(name: String, value: String)]
    /// Headers to sign besides `host` and the `x-amz-*` headers the signer adds.
    public var headers: [(name: String, value: String)]
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String

    public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], payloadHash: String) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
