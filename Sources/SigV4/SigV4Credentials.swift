/// An access key pair (and optional session token) for signing.
///
/// Its descriptions never show the secret or the token.
public struct SigV4Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "SigV4Credentials(accessKeyId: \(accessKeyId.prefix(4))…, secret: <redacted>\(sessionToken == nil ? "" : ", token: <redacted>"))"
    }

    public var debugDescription: String { description }
}
