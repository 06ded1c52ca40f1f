import Foundation
import Testing
@testable import SigV4

/// AWS's published Signature Version 4 suite (Fixtures/aws4_testsuite, from
/// botocore): every vector's canonical request, string to sign and
/// Authorization header must match exactly.
struct SigV4SuiteTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/aws4_testsuite")

    /// Every directory holding a `.req`, relative to the suite root.
    static let vectors: [String] = {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".req") { found.append((path as NSString).deletingLastPathComponent) }
        }
        return found.sorted()
    }()

    static let credentials = SigV4Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    struct Parsed {
        var method: String
        var path: String
        var query: [(name: String, value: String)]
        var headers: [(name: String, value: String)]
        var body: Data
        var date: Date
    }

    static func read(_ vector: String, _ ext: String) throws -> String {
        let name = (vector as NSString).lastPathComponent
        return try String(contentsOf: root.appendingPathComponent(vector).appendingPathComponent("\(name).\(ext)"), encoding: .utf8)
    }

    static func parse(_ text: String) -> Parsed {
        let parts = text.components(separatedBy: "\n\n")
        let head = parts[0].components(separatedBy: "\n")
        let body = Data(parts.dropFirst().joined(separator: "\n\n").utf8)
        var words = head[0].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let method = words.removeFirst()
        words.removeLast()  // HTTP/1.1
        let target = words.joined(separator: " ")
        let (path, queryText) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var query: [(name: String, value: String)] = []
        for pair in queryText.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
            query.append((kv[0], kv.count > 1 ? kv[1] : ""))
        }
        var headers: [(name: String, value: String)] = []
        for line in head.dropFirst() {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let amzDate = headers.first { $0.name.lowercased() == "x-amz-date" }!.value
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return Parsed(method: method, path: path, query: query, headers: headers.filter { $0.name.lowercased() != "x-amz-date" }, body: body, date: formatter.date(from: amzDate)!)
    }

    @Test func theSuiteIsComplete() {
        // 25 top-level vectors, 7 path-normalization vectors, 2 STS vectors.
        #expect(Self.vectors.count == 34, "\(Self.vectors)")
    }

    @Test(arguments: vectors)
    func vector(_ vector: String) throws {
        var request = Self.parse(try Self.read(vector, "req"))
        let expectedCanonical = try Self.read(vector, "creq")
        var credentials = Self.credentials
        // The session-token vector signs a token that its .req does not show.
        if let line = expectedCanonical.split(separator: "\n").first(where: { $0.hasPrefix("x-amz-security-token:") }),
           !request.headers.contains(where: { $0.name.lowercased() == "x-amz-security-token" }) {
            credentials.sessionToken = String(line.dropFirst("x-amz-security-token:".count))
        }
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service", mode: .generic)
        let payloadHash = SigV4Signer.hex(SHA256Digest(request.body))
        let host = request.headers.first { $0.name.lowercased() == "host" }!.value
        let signed = signer.signedHeaders(
            for: SigV4Request(method: request.method, host: host, path: request.path, query: request.query, headers: request.headers, payloadHash: payloadHash),
            date: request.date)
        // Recompute the intermediate strings the way signedHeaders does, to compare them too.
        var all = request.headers + signed.filter { $0.name != "Authorization" }
        if credentials.sessionToken == nil { all.removeAll { $0.name == "X-Amz-Security-Token" && !request.headers.contains(where: { $0.name.lowercased() == "x-amz-security-token" }) } }
        let (canonicalHeaders, names) = SigV4Signer.canonicalHeaders(all)
        let canonical = signer.canonicalRequest(method: request.method, path: request.path, query: SigV4Signer.canonicalQueryString(request.query),
                                                canonicalHeaders: canonicalHeaders, signedHeaders: names, payloadHash: payloadHash)
        #expect(canonical == expectedCanonical)
        let amzDate = signed.first { $0.name == "X-Amz-Date" }!.value
        #expect(signer.stringToSign(amzDate: amzDate, scope: "20150830/us-east-1/service/aws4_request", canonicalRequest: canonical) == (try Self.read(vector, "sts")))
        #expect(signed.first { $0.name == "Authorization" }?.value == (try Self.read(vector, "authz")))
        request.headers = []
    }

    @Test func s3ModeNeverNormalizesOrReencodesThePath() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1")
        // In S3 "a/../b" and "a//b" are keys of their own, and "%2B" is already encoded once.
        #expect(signer.canonicalPath("/bucket/a/../b//c%2B") == "/bucket/a/../b//c%2B")
        let generic = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service", mode: .generic)
        #expect(generic.canonicalPath("/a/../b//c") == "/b/c")
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = SigV4Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "tok-secret-123")
        for text in ["\(credentials)", String(reflecting: credentials)] {
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("tok-secret-123"))
        }
    }
}

import Crypto

func SHA256Digest(_ data: Data) -> SHA256.Digest { SHA256.hash(data: data) }
