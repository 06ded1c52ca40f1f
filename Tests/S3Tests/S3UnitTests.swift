import Foundation
import NIOHTTP1
import AsyncHTTPClient
import SigV4
import Testing
@testable import S3
import Storage

/// Behaviour that needs no server: configuration checks, addressing,
/// error mapping, retry classification, XML.
struct S3UnitTests {
    func configuration(_ endpoint: String) -> S3Configuration {
        S3Configuration(endpoint: URL(string: endpoint)!, accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-real-secret-123")
    }

    @Test func plainHTTPToARemoteHostNeedsAnOptIn() throws {
        #expect(throws: StorageError(.invalidConfiguration, "endpoint http://s3.example.com is plain http to a host that is not this machine", hint: "use https, or set allow-insecure-http: true if the network is trusted")) {
            _ = try S3Storage(configuration: configuration("http://s3.example.com"))
        }
        var allowed = configuration("http://s3.example.com")
        allowed.allowInsecureHTTP = true
        try S3Storage(configuration: allowed).shutdownNow()
        try S3Storage(configuration: configuration("http://127.0.0.1:9000")).shutdownNow()
        try S3Storage(configuration: configuration("http://localhost:9000")).shutdownNow()
    }

    @Test func caBundleIsHonouredForHTTPSAndIgnoredForHTTP() throws {
        // A bundle that does not exist breaks https clearly, and http not at all.
        #expect(throws: StorageError.self) {
            _ = try S3Storage(configuration: configuration("https://s3.example.com"), environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"])
        }
        try S3Storage(configuration: configuration("http://127.0.0.1:9000"), environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"]).shutdownNow()
        try S3Storage(configuration: configuration("https://s3.example.com"), environment: ["AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"]).shutdownNow()
    }

    @Test func addressingStyle() throws {
        let ip = try S3Storage(configuration: configuration("http://127.0.0.1:9000"))
        #expect(ip.location(bucket: "b1", key: "a b/c+d").host == "127.0.0.1:9000")
        #expect(ip.location(bucket: "b1", key: "a b/c+d").path == "/b1/a%20b/c%2Bd")
        try ip.shutdownNow()
        let aws = try S3Storage(configuration: configuration("https://s3.us-west-004.backblazeb2.com"))
        #expect(aws.location(bucket: "bucket", key: "k").host == "bucket.s3.us-west-004.backblazeb2.com")
        #expect(aws.location(bucket: "bucket", key: "k").path == "/k")
        #expect(aws.location(bucket: "dotted.bucket", key: "k").path == "/dotted.bucket/k")  // TLS names cannot hold the dots
        try aws.shutdownNow()
        var forced = configuration("https://minio.internal:9000")
        forced.addressingStyle = .path
        let minio = try S3Storage(configuration: forced)
        #expect(minio.location(bucket: "b", key: "k") == (host: "minio.internal:9000", path: "/b/k"))
        try minio.shutdownNow()
    }

    @Test func presets() throws {
        #expect(try S3Configuration.endpoint(forPreset: "b2", region: "us-west-004", account: nil).absoluteString == "https://s3.us-west-004.backblazeb2.com")
        #expect(try S3Configuration.endpoint(forPreset: "aws", region: "eu-central-1", account: nil).absoluteString == "https://s3.eu-central-1.amazonaws.com")
        #expect(try S3Configuration.endpoint(forPreset: "r2", region: "auto", account: "abc123").absoluteString == "https://abc123.r2.cloudflarestorage.com")
        #expect(throws: StorageError.self) { try S3Configuration.endpoint(forPreset: "r2", region: "auto", account: nil) }
    }

    @Test func errorsCarryCodesSubjectsAndHints() {
        let signature = S3Errors.map(code: "SignatureDoesNotMatch", status: 403, message: "x", subject: "bucket b", region: "us-west-004", headers: [:])
        #expect(signature.code == .signatureMismatch)
        #expect(signature.hint == "check the secret key and the region (us-west-004)")
        #expect(S3Errors.map(code: "NoSuchBucket", status: 404, message: nil, subject: "bucket b", region: "r", headers: [:]).code == .noSuchBucket)
        #expect(S3Errors.map(code: "NoSuchKey", status: 404, message: nil, subject: "b/k", region: "r", headers: [:]).message == "b/k does not exist (NoSuchKey)")
        #expect(S3Errors.map(code: "AccessDenied", status: 403, message: nil, subject: "b/k", region: "r", headers: [:]).hint == "check the key's permissions for b")
        #expect(S3Errors.map(code: "InvalidAccessKeyId", status: 403, message: nil, subject: "bucket b", region: "r", headers: [:]).hint == "check the access key id in your credentials")
        let slow = S3Errors.map(code: "SlowDown", status: 503, message: nil, subject: "b/k", region: "r", headers: [:])
        #expect(slow.isRetryable)
        #expect(!S3Errors.map(code: "AccessDenied", status: 403, message: nil, subject: "b", region: "r", headers: [:]).isRetryable)
        #expect(S3Errors.map(code: "Weird", status: 502, message: nil, subject: "b", region: "r", headers: [:]).isRetryable)
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-bucket-region", value: "eu-west-1")
        #expect(S3Errors.map(code: "PermanentRedirect", status: 301, message: nil, subject: "bucket b", region: "us-east-1", headers: headers).message == "bucket b is not in region us-east-1 (the bucket is in eu-west-1) (PermanentRedirect)")
    }

    @Test func retryClassification() {
        #expect(S3Storage.isRetryable(StorageError(.transient, "x", isRetryable: true)))
        #expect(!S3Storage.isRetryable(StorageError(.accessDenied, "x")))
        #expect(!S3Storage.isRetryable(CancellationError()))
    }

    @Test func listingXMLWithEntities() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>
            <Contents><Key>a &amp; b &lt;c&gt;.txt</Key><Size>12</Size><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><LastModified>2026-11-24T02:30:00.000Z</LastModified></Contents>
            <CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes></ListBucketResult>
            """
        let root = try #require(XMLElement.parse(Data(xml.utf8)))
        #expect(root.child("Contents")?.string("Key") == "a & b <c>.txt")
        #expect(S3Storage.unquote(root.child("Contents")!.string("ETag")!) == "0cc175b9c0f1b6a831c399e269772661")
        #expect(root.string("NextContinuationToken") == "tok+/=")
        #expect(xmlEscape("a&b<c>'\"") == "a&amp;b&lt;c&gt;&apos;&quot;")
    }

    @Test func secretsStayOutOfDescriptions() throws {
        let storage = try S3Storage(configuration: configuration("http://127.0.0.1:9000"))
        #expect(!storage.displayName.contains("not-a-real-secret-123"))
        #expect(!"\(storage.signer.credentials)".contains("not-a-real-secret-123"))
        try storage.shutdownNow()
    }
}

extension S3Storage {
    /// Synchronous shutdown for tests that never send a request.
    func shutdownNow() throws { try client.syncShutdown(); markShutDown() }
}
