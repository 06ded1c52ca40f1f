import Foundation
import Checksums
import Crypto
import Logging
import NIOHTTP1
import Storage
import Synchronization

/// The digests one upload body needs (Content-MD5, an `x-amz-checksum-*`
/// CRC, or both), computed in a single pass over its bytes.
struct UploadDigest: Sendable {
    var md5: [UInt8]?
    var crc: (algorithm: ContentHasher.Algorithm, bytes: [UInt8])?

    /// A digest being computed chunk by chunk.
    struct Running {
        var md5: Insecure.MD5?
        var crc: ContentHasher?

        init(md5: Bool, crc: ContentHasher.Algorithm?) {
            self.md5 = md5 ? Insecure.MD5() : nil
            self.crc = crc.map(ContentHasher.init)
        }

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            md5?.update(bufferPointer: bytes)
            crc?.update(bytes)
        }

        func finalize() -> UploadDigest {
            UploadDigest(md5: md5.map { Array($0.finalize()) }, crc: crc.map { ($0.algorithm, $0.finalize()) })
        }
    }

    static func of(_ bytes: UnsafeRawBufferPointer, md5: Bool, crc: ContentHasher.Algorithm?) -> UploadDigest {
        var running = Running(md5: md5, crc: crc)
        running.update(bytes)
        return running.finalize()
    }

    var contentMD5: String? { md5.map { Data($0).base64EncodedString() } }

    /// `x-amz-checksum-ALG: base64`, when there is a CRC.
    var checksumHeader: (name: String, value: String)? {
        crc.map { ("x-amz-checksum-\($0.algorithm.rawValue)", Data($0.bytes).base64EncodedString()) }
    }

    /// Whether the service's answer shows these bytes were checked: with
    /// Content-MD5 it refuses a mismatch; with only a CRC, it must echo it.
    func isConfirmed(by headers: HTTPHeaders) -> Bool {
        guard md5 == nil, let (name, value) = checksumHeader else { return true }
        return headers.first(name: name) == value
    }

    /// Hex digests for the transfer record.
    var checksums: [String: String] {
        var out: [String: String] = [:]
        if let md5 { out["md5"] = ContentHasher.hex(md5) }
        if let crc { out[crc.algorithm.rawValue] = ContentHasher.hex(crc.bytes) }
        return out
    }
}

extension S3Storage {
    /// What the next upload body carries: Content-MD5 unless the service is
    /// known to check the CRC, and the CRC of the `checksum` setting.
    func uploadIntegrity() -> (md5: Bool, crc: ContentHasher.Algorithm?) {
        switch configuration.checksum {
        case .md5: return (true, nil)
        case .crc32c, .crc64nvme: return (false, configuration.checksum.crc)
        case .auto: return (checksumVerified.withLock { $0 } != true, .crc32c)
        }
    }

    /// The error for an upload sent with only a CRC that the service did not
    /// confirm checking.
    func unconfirmedChecksum(_ digest: UploadDigest, subject: String) -> StorageError {
        let name = digest.checksumHeader?.name ?? "x-amz-checksum"
        return StorageError(.invalidConfiguration, "\(subject): the service accepted the upload without confirming it checked \(name) (no echo in its answer), so nothing verified the bytes; the object was removed",
                            hint: "set `checksum: md5` (or `auto`) on this storage: the service seems not to check x-amz-checksum headers")
    }

    /// `checksum: auto` learns from a successful PUT that carried both
    /// Content-MD5 and a CRC whether the service checks CRCs: AWS echoes the
    /// CRC it verified in the response; services that ignore the header
    /// (moto, rclone, nanio) send nothing back. The first answer decides.
    func learnChecksumVerification(sent digest: UploadDigest, response headers: HTTPHeaders) {
        guard configuration.checksum == .auto, digest.md5 != nil, let (name, value) = digest.checksumHeader else { return }
        let echoed = headers.first(name: name) == value
        checksumVerified.withLock { known in
            if known == nil {
                known = echoed
                logger.debug("\(echoed ? "the service checks" : "the service does not echo") \(name); uploads to it \(echoed ? "drop" : "keep") Content-MD5")
            }
        }
    }
}
