public import Foundation
import Crypto

/// AWS Signature Version 4: header signing and presigned URLs.
///
/// In `.s3` mode the path is signed exactly as sent (encoded once, never
/// normalized), as S3 requires; `.generic` normalizes and double-encodes the
/// path as other AWS services (and the published test suite) do.
public struct SigV4Signer: Sendable {
    public enum Mode: Sendable { case s3, generic }

    public let credentials: SigV4Credentials
    public let region: String
    public let service: String
    public let mode: Mode

    public init(credentials: SigV4Credentials, region: String, service: String = "s3", mode: Mode = .s3) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.mode = mode
    }

    // MARK: Header signing

    /// The headers to add to the request: `Authorization`, `X-Amz-Date`,
    /// `X-Amz-Content-Sha256` (service s3) and `X-Amz-Security-Token`.
    public func signedHeaders(for request: SigV4Request, date: Date) -> [(name: String, value: String)] {
        let (amzDate, day) = Self.timestamps(date)
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if service == "s3" { added.append(("X-Amz-Content-Sha256", request.payloadHash)) }
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        var all = request.headers + added
        if !all.contains(where: { $0.name.lowercased() == "host" }) { all.append(("host", request.host)) }
        let (canonicalHeaders, signedNames) = Self.canonicalHeaders(all)
        let canonical = canonicalRequest(method: request.method, path: request.path, query: Self.canonicalQueryString(request.query),
                                         canonicalHeaders: canonicalHeaders, signedHeaders: signedNames, payloadHash: request.payloadHash)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(day: day)))
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"))
        return added
    }

    // MARK: Presigned URLs

    /// `scheme://host/path?query&X-Amz-...&X-Amz-Signature=...`, valid for
    /// `expires` seconds (1...604800).
    public func presignedURL(scheme: String, request: SigV4Request, expires: Int, date: Date) -> String {
        let (amzDate, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var all = request.headers
        if !all.contains(where: { $0.name.lowercased() == "host" }) { all.append(("host", request.host)) }
        let (canonicalHeaders, signedNames) = Self.canonicalHeaders(all)
        var query = request.query
        query.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"))
        query.append(("X-Amz-Date", amzDate))
        query.append(("X-Amz-Expires", String(min(max(expires, 1), 604_800))))
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-SignedHeaders", signedNames))
        let queryString = Self.canonicalQueryString(query)
        let canonical = canonicalRequest(method: request.method, path: request.path, query: queryString,
                                         canonicalHeaders: canonicalHeaders, signedHeaders: signedNames, payloadHash: SigV4Request.unsignedPayload)
        let toSign = stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(day: day)))
        return "\(scheme)://\(request.host)\(request.path)?\(queryString)&X-Amz-Signature=\(signature)"
    }

    // MARK: Pieces (public for tests against published vectors)

    public func canonicalRequest(method: String, path: String, query: String, canonicalHeaders: String, signedHeaders: String, payloadHash: String) -> String {
        [method, canonicalPath(path), query, canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
    }

    public func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        let hash = Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))
        return ["AWS4-HMAC-SHA256", amzDate, scope, hash].joined(separator: "\n")
    }

    /// The canonical query string, which is also the exact query to send.
    public static func canonicalQueryString(_ query: [(name: String, value: String)]) -> String {
        var encoded: [(String, String)] = []
        for (name, value) in query {
            encoded.append((awsURIEncode(name, encodeSlash: true), awsURIEncode(value, encodeSlash: true)))
        }
        encoded.sort { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        return encoded.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Lower-cased names, trimmed values with inner whitespace runs
    /// collapsed, duplicates joined with ","; and the signed-header list.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(collapse(value))
        }
        let names = merged.keys.sorted()
        let lines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    static func collapse(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    func canonicalPath(_ path: String) -> String {
        guard mode == .generic else { return path.isEmpty ? "/" : path }
        // Other services: remove dot segments and double slashes, then encode each segment (again).
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { if !segments.isEmpty { segments.removeLast() }; continue }
            segments.append(segment)
        }
        var normalized = "/" + segments.map { awsURIEncode(String($0), encodeSlash: true) }.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { normalized += "/" }
        return normalized
    }

    func signingKey(day: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
        }
        let secret = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        return hmac(hmac(hmac(hmac(secret, day), region), service), "aws4_request")
    }

    /// `20130524T000000Z` and `20130524`, in UTC, without locale-dependent formatters.
    static func timestamps(_ date: Date) -> (String, String) {
        let seconds = Int64(floor(date.timeIntervalSince1970))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = Int(seconds - days * 86_400)
        // Civil date from days since 1970 (Howard Hinnant).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let day = pad(y, 4) + pad(m, 2) + pad(d, 2)
        let time = pad(Int64(rest / 3600), 2) + pad(Int64(rest % 3600 / 60), 2) + pad(Int64(rest % 60), 2)
        return (day + "T" + time + "Z", day)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
