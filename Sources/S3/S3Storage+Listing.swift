import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import HTTPTransport
import Synchronization

extension S3Storage {
    /// One page of ListObjectsV2 (continuation tokens: v1's `marker` is
    /// ignored by some servers), with `encoding-type=url` so any key lists.
    ///
    /// The token handed back is a ``ListingCursor`` around the server's:
    /// a server that repeats a token, lists backwards or never ends fails
    /// the listing with a clear message once it passes
    /// ``S3Configuration/listingLimits``, instead of looping or filling memory.
    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        let cursor = ListingCursor.decode(continuationToken)
        var query: [(name: String, value: String)] = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", String(max(1, min(maxKeys, 1000))))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let delimiter, !delimiter.isEmpty { query.append(("delimiter", delimiter)) }
        if let cursor { query.append(("continuation-token", cursor.token)) }
        let (_, data) = try await performCollecting(Call(method: .GET, bucket: bucket, query: query, operation: "ListObjectsV2"))
        knownBuckets.withLock { _ = $0.insert(bucket) }
        var page = try S3ListParser.objects(data)
        let next = try ListingCursor.advance(
            previous: cursor, next: page.isTruncated ? page.nextContinuationToken : nil, truncated: page.isTruncated,
            names: page.objects.map(\.key) + page.commonPrefixes, limits: configuration.listingLimits,
            subject: "bucket \(bucket)" + (prefix.isEmpty ? "" : ", prefix \(prefix)"),
            settingHint: "max-list-keys (and max-list-pages) in the storage's settings")
        page.nextContinuationToken = next
        page.isTruncated = next != nil
        return page
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
            if let next = page.next, let marker, next == marker {
                throw StorageError(.other, "the server returned the same continuation token twice; stopping the listing of multipart uploads in bucket \(bucket)")
            }
            guard all.count <= configuration.listingLimits.maxKeys else {
                throw StorageError(.other, "the listing of multipart uploads in bucket \(bucket) passed \(configuration.listingLimits.maxKeys) entries; stopping the listing")
            }
            marker = page.next
        } while marker != nil
        return all
    }
}
