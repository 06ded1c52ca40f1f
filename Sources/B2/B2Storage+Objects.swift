import Foundation
import AsyncHTTPClient
import Crypto
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import HTTPTransport
import Synchronization

/// One file (version) as B2 lists it.
struct B2File: Decodable, Sendable {
    var fileId: String?
    var fileName: String
    var action: String
    var contentLength: Int64?
    var contentSha1: String?
    var contentType: String?
    var fileInfo: [String: String]?
    var uploadTimestamp: Int64?

    /// The file's SHA-1: `contentSha1`, or for large files (whose
    /// contentSha1 is "none") the `large_file_sha1` the uploader stored.
    var sha1: String? { B2File.sha1(contentSha1: contentSha1, largeFileSHA1: fileInfo?["large_file_sha1"]) }

    static func sha1(contentSha1: String?, largeFileSHA1: String?) -> String? {
        // "unverified:<hex>": the uploader's SHA-1, which B2 did not check
        // (hex at the end of the body); still the one to verify against.
        let content = contentSha1.map { $0.hasPrefix("unverified:") ? String($0.dropFirst("unverified:".count)) : $0 }
        if let value = content?.lowercased(), value.count == 40, value.allSatisfy(\.isHexDigit) { return value }
        if let value = largeFileSHA1?.lowercased(), value.count == 40, value.allSatisfy(\.isHexDigit) { return value }
        return nil
    }

    func info() -> ObjectInfo {
        var metadata: [String: String] = [:]
        for (name, value) in fileInfo ?? [:] where name != "large_file_sha1" {
            metadata[name.lowercased()] = value
        }
        var checksums: [String: String] = [:]
        if let sha1 { checksums["sha1"] = sha1 }
        return ObjectInfo(key: fileName, size: contentLength ?? 0,
                          lastModified: uploadTimestamp.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                          etag: fileId, contentType: contentType, metadata: metadata, checksums: checksums)
    }
}

struct B2FileList: Decodable, Sendable {
    var files: [B2File]
    var nextFileName: String?
    var nextFileId: String?
}

extension B2Storage {
    // MARK: - Buckets

    public func listBuckets() async throws -> [BucketInfo] {
        let list = try await api("b2_list_buckets", BucketList.self, subject: Subject()) { session in
            var params: [String: JSONValue] = ["accountId": .string(session.accountID)]
            // A key limited to one bucket may only list that bucket.
            if let allowed = session.allowedBuckets, allowed.count == 1 { params["bucketId"] = .string(allowed[0].id) }
            return params
        }
        bucketIDs.withLock { ids in for bucket in list.buckets { ids[bucket.bucketName] = bucket.bucketId } }
        return list.buckets.map { BucketInfo(name: $0.bucketName) }.sorted { $0.name < $1.name }
    }

    public func bucketExists(_ bucket: String) async throws -> Bool {
        do {
            _ = try await bucketID(bucket)
            return true
        } catch let error as StorageError where error.code == .noSuchBucket {
            return false
        }
    }

    /// Creates a private bucket (`allPrivate`).
    public func createBucket(_ bucket: String) async throws {
        let session = try await auth.session()
        try checkAllowed(session, bucket: bucket, key: nil)
        struct Created: Decodable, Sendable { var bucketId: String }
        let created = try await api("b2_create_bucket", Created.self, subject: Subject(bucket: bucket)) { session in
            ["accountId": .string(session.accountID), "bucketName": .string(bucket), "bucketType": .string("allPrivate")]
        }
        bucketIDs.withLock { $0[bucket] = created.bucketId }
    }

    /// Deletes an empty bucket; B2 refuses (`.bucketNotEmpty`) while any
    /// file version, hide marker or unfinished large file is in it.
    public func deleteBucket(_ bucket: String) async throws {
        let id = try await bucketID(bucket)
        struct Deleted: Decodable, Sendable { var bucketId: String }
        _ = try await api("b2_delete_bucket", Deleted.self, subject: Subject(bucket: bucket)) { session in
            ["accountId": .string(session.accountID), "bucketId": .string(id)]
        }
        bucketIDs.withLock { _ = $0.removeValue(forKey: bucket) }
    }

    // MARK: - Listing

