import Foundation
import Checksums
import Crypto
import NIOHTTP1

/// One running digest over a stream of bytes: the download's verifier.
/// Only one is computed per transfer, so each byte is hashed once.
struct ContentHasher {
    /// Algorithms S3 reports: the ETag's MD5 and the `x-amz-checksum-*` family.
    enum Algorithm: String, Sendable, CaseIterable {
        case md5, crc32, crc32c, crc64nvme, sha1, sha256
    }

    let algorithm: Algorithm
    // Separate optionals (not an enum with payloads) so updates mutate in
    // place instead of copying the hasher out and back for every chunk.
    private var md5: Insecure.MD5?
    private var sha1: Insecure.SHA1?
    private var sha256: SHA256?
    private var crc32 = UInt32(0xFFFF_FFFF)  // IEEE, table-driven (rare: only when a server offers nothing cheaper)
    private var crc32c = CRC32C()
    private var crc64 = CRC64NVME()

    init(_ algorithm: Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .md5: md5 = Insecure.MD5()
        case .sha1: sha1 = Insecure.SHA1()
        case .sha256: sha256 = SHA256()
        case .crc32, .crc32c, .crc64nvme: break
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch algorithm {
        case .md5: md5!.update(bufferPointer: bytes)
        case .sha1: sha1!.update(bufferPointer: bytes)
        case .sha256: sha256!.update(bufferPointer: bytes)
        case .crc32:
            let table = CRCTables.ieee
            var crc = crc32
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            crc32 = crc
        case .crc32c: crc32c.update(bytes)
        case .crc64nvme: crc64.update(bytes)
        }
    }

    /// The digest's bytes (big-endian for CRCs, as S3 sends them in base64).
    func finalize() -> [UInt8] {
        switch algorithm {
        case .md5: return Array(md5!.finalize())
        case .sha1: return Array(sha1!.finalize())
        case .sha256: return Array(sha256!.finalize())
        case .crc32: return withUnsafeBytes(of: (~crc32).bigEndian, Array.init)
        case .crc32c: return crc32c.bytes
        case .crc64nvme: return crc64.bytes
        }
    }

    func finalizeHex() -> String { Self.hex(finalize()) }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Full-object algorithms in the order a download prefers them: cheapest first.
    static let preference: [Algorithm] = [.crc32c, .crc64nvme, .crc32, .sha1, .sha256]

    /// A full-object checksum the server sent (`x-amz-checksum-ALG`, base64),
    /// as algorithm and lower-case hex. Composite checksums of multipart
    /// objects (`...-N`, or type COMPOSITE) are not whole-object digests and
    /// are skipped.
    static func fullObjectChecksum(in headers: HTTPHeaders) -> (Algorithm, String)? {
        if headers.first(name: "x-amz-checksum-type")?.uppercased() == "COMPOSITE" { return nil }
        for algorithm in preference {
            guard let value = headers.first(name: "x-amz-checksum-\(algorithm.rawValue)"), !value.contains("-"),
                  let bytes = Data(base64Encoded: value) else { continue }
            return (algorithm, hex(bytes))
        }
        return nil
    }
}

/// The lookup table for CRC-32 (IEEE), which no transfer of ours sends;
/// CRC-32C and CRC-64/NVME come from the Checksums target.
enum CRCTables {
    static let ieee = table32(0xEDB8_8320)

    static func table32(_ polynomial: UInt32) -> [UInt32] {
        (0..<256).map { index in
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            return crc
        }
    }
}
