import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import Synchronization

extension S3Storage {
    /// One page of ListObjectsV2 (continuation tokens: v1's `marker` is
    /// ignored by some servers), with `encoding-type=url` so any key lists.
    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", String(max(1, min(maxKeys, 1000))))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let delimiter, !delimiter.isEmpty { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let (_, data) = try await performCollecting(Call(method: .GET, bucket: bucket, query: query, operation: "ListObjectsV2"))
        knownBuckets.withLock { _ = $0.insert(bucket) }
        return try S3ListParser.objects(data)
    }

    /// Multipart uploads in progress in `bucket` (all pages), to prove none
    /// were left behind and to clean up after tests.
    package func listMultipartUploads(bucket: String, prefix: String = "") async throws -> [(key: String, uploadID: String)] {
        var all: [(key: String, uploadID: String)] = []
        var marker: (key: String, uploadID: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("encoding-type", "url")]
            if !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let marker { query += [("key-marker", marker.key), ("upload-id-marker", marker.uploadID)] }
            let (_, data) = try await performCollecting(Call(method: .GET, bucket: bucket, query: query, operation: "ListMultipartUploads"))
            let page = try S3ListParser.uploads(data)
            all += page.uploads
            marker = page.next
        } while marker != nil
        return all
    }
}
