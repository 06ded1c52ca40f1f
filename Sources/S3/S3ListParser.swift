package import Foundation
package import Storage

/// Reads S3's listing documents (ListObjectsV2, ListBuckets, ListMultipartUploads).
package enum S3ListParser {
    /// A ListObjectsV2 page. When the response says `EncodingType` is `url`
    /// (we always ask for it, so keys with characters XML 1.0 cannot carry
    /// still list), keys and prefixes are percent-decoded, with `+` as a
    /// space as servers form-encode them; a server that ignored the request
    /// sends raw keys, which are used as they are.
    package static func objects(_ data: Data) throws(StorageError) -> ListPage {
        guard let root = S3XMLElement.parse(data), root.name == "ListBucketResult" else {
            throw StorageError(.other, "the service sent a listing that is not a ListObjectsV2 document", hint: "check that the endpoint is an S3 service")
        }
        let encoded = root.string("EncodingType")?.lowercased() == "url"
        func decode(_ text: String) throws(StorageError) -> String {
            guard encoded else { return text }
            guard let plain = urlDecode(text) else {
                throw StorageError(.other, "the service sent a listing with a badly encoded key \"\(text)\"")
            }
            return plain
        }
        var objects: [ObjectInfo] = []
        objects.reserveCapacity(root.children.count)
        for item in root.all("Contents") {
            guard let key = item.string("Key") else { continue }
            var info = ObjectInfo(key: try decode(key), size: Int64(item.string("Size") ?? "") ?? 0,
                                  lastModified: item.string("LastModified").flatMap(S3Dates.parse),
                                  etag: item.string("ETag").map(unquote))
            if let md5 = plainMD5(info.etag) { info.checksums["md5"] = md5 }
            objects.append(info)
        }
        var prefixes: [String] = []
        for item in root.all("CommonPrefixes") {
            if let prefix = item.string("Prefix") { prefixes.append(try decode(prefix)) }
        }
        let truncated = root.string("IsTruncated")?.lowercased() == "true"
        let token = root.string("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw StorageError(.other, "the service sent a truncated listing without a continuation token", hint: "this S3 service's ListObjectsV2 is incomplete")
        }
        return ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: truncated, nextContinuationToken: truncated ? token : nil)
    }

    static func buckets(_ data: Data) throws(StorageError) -> [BucketInfo] {
        guard let root = S3XMLElement.parse(data), root.name == "ListAllMyBucketsResult" else {
            throw StorageError(.other, "the service sent an unreadable bucket list", hint: "check that the endpoint is an S3 service")
        }
        return (root.child("Buckets")?.all("Bucket") ?? []).compactMap { bucket in
            bucket.string("Name").map { BucketInfo(name: $0, createdAt: bucket.string("CreationDate").flatMap(S3Dates.parse)) }
        }
    }

    /// Multipart uploads in progress: (key, upload id), and the markers of the next page.
    static func uploads(_ data: Data) throws(StorageError) -> (uploads: [(key: String, uploadID: String)], next: (key: String, uploadID: String)?) {
        guard let root = S3XMLElement.parse(data), root.name == "ListMultipartUploadsResult" else {
            throw StorageError(.other, "the service sent an unreadable list of multipart uploads")
        }
        let encoded = root.string("EncodingType")?.lowercased() == "url"
        let uploads = root.all("Upload").compactMap { upload -> (key: String, uploadID: String)? in
            guard let key = upload.string("Key"), let id = upload.string("UploadId") else { return nil }
            return (encoded ? urlDecode(key) ?? key : key, id)
        }
        var next: (key: String, uploadID: String)?
        if root.string("IsTruncated")?.lowercased() == "true", let key = root.string("NextKeyMarker"), let id = root.string("NextUploadIdMarker") {
            next = (encoded ? urlDecode(key) ?? key : key, id)
        }
        return (uploads, next)
    }

    /// Form-style percent-decoding: `+` is a space, `%XX` a byte of UTF-8.
    static func urlDecode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        func hexValue(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case let b? where b >= 0x30 && b <= 0x39: return b - 0x30
            case let b? where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
            case let b? where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = hexValue(iterator.next()), let low = hexValue(iterator.next()) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// An ETag without quotes (and without a weak `W/` prefix).
    static func unquote(_ etag: String) -> String {
        var text = Substring(etag)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\"") { text = text.dropFirst() }
        if text.hasSuffix("\"") { text = text.dropLast() }
        return String(text)
    }

    /// The MD5 an ETag stands for, when it is a single-part, unencrypted one.
    static func plainMD5(_ etag: String?) -> String? {
        guard let etag, etag.utf8.count == 32, etag.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else { return nil }
        return etag.lowercased()
    }
}

/// S3's timestamps: ISO 8601 in listings, RFC 1123 in headers.
enum S3Dates {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return httpDate(text)
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`, parsed without a locale-dependent formatter.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let monthIndex = months.firstIndex(of: String(parts[2])) else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        var components = DateComponents()
        components.year = year; components.month = monthIndex + 1; components.day = day
        components.hour = time[0]; components.minute = time[1]; components.second = time[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }
}
