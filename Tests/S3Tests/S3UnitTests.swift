import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import SigV4
import Testing
@testable import S3
import Storage
import HTTPTransport

/// Behaviour that needs no server: configuration checks, addressing,
/// XML, error mapping, retry classification, checksums.
struct S3UnitTests {
    static let secret = "not-a-real-secret-123"

    func configuration(_ endpoint: String) -> S3Configuration {
        S3Configuration(endpoint: URL(string: endpoint)!, accessKeyId: "AKIDEXAMPLE", secretAccessKey: Self.secret)
    }

    // MARK: Configuration

    @Test func plainHTTPToAnotherHostNeedsAnOptIn() async throws {
        do {
            _ = try S3Storage(configuration: configuration("http://s3.example.com"))
            Issue.record("plain http to another host was accepted")
        } catch let error as StorageError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message == "S3 endpoint http://s3.example.com is plain http to another machine")
            #expect(error.hint == "use https, or set allow-insecure-http: true if the network is trusted")
        }
        var allowed = configuration("http://s3.example.com")
        allowed.allowInsecureHTTP = true
        try await S3Storage(configuration: allowed).shutdown()
        for loopback in ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"] {
            try await S3Storage(configuration: configuration(loopback)).shutdown()
        }
        #expect(throws: StorageError.self) { _ = try S3Storage(configuration: configuration("ftp://example.com")) }
    }

    @Test func caBundleIsHonouredForHTTPSAndNeverReadForHTTP() async throws {
        do {
            _ = try S3Storage(configuration: configuration("https://s3.example.com"), environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"])
            Issue.record("an unreadable CA bundle was accepted for https")
        } catch let error as StorageError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("/nonexistent/ca.pem"))
        }
        try await S3Storage(configuration: configuration("http://127.0.0.1:9000"), environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"]).shutdown()
        if FileManager.default.isReadableFile(atPath: "/etc/ssl/certs/ca-certificates.crt") {
            try await S3Storage(configuration: configuration("https://s3.example.com"), environment: ["AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"]).shutdown()
        }
    }

    @Test func addressingStyleFollowsTheEndpoint() async throws {
        let ip = try S3Storage(configuration: configuration("http://127.0.0.1:9000"))
        #expect(ip.location(bucket: "b1", key: "a b/c+d").host == "127.0.0.1:9000")
        #expect(ip.location(bucket: "b1", key: "a b/c+d").path == "/b1/a%20b/c%2Bd")
        #expect(ip.location(bucket: nil).path == "/")
        try await ip.shutdown()

        let local = try S3Storage(configuration: configuration("http://localhost:9000"))
        #expect(local.location(bucket: "b", key: "k") == (host: "localhost:9000", path: "/b/k"))
        try await local.shutdown()

        let b2 = try S3Storage(configuration: configuration("https://s3.us-west-004.backblazeb2.com"))
        #expect(b2.location(bucket: "bucket", key: "k/é").host == "bucket.s3.us-west-004.backblazeb2.com")
        #expect(b2.location(bucket: "bucket", key: "k/é").path == "/k/%C3%A9")
        #expect(b2.location(bucket: "bucket").path == "/")
        #expect(b2.location(bucket: "dotted.bucket", key: "k") == (host: "s3.us-west-004.backblazeb2.com", path: "/dotted.bucket/k"))
        try await b2.shutdown()

        var forced = configuration("https://minio.internal:9443")
        forced.addressingStyle = .path
        let minio = try S3Storage(configuration: forced)
        #expect(minio.location(bucket: "b", key: "k") == (host: "minio.internal:9443", path: "/b/k"))
        try await minio.shutdown()

        var virtual = configuration("http://127.0.0.1:80")
        virtual.addressingStyle = .virtualHosted
        let defaultPort = try S3Storage(configuration: virtual)
        #expect(defaultPort.location(bucket: "b", key: "k") == (host: "b.127.0.0.1", path: "/k"))
        try await defaultPort.shutdown()

        #expect(S3Configuration.isIPLiteralOrLocalhost("10.1.2.3"))
        #expect(S3Configuration.isIPLiteralOrLocalhost("::1"))
        #expect(!S3Configuration.isIPLiteralOrLocalhost("s3.1.2.3.example.com"))
        #expect(!S3Configuration.isIPLiteralOrLocalhost("1.2.3.4567"))
        #expect(S3Configuration.AddressingStyle(rawValue: "virtual") == .virtualHosted)
    }

    @Test func presetsMakeEndpoints() throws {
        #expect(try S3Configuration.endpoint(forPreset: "b2", region: "us-west-004", account: nil).absoluteString == "https://s3.us-west-004.backblazeb2.com")
        #expect(try S3Configuration.endpoint(forPreset: "aws", region: "eu-central-1", account: nil).absoluteString == "https://s3.eu-central-1.amazonaws.com")
        #expect(try S3Configuration.endpoint(forPreset: "r2", region: "auto", account: "abc123").absoluteString == "https://abc123.r2.cloudflarestorage.com")
        #expect(try S3Configuration.endpoint(forPreset: "wasabi", region: "eu-central-1", account: nil).absoluteString == "https://s3.eu-central-1.wasabisys.com")
        #expect(throws: StorageError.self) { try S3Configuration.endpoint(forPreset: "r2", region: "auto", account: nil) }
        #expect(throws: StorageError.self) { try S3Configuration.endpoint(forPreset: "minio", region: "us-east-1", account: nil) }
        #expect(throws: StorageError.self) { try S3Configuration.endpoint(forPreset: "nope", region: "us-east-1", account: nil) }
        #expect(S3Configuration.defaultAddressingStyle(forPreset: "minio") == .path)
        #expect(S3Configuration.defaultAddressingStyle(forPreset: "b2") == .auto)
    }

    @Test func partSizesGrowToStayUnder10000Parts() async throws {
        var config = configuration("http://127.0.0.1:9000")
        config.partSize = 1 << 20
        let storage = try S3Storage(configuration: config)
        #expect(storage.partSize(for: 100 << 20) == 5 << 20)  // S3's minimum
        let huge: Int64 = 1 << 40
        #expect((huge + storage.partSize(for: huge) - 1) / storage.partSize(for: huge) <= 10_000)
        try await storage.shutdown()
    }

    // MARK: XML

    @Test func listingsDecodeURLEncodedKeysFromEitherServerStyle() throws {
        // moto encodes a space as %20, rclone (like AWS) as +; '+' itself is %2B.
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><EncodingType>url</EncodingType>
            <IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>
            <Contents><Key>a%20b%2Bc%26d</Key><Size>12</Size><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><LastModified>2026-11-24T02:30:00.000Z</LastModified></Contents>
            <Contents><Key>x+y%E6%97%A5/%7E</Key><Size>5</Size><ETag>"9b2cf535f27731c974343645a3985328-3"</ETag><LastModified>2026-11-24T02:30:00Z</LastModified></Contents>
            <CommonPrefixes><Prefix>dir%20one/</Prefix></CommonPrefixes></ListBucketResult>
            """
        let page = try S3ListParser.objects(Data(xml.utf8))
        #expect(page.objects.map(\.key) == ["a b+c&d", "x y日/~"])
        #expect(page.objects[0].etag == "0cc175b9c0f1b6a831c399e269772661")
        #expect(page.objects[0].checksums == ["md5": "0cc175b9c0f1b6a831c399e269772661"])
        #expect(page.objects[1].etag == "9b2cf535f27731c974343645a3985328-3")
        #expect(page.objects[1].checksums.isEmpty)
        #expect(page.objects[0].size == 12)
        #expect(page.objects[0].lastModified == Date(timeIntervalSince1970: 1_795_487_400))
        #expect(page.objects[1].lastModified == Date(timeIntervalSince1970: 1_795_487_400))
        #expect(page.commonPrefixes == ["dir one/"])
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "tok+/=")
    }

    @Test func listingsWithoutURLEncodingKeepRawKeysAndEntities() throws {
        let xml = """
            <ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>a &amp; b &lt;c&gt; 100%+.txt</Key><Size>1</Size></Contents></ListBucketResult>
            """
        let page = try S3ListParser.objects(Data(xml.utf8))
        #expect(page.objects.map(\.key) == ["a & b <c> 100%+.txt"])
        #expect(!page.isTruncated)
        #expect(page.nextContinuationToken == nil)
        #expect(throws: StorageError.self) { try S3ListParser.objects(Data("<html>not s3</html>".utf8)) }
        #expect(throws: StorageError.self) { try S3ListParser.objects(Data("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>".utf8)) }
        #expect(S3ListParser.urlDecode("%zz") == nil)
        #expect(S3ListParser.urlDecode("%C3%A9%20+") == "é  ")
    }

    @Test func bucketAndUploadListsParse() throws {
        let buckets = """
            <ListAllMyBucketsResult><Owner><ID>x</ID></Owner><Buckets>
            <Bucket><Name>one</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate></Bucket><Bucket><Name>two</Name></Bucket>
            </Buckets></ListAllMyBucketsResult>
            """
        let parsed = try S3ListParser.buckets(Data(buckets.utf8))
        #expect(parsed.map(\.name) == ["one", "two"])
        #expect(parsed[0].createdAt != nil)
        let uploads = """
            <ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>true</IsTruncated><NextKeyMarker>k%202</NextKeyMarker>
            <NextUploadIdMarker>u2</NextUploadIdMarker><EncodingType>url</EncodingType>
            <Upload><Key>k%201</Key><UploadId>u1</UploadId></Upload><Upload><Key>k%202</Key><UploadId>u2</UploadId></Upload></ListMultipartUploadsResult>
            """
        let result = try S3ListParser.uploads(Data(uploads.utf8))
        #expect(result.uploads.map(\.key) == ["k 1", "k 2"])
        #expect(result.uploads.map(\.uploadID) == ["u1", "u2"])
        #expect(result.next?.key == "k 2")
    }

    @Test func errorDocumentsParse() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a &amp; b</Key><BucketName>bk</BucketName>
            <StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign></Error>
            """
        #expect(S3ErrorResponse.parse(Data(xml.utf8)) == S3ErrorResponse(code: "NoSuchKey", message: "The specified key does not exist.", bucket: "bk", key: "a & b"))
        #expect(S3ErrorResponse.parse(Data("<CopyObjectResult><ETag>x</ETag></CopyObjectResult>".utf8)) == nil)
        #expect(S3ErrorResponse.parse(Data()) == nil)
        #expect(xmlEscape("a&b<c>'\"\n") == "a&amp;b&lt;c&gt;&apos;&quot;&#10;")
    }

    @Test func httpDatesParse() {
        #expect(S3Dates.parse("Tue, 24 Nov 2026 02:30:00 GMT") == Date(timeIntervalSince1970: 1_795_487_400))
        #expect(S3Dates.parse("garbage") == nil)
    }

    // MARK: Errors

    func map(_ code: String, status: UInt = 400, bucket: String? = "b", key: String? = nil, region: String = "us-west-004", headers: HTTPHeaders = [:]) -> StorageError {
        S3Errors.map(code: code, status: status, message: "server says so", bucket: bucket, key: key, region: region, headers: headers)
    }

    @Test func errorsCarryCodesSubjectsAndHints() {
        let signature = map("SignatureDoesNotMatch", status: 403)
        #expect(signature.code == .signatureMismatch)
        #expect(signature.message == "the service rejected the request signature for bucket b (SignatureDoesNotMatch)")
        #expect(signature.hint == "check the secret key and the region (us-west-004)")
        #expect(!signature.isRetryable)
        #expect(map("InvalidAccessKeyId", status: 403).hint == "check the access key id")
        #expect(map("InvalidAccessKeyId", status: 403).code == .invalidCredentials)
        let denied = map("AccessDenied", status: 403, key: "k")
        #expect(denied.code == .accessDenied)
        #expect(denied.hint == "check the key's permissions for bucket b")
        #expect(denied.message == "access denied to b/k (AccessDenied): server says so")
        let noBucket = map("NoSuchBucket", status: 404, key: "k")
        #expect(noBucket.code == .noSuchBucket)
        #expect(noBucket.message == "bucket \"b\" does not exist (NoSuchBucket)")
        #expect(noBucket.hint?.hasPrefix("create it first with a create-bucket step") == true)
        let noKey = map("NoSuchKey", status: 404, key: "dir/k")
        #expect(noKey.code == .noSuchKey)
        #expect(noKey.message == "b/dir/k does not exist (NoSuchKey)")
        #expect(map("BucketAlreadyOwnedByYou", status: 409).code == .bucketAlreadyExists)
        #expect(map("BucketAlreadyExists", status: 409).code == .bucketAlreadyExists)
        #expect(map("BucketNotEmpty", status: 409).code == .bucketNotEmpty)
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-bucket-region", value: "eu-west-1")
        let redirect = map("PermanentRedirect", status: 301, region: "us-east-1", headers: headers)
        #expect(redirect.message == "bucket b is not served in region us-east-1 (it is in eu-west-1) (PermanentRedirect)")
        #expect(redirect.code == .invalidConfiguration)
    }

    @Test func busyAndBrokenServersAreRetryableOtherClientErrorsAreNot() {
        for code in ["SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"] {
            #expect(map(code, status: code == "SlowDown" ? 503 : 400).isRetryable, "\(code)")
        }
        #expect(map("Whatever", status: 502).isRetryable)
        #expect(map("Whatever", status: 429).isRetryable)
        #expect(!map("Whatever", status: 400).isRetryable)
        #expect(!map("AccessDenied", status: 403).isRetryable)
        #expect(!map("NoSuchKey", status: 404).isRetryable)
        #expect(!map("InvalidArgument", status: 400).isRetryable)
        // HEAD has no body: the status decides.
        #expect(S3Errors.code(forStatus: 404, method: .HEAD, hasKey: true) == "NoSuchKey")
        #expect(S3Errors.code(forStatus: 404, method: .HEAD, hasKey: false) == "NoSuchBucket")
        #expect(S3Errors.code(forStatus: 403, method: .HEAD, hasKey: true) == "AccessDenied")
        #expect(S3Errors.code(forStatus: 503, method: .GET, hasKey: true) == "SlowDown")
    }

    /// The shared transport's defaults reach the provider: 10 attempts,
    /// a whole-response deadline, listing caps; the settings clamp.
    @Test func retryBudgetAndLimitsDefaultToTheSharedTransport() throws {
        var config = configuration("http://127.0.0.1:9")
        #expect(config.maxAttempts == 10)
        #expect(config.retryMaxDelay == 20)
        #expect(config.responseTimeout == 600)
        #expect(config.maxListKeys == 1_000_000)
        config.maxListKeys = 0
        #expect(config.maxListKeys == 1)
        config.maxListPages = 7
        #expect(config.listingLimits.maxPages == 7)
        let storage = try S3Storage(configuration: config)
        #expect(storage.retryPolicy.maxAttempts == 10)
        #expect(storage.transport.timeouts.response == 600)
    }

    /// Nothing listens on the port: connection errors are retried
    /// maxAttempts times, then reported with a hint, counted in the metrics.
    @Test func anUnreachableEndpointIsRetriedThenReported() async throws {
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = socket.localAddress!.port!
        try await socket.close()
        var config = configuration("http://127.0.0.1:\(port)")
        config.maxAttempts = 3
        // The failure this guards against is the pool waiting for the connect
        // timeout on each attempt; a long timeout makes that failure take
        // 180 s+, far from a loaded machine's slowest pass (~55 s seen with
        // the suite's other tests holding both cooperative threads).
        config.connectTimeout = 60
        let storage = try S3Storage(configuration: config)
        let metrics = TransferMetrics()
        let started = ContinuousClock.now
        do {
            _ = try await TransferMetrics.$current.withValue(metrics) { try await storage.listBuckets() }
            Issue.record("listed buckets on a closed port")
        } catch let error as StorageError {
            #expect(error.code == .transient)
            #expect(error.message.contains("ListBuckets"))
            #expect(error.message.contains("after 3 attempts"))
            #expect(!error.description.contains(Self.secret))
        }
        #expect(metrics.requests == 3)
        #expect(metrics.retries == 2)
        #expect(ContinuousClock.now - started < .seconds(120))
        try await storage.shutdown()
    }

    @Test func connectionsAreReusedUnlessTurnedOff() async throws {
        let ok = ScriptedHTTPServer.Reply.respond(status: .ok, headers: [], body: Array("<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>".utf8))
        let server = try await ScriptedHTTPServer([ok, ok])
        var config = configuration(server.endpoint.absoluteString)
        config.reuseConnections = false
        let storage = try S3Storage(configuration: config)
        _ = try await storage.listBuckets()
        #expect(server.seen.last?.headers.contains { $0.0.lowercased() == "connection" && $0.1 == "close" } == true)
        try await storage.shutdown()
        let reusing = try S3Storage(configuration: configuration(server.endpoint.absoluteString))
        _ = try await reusing.listBuckets()
        #expect(server.seen.last?.headers.contains { $0.0.lowercased() == "connection" && $0.1 == "close" } == false)
        try await reusing.shutdown()
        try await server.close()
    }

    // MARK: Checksums

    @Test func checksumsMatchPublishedCheckValues() {
        func digest(_ algorithm: ContentHasher.Algorithm, _ text: String) -> String {
            var hasher = ContentHasher(algorithm)
            Array(text.utf8).withUnsafeBytes { hasher.update($0) }
            return hasher.finalizeHex()
        }
        #expect(digest(.crc32, "123456789") == "cbf43926")
        #expect(digest(.crc32c, "123456789") == "e3069283")
        #expect(digest(.crc64nvme, "123456789") == "ae8b14860a799888")
        #expect(digest(.md5, "") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(digest(.sha256, "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-checksum-crc32c", value: "4waSgw==")
        #expect(ContentHasher.fullObjectChecksum(in: headers)! == (.crc32c, "e3069283"))
        headers.replaceOrAdd(name: "x-amz-checksum-type", value: "COMPOSITE")
        #expect(ContentHasher.fullObjectChecksum(in: headers) == nil)
    }

    @Test func multipartETagsAreTheMD5OfPartMD5s() {
        // Two parts "a" and "b": md5(md5("a") ‖ md5("b")) + "-2".
        let a: [UInt8] = [0x0c, 0xc1, 0x75, 0xb9, 0xc0, 0xf1, 0xb6, 0xa8, 0x31, 0xc3, 0x99, 0xe2, 0x69, 0x77, 0x26, 0x61]
        let b: [UInt8] = [0x92, 0xeb, 0x5f, 0xfe, 0xe6, 0xae, 0x2f, 0xec, 0x3a, 0xd7, 0x1c, 0x77, 0x75, 0x31, 0x57, 0x8f]
        #expect(S3Storage.multipartETag(partDigests: [a, b]) == "96e024ba2074fe77e8e965ba43a704be-2")
        #expect(S3Storage.multipartETagCount("9b2cf535f27731c974343645a3985328-3") == 3)
        #expect(S3Storage.multipartETagCount("9b2cf535f27731c974343645a3985328") == nil)
        #expect(S3Storage.multipartETagCount("abc-3") == nil)
        var kms = HTTPHeaders()
        kms.add(name: "x-amz-server-side-encryption", value: "aws:kms")
        #expect(S3Storage.etagMD5("0cc175b9c0f1b6a831c399e269772661", headers: kms) == nil)
        #expect(S3Storage.etagMD5("0CC175B9C0F1B6A831C399E269772661", headers: [:]) == "0cc175b9c0f1b6a831c399e269772661")
    }

    // MARK: Secrets

    @Test func secretsStayOutOfDescriptionsAndPresignedURLs() async throws {
        var config = configuration("http://127.0.0.1:9000")
        config.sessionToken = "session-token-value"
        let storage = try S3Storage(configuration: config)
        #expect(!storage.displayName.contains(Self.secret))
        let url = storage.presignedURL(bucket: "b", key: "a b.txt", expires: 60)
        #expect(url.hasPrefix("http://127.0.0.1:9000/b/a%20b.txt?"))
        #expect(url.contains("X-Amz-Signature="))
        #expect(url.contains("X-Amz-Expires=60"))
        #expect(!url.contains(Self.secret))
        try await storage.shutdown()
    }
}
