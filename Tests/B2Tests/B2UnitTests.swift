import Foundation
import NIOHTTP1
import XCTest
import HTTPTransport
@testable import B2
import Storage

/// Pieces that need no server: name encoding, error mapping, the
/// authorization answer, configuration checks.
final class B2UnitTests: XCTestCase {
    func testNamesArePercentEncodedByB2Rules() {
        XCTAssertEqual(B2Storage.encodeName("plain/path-_.~x"), "plain/path-_.~x")
        XCTAssertEqual(B2Storage.encodeName("a b+c%d"), "a%20b%2Bc%25d", "+ must be %2B: a bare + is a space to B2")
        XCTAssertEqual(B2Storage.encodeName("ü日"), "%C3%BC%E6%97%A5")
        XCTAssertEqual(B2Storage.encodeName("q?&=#"), "q%3F%26%3D%23")
    }

    func testErrorsMapToStorageErrorCodes() {
        func map(_ status: UInt, _ code: String, _ operation: String = "b2_op") -> StorageError {
            B2Failure(status: status, code: code, message: "m").storageError(operation: operation, subject: "s")
        }
        XCTAssertEqual(map(400, "duplicate_bucket_name").code, .bucketAlreadyExists)
        XCTAssertEqual(map(400, "cannot_delete_non_empty_bucket").code, .bucketNotEmpty)
        XCTAssertEqual(map(400, "bad_bucket_id").code, .noSuchBucket)
        XCTAssertEqual(map(404, "not_found").code, .noSuchKey)
        XCTAssertEqual(map(400, "file_not_present").code, .noSuchKey)
        XCTAssertEqual(map(401, "unauthorized").code, .accessDenied)
        XCTAssertEqual(map(401, "bad_auth_token").code, .invalidCredentials)
        XCTAssertEqual(map(403, "storage_cap_exceeded").code, .accessDenied)
        XCTAssertEqual(map(400, "bad_request", "b2_create_bucket").code, .invalidBucketName)
        for status: UInt in [408, 429, 500, 503] {
            XCTAssertTrue(map(status, "x").isRetryable)
            XCTAssertEqual(map(status, "x").code, .transient)
        }
        XCTAssertFalse(map(400, "bad_request").isRetryable)
        XCTAssertTrue(B2Failure(status: 401, code: "expired_auth_token", message: "").needsReauthorization)
        XCTAssertFalse(B2Failure(status: 401, code: "unauthorized", message: "").needsReauthorization)
        let parsed = B2Failure.parse(status: 503, body: Data(#"{"status":503,"code":"service_unavailable","message":"busy"}"#.utf8), headers: HTTPHeaders([("Retry-After", "3")]))
        XCTAssertEqual(parsed.code, "service_unavailable")
        XCTAssertEqual(parsed.retryAfter, 3)
        XCTAssertEqual(RetryPolicy().delay(afterAttempt: 1, retryAfter: 3), 3)
    }

    func testSHA1FromContentSha1OrLargeFileSHA1() {
        let hex = String(repeating: "ab", count: 20)
        XCTAssertEqual(B2File.sha1(contentSha1: hex.uppercased(), largeFileSHA1: nil), hex)
        XCTAssertEqual(B2File.sha1(contentSha1: "unverified:" + hex, largeFileSHA1: nil), hex)
        XCTAssertEqual(B2File.sha1(contentSha1: "none", largeFileSHA1: hex), hex)
        XCTAssertNil(B2File.sha1(contentSha1: "none", largeFileSHA1: nil))
        XCTAssertNil(B2File.sha1(contentSha1: "none", largeFileSHA1: "not-a-sha1"))
    }

    func testAuthorizationAnswerWithRestrictions() throws {
        let body = #"""
        {"accountId": "acc", "authorizationToken": "tok", "apiInfo": {"groupsApi": {}, "storageApi": {
          "apiUrl": "https://api001.example/", "downloadUrl": "https://f001.example", "recommendedPartSize": 100000000,
          "absoluteMinimumPartSize": 5000000, "s3ApiUrl": "https://s3.example",
          "allowed": {"buckets": [{"id": "b1", "name": "only"}], "capabilities": ["readFiles"], "namePrefix": "p/"}}}}
        """#
        let session = try Authorizer.parse(Data(body.utf8), generation: 1)
        XCTAssertEqual(session.apiURL, "https://api001.example")
        XCTAssertEqual(session.recommendedPartSize, 100_000_000)
        XCTAssertEqual(session.allowedBuckets?.map(\.name), ["only"])
        XCTAssertEqual(session.namePrefix, "p/")
        XCTAssertEqual(session.capabilities, ["readFiles"])
    }

    func testConfigurationChecks() {
        XCTAssertThrowsError(try B2Storage(configuration: B2Configuration(keyId: "", applicationKey: "k"))) { error in
            XCTAssertEqual((error as? StorageError)?.code, .invalidConfiguration)
        }
        XCTAssertThrowsError(try B2Storage(configuration: B2Configuration(keyId: "k", applicationKey: "k", authorizationURL: URL(string: "ftp://x")!))) { error in
            XCTAssertEqual((error as? StorageError)?.code, .invalidConfiguration)
        }
        XCTAssertEqual(B2Configuration(keyId: "k", applicationKey: "s").authorizationURL.absoluteString, "https://api.backblazeb2.com")
        XCTAssertEqual(B2Configuration(keyId: "k", applicationKey: "s").maxAttempts, 10)
    }
}