    /// `b2_list_file_names`: the continuation token is B2's `nextFileName`;
    /// with a delimiter, B2's "folder" entries become common prefixes.
    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        let session = try await auth.session()
        if let namePrefix = session.namePrefix, !namePrefix.isEmpty, !prefix.hasPrefix(namePrefix) {
            throw StorageError(.accessDenied, "the B2 application key \(configuration.keyId) may only list names starting with \"\(namePrefix)\"; the prefix \"\(prefix)\" is wider",
                               hint: "list under \"\(namePrefix)\" or use a key without a name prefix")
        }
        let id = try await bucketID(bucket)
        let count = min(max(maxKeys, 1), 10_000)
        let cursor = ListingCursor.decode(continuationToken)
        let list = try await api("b2_list_file_names", B2FileList.self, subject: Subject(bucket: bucket)) { _ in
            var params: [String: JSONValue] = ["bucketId": .string(id), "maxFileCount": .int(count)]
            if !prefix.isEmpty { params["prefix"] = .string(prefix) }
            if let delimiter, !delimiter.isEmpty { params["delimiter"] = .string(delimiter) }
            if let cursor, !cursor.token.isEmpty { params["startFileName"] = .string(cursor.token) }
            return params
        }
        var objects: [ObjectInfo] = []
        var prefixes: [String] = []
        for file in list.files {
            switch file.action {
            case "folder": prefixes.append(file.fileName)
            case "upload": objects.append(file.info())
            default: continue
            }
        }
        // B2's nextFileName is wrapped in a cursor that checks every page
        // against the ones before it: a repeated or non-advancing
        // nextFileName, or a listing past the limits, fails clearly.
        let next = try ListingCursor.advance(
            previous: cursor, next: list.nextFileName, truncated: list.nextFileName != nil,
            names: list.files.map(\.fileName), limits: configuration.listingLimits,
            subject: "bucket \(bucket)" + (prefix.isEmpty ? "" : ", prefix \(prefix)"),
            settingHint: "max-list-keys (and max-list-pages) in the storage's settings")
        return ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: next != nil, nextContinuationToken: next)
    }

    /// The newest version of `key`, if it is a visible file.
    func latestFile(bucket: String, key: String) async throws -> B2File {
        let id = try await bucketID(bucket, key: key)
        let list = try await api("b2_list_file_names", B2FileList.self, subject: Subject(bucket: bucket, key: key)) { _ in
            ["bucketId": .string(id), "startFileName": .string(key), "prefix": .string(key), "maxFileCount": .int(1)]
        }
        guard let file = list.files.first, file.fileName == key, file.action == "upload", file.fileId != nil else {
            throw StorageError(.noSuchKey, "\(bucket)/\(key) does not exist", hint: "check the name; B2 names are case-sensitive")
        }
        return file
    }

    /// Metadata from one `b2_list_file_names` call (sha1 included); with a
    /// key that may read but not list files, from a HEAD on the file's
    /// download URL instead.
    public func head(bucket: String, key: String) async throws -> ObjectInfo {
        let session = try await auth.session()
        if !session.capabilities.contains("listFiles") && session.capabilities.contains("readFiles") {
            return try await headByDownloadURL(bucket: bucket, key: key)
        }
        return try await latestFile(bucket: bucket, key: key).info()
    }

    func headByDownloadURL(bucket: String, key: String) async throws -> ObjectInfo {
        let response = try await openDownload(bucket: bucket, key: key, fileID: nil, range: nil, method: .HEAD)
        let headers = response.headers
        var fileInfo: [String: String] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("x-bz-info-") {
            fileInfo[String(name.dropFirst("x-bz-info-".count))] = value.removingPercentEncoding ?? value
        }
        let file = B2File(fileId: headers.first(name: "X-Bz-File-Id"), fileName: key, action: "upload",
                          contentLength: headers.first(name: "Content-Length").flatMap { Int64($0) },
                          contentSha1: headers.first(name: "X-Bz-Content-Sha1"), contentType: headers.first(name: "Content-Type"),
                          fileInfo: fileInfo, uploadTimestamp: headers.first(name: "X-Bz-Upload-Timestamp").flatMap { Int64($0) })
        return file.info()
    }

    // MARK: - Delete

    /// Deletes every version of each key (`b2_list_file_versions`, then
    /// `b2_delete_file_version` for each), eight keys at a time.
    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        let id = try await bucketID(bucket)
        let session = try await auth.session()
        let results = try await concurrently(count: keys.count, limit: 8) { index -> DeleteFailure? in
            let key = keys[index]
            do {
                try self.checkAllowed(session, bucket: bucket, key: key)
                try await self.deleteAllVersions(bucketID: id, bucket: bucket, key: key)
                return nil
            } catch let error as StorageError {
                return DeleteFailure(key: key, code: error.code.rawValue, message: error.description)
            }
        }
        return results.compactMap { $0 }
    }

    func deleteAllVersions(bucketID id: String, bucket: String, key: String) async throws {
        var nextStartID: String? = nil
        while true {
            try Task.checkCancellation()
            let startID = nextStartID
            let page = try await api("b2_list_file_versions", B2FileList.self, subject: Subject(bucket: bucket, key: key)) { _ in
                var params: [String: JSONValue] = ["bucketId": .string(id), "startFileName": .string(key), "prefix": .string(key), "maxFileCount": .int(100)]
                if let startID { params["startFileId"] = .string(startID) }
                return params
            }
            let versions = page.files.filter { $0.fileName == key && $0.fileId != nil }
            for version in versions where version.action != "start" {
                struct Deleted: Decodable, Sendable { var fileId: String }
                do {
                    _ = try await api("b2_delete_file_version", Deleted.self, subject: Subject(bucket: bucket, key: key)) { _ in
                        ["fileId": .string(version.fileId!), "fileName": .string(key)]
                    }
                } catch let error as StorageError where error.code == .noSuchKey {
                    continue  // deleted meanwhile
                }
            }
            guard let next = page.nextFileName, next == key, let nextID = page.nextFileId, versions.count == page.files.count else { return }
            nextStartID = nextID
        }
    }

    // MARK: - Copy

    /// Server-side copy with `b2_copy_file` (metadata and content type
    /// carried over); files above 5 GB are copied in parts (`b2_copy_part`).
    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult {
        let source = try await latestFile(bucket: fromBucket, key: fromKey)
        let destinationID = try await bucketID(toBucket, key: toKey)
        let sourceID = source.fileId!
        let size = source.contentLength ?? 0
        if size > configuration.largeCopyThreshold {
            return try await largeCopy(source: source, toBucket: toBucket, toBucketID: destinationID, toKey: toKey)
        }
        let copied = try await api("b2_copy_file", B2File.self, subject: Subject(bucket: toBucket, key: toKey)) { _ in
            ["sourceFileId": .string(sourceID), "fileName": .string(toKey), "destinationBucketId": .string(destinationID), "metadataDirective": .string("COPY")]
        }
        var checksums: [String: String] = [:]
        if let sha1 = copied.sha1 ?? source.sha1 { checksums["sha1"] = sha1 }
        return TransferResult(key: toKey, bytes: copied.contentLength ?? size, checksums: checksums, etag: copied.fileId)
    }

    /// A large file assembled from ranges of the source (`b2_copy_part`).
    func largeCopy(source: B2File, toBucket: String, toBucketID: String, toKey: String) async throws -> TransferResult {
        let session = try await auth.session()
        let size = source.contentLength ?? 0
        let partSize = partSize(for: size, session: session)
        let count = Int((size + partSize - 1) / partSize)
        var fileInfo = source.fileInfo ?? [:]
        if let sha1 = source.sha1 { fileInfo["large_file_sha1"] = sha1 }
        let started = try await startLargeFile(bucketID: toBucketID, bucket: toBucket, key: toKey, contentType: source.contentType ?? ContentTypes.fallback, fileInfo: fileInfo)
        return try await withLargeFileCancelledOnFailure(fileID: started, key: toKey) {
            struct Part: Decodable, Sendable { var contentSha1: String }
            let sourceID = source.fileId!
            let sha1s = try await concurrently(count: count, limit: self.configuration.partConcurrency) { index -> String in
                let start = Int64(index) * partSize
                let end = min(start + partSize, size) - 1
                return try await self.api("b2_copy_part", Part.self, subject: Subject(bucket: toBucket, key: toKey)) { _ in
                    ["sourceFileId": .string(sourceID), "largeFileId": .string(started), "partNumber": .int(index + 1), "range": .string("bytes=\(start)-\(end)")]
                }.contentSha1
            }
            let finished = try await self.finishLargeFile(fileID: started, partSHA1s: sha1s, bucket: toBucket, key: toKey)
            var checksums: [String: String] = [:]
            if let sha1 = source.sha1 { checksums["sha1"] = sha1 }
            return TransferResult(key: toKey, bytes: size, checksums: checksums, etag: finished.fileId)
        }
    }

    // MARK: - Folders

    /// Makes `folder` show in B2's web UI the way the UI does it: a
    /// zero-byte `folder/.bzEmpty`.
    public func createFolder(bucket: String, folder: String) async throws {
        let key = Self.folderMarkerKey(for: folder)
        _ = try await uploadSmall(body: .bytes(ByteBuffer()), size: 0, sha1: Self.emptySHA1, bucket: bucket, key: key,
                                  contentType: "application/x-bzEmpty", fileInfo: [:])
    }

    static let emptySHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
}
