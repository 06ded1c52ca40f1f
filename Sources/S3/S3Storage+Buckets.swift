import Foundation
import NIOHTTP1
public import Storage
import AsyncHTTPClient
import NIOHTTP1
import NIOCore
import SigV4

extension S3Storage {
    public func listBuckets() async throws -> [BucketInfo] {
        let (_, data) = try await sendCollecting(Call(method: .GET, bucket: nil))
        guard let xml = XMLElement.parse(data) else { throw StorageError(.other, "the service sent an unreadable bucket list") }
        return (xml.child("Buckets")?.all("Bucket") ?? []).compactMap { bucket in
            bucket.string("Name").map { BucketInfo(name: $0, createdAt: bucket.string("CreationDate").flatMap(S3Dates.parse)) }
        }
    }

    public func bucketExists(_ bucket: String) async throws -> Bool {
        let call = Call(method: .HEAD, bucket: bucket)
        let response = try await withRetries(subject: call.subject) { () -> UInt in
            let response = try await self.sendOnce(call)
            let status = response.status.code
            if status >= 500 || status == 429 {
                throw S3Errors.map(code: Self.codeForStatus(status), status: status, message: nil, subject: call.subject, region: self.configuration.region, headers: response.headers)
            }
            return status
        }
        switch response {
        case 200: return true
        case 404: return false
        case 403: throw StorageError(.accessDenied, "access denied to bucket \(bucket) (403)", hint: "check the credentials and the key's permissions for \(bucket)")
        case 301: throw StorageError(.invalidConfiguration, "bucket \(bucket) is not in region \(configuration.region) (301)", hint: "set `region:` to the bucket's region")
        default: throw StorageError(.other, "unexpected HTTP \(response) checking bucket \(bucket)")
        }
    }

    public func createBucket(_ bucket: String) async throws {
        var call = Call(method: .PUT, bucket: bucket)
        if configuration.region != "us-east-1" {
            let xml = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(xmlEscape(configuration.region))</LocationConstraint></CreateBucketConfiguration>"
            call.body = .bytes(Array(xml.utf8))
        }
        _ = try await sendCollecting(call)
    }

    public func deleteBucket(_ bucket: String) async throws {
        _ = try await sendCollecting(Call(method: .DELETE, bucket: bucket), accept: [200, 204])
    }
}

/// S3's timestamps (ISO 8601 in listings, RFC 1123 in headers).
enum S3Dates {
    static func parse(_ text: String) -> Date? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = iso.date(from: text) { return date }
        iso.formatOptions = [.withInternetDateTime]
        if let date = iso.date(from: text) { return date }
        let http = DateFormatter()
        http.locale = Locale(identifier: "en_US_POSIX")
        http.timeZone = TimeZone(identifier: "GMT")
        http.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return http.date(from: text)
    }
}
