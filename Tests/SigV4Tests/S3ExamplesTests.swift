import Foundation
import Testing
@testable import SigV4

/// The worked examples of the S3 documentation ("Signature Calculations for
/// the Authorization Header" and "Query String Authentication").
struct S3ExamplesTests {
    static let signer = SigV4Signer(
        credentials: SigV4Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z
    static let host = "examplebucket.s3.amazonaws.com"

    func authorization(_ request: SigV4Request) -> String {
        Self.signer.signedHeaders(for: request, date: Self.date).first { $0.name == "Authorization" }!.value
    }

    @Test func getObjectWithRange() {
        let value = authorization(SigV4Request(method: "GET", host: Self.host, path: "/test.txt", headers: [("Range", "bytes=0-9")], payloadHash: SigV4Request.emptyPayloadHash))
        #expect(value == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func putObjectWithStorageClass() {
        let value = authorization(SigV4Request(
            method: "PUT", host: Self.host, path: "/" + awsURIEncode("test$file.text", encodeSlash: false),
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"))
        #expect(value.hasSuffix("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test func getBucketLifecycle() {
        let value = authorization(SigV4Request(method: "GET", host: Self.host, path: "/", query: [("lifecycle", "")], payloadHash: SigV4Request.emptyPayloadHash))
        #expect(value.hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
    }

    @Test func listObjects() {
        let value = authorization(SigV4Request(method: "GET", host: Self.host, path: "/", query: [("max-keys", "2"), ("prefix", "J")], payloadHash: SigV4Request.emptyPayloadHash))
        #expect(value.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test func presignedURL() {
        let url = Self.signer.presignedURL(scheme: "https", request: SigV4Request(method: "GET", host: Self.host, path: "/test.txt", payloadHash: SigV4Request.unsignedPayload), expires: 86_400, date: Self.date)
        #expect(url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func encodingKeepsOnlyUnreservedCharacters() {
        #expect(awsURIEncode("a b+c&d=e/ü~._-", encodeSlash: false) == "a%20b%2Bc%26d%3De/%C3%BC~._-")
        #expect(awsURIEncode("a/b", encodeSlash: true) == "a%2Fb")
        #expect(SigV4Signer.canonicalQueryString([("prefix", "a b/c"), ("delimiter", "/"), ("list-type", "2")]) == "delimiter=%2F&list-type=2&prefix=a%20b%2Fc")
    }
}
