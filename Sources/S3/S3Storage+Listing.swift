import Foundation
public import Storage
import AsyncHTTPClient
import NIOHTTP1
import NIOCore
import SigV4

extension S3Storage {
    /// ListObjectsV2 (continuation tokens; v1's `marker` is ignored by some servers).
    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("max-keys", String(max(1, min(maxKeys, 1000))))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let delimiter, !delimiter.isEmpty { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let (_, data) = try await sendCollecting(Call(method: .GET, bucket: bucket, query: query))
        guard let xml = XMLElement.parse(data) else { throw StorageError(.other, "the service sent an unreadable listing for bucket \(bucket)") }
        let objects = xml.all("Contents").compactMap { item -> ObjectInfo? in
            guard let key = item.string("Key") else { return nil }
            let etag = item.string("ETag").map(Self.unquote)
            return ObjectInfo(key: key, size: Int64(item.string("Size") ?? "0") ?? 0,
                              lastModified: item.string("LastModified").flatMap(S3Dates.parse), etag: etag)
        }
        let prefixes = xml.all("CommonPrefixes").compactMap { $0.string("Prefix") }
        let truncated = xml.string("IsTruncated") == "true"
        return ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: truncated, nextContinuationToken: truncated ? xml.string("NextContinuationToken") : nil)
    }

    /// Multipart uploads in progress (to prove none were left behind).
    package func listMultipartUploads(bucket: String) async throws -> [(key: String, uploadID: String)] {
        let (_, data) = try await sendCollecting(Call(method: .GET, bucket: bucket, query: [("uploads", "")]))
        guard let xml = XMLElement.parse(data) else { return [] }
        return xml.all("Upload").compactMap { upload in
            guard let key = upload.string("Key"), let id = upload.string("UploadId") else { return nil }
            return (key, id)
        }
    }

    static func unquote(_ etag: String) -> String {
        var text = etag
        if text.hasPrefix("W/") { text.removeFirst(2) }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}
