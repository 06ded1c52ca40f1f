import Foundation
import Storage

/// Decides whether `skip-unchanged` may skip an object: sizes must match and
/// a content checksum must match. When no checksum can be compared, the
/// object counts as changed: skipping is only ever done on proof.
enum Unchanged {
    static func isPlainMD5(_ etag: String) -> Bool {
        etag.count == 32 && etag.allSatisfy(\.isHexDigit)
    }

    static func sha256(of info: ObjectInfo) -> String? {
        info.checksums["sha256"] ?? info.metadata["sha256"] ?? info.metadata["bucketflow-sha256"]
    }

    static func md5(of info: ObjectInfo) -> String? {
        if let md5 = info.checksums["md5"] { return md5 }
        if let etag = info.etag, isPlainMD5(etag) { return etag.lowercased() }
        return nil
    }

    /// Whether the local file has the same content as the remote object.
    ///
    /// - Returns: The verdict and the local SHA-256 when it was computed.
    static func local(_ url: URL, size: Int64, matches remote: ObjectInfo, cancellation: CancellationFlag) throws -> (Bool, String?) {
        guard size == remote.size else { return (false, nil) }
        if let expected = sha256(of: remote) {
            let digest = try FileDigest.digests(of: url, cancellation: cancellation)
            return (digest.sha256 == expected.lowercased(), digest.sha256)
        }
        if let expected = md5(of: remote) {
            let digest = try FileDigest.digests(of: url, md5: true, cancellation: cancellation)
            return (digest.md5 == expected, digest.sha256)
        }
        return (false, nil)
    }

    /// Whether two objects (possibly in different storages) have the same content.
    static func objects(_ a: ObjectInfo, _ b: ObjectInfo) -> Bool {
        guard a.size == b.size else { return false }
        if let x = sha256(of: a), let y = sha256(of: b) { return x.lowercased() == y.lowercased() }
        if let x = md5(of: a), let y = md5(of: b) { return x == y }
        return false
    }
}
