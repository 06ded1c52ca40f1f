import Foundation
import Crypto
import Storage

/// Streaming digests of local files, for skip-unchanged comparisons.
enum FileDigest {
    /// SHA-256 and MD5 (hex) of a file, read once in 1 MiB chunks.
    static func digests(of url: URL, md5 wantMD5: Bool = false, cancellation: CancellationFlag) throws -> (sha256: String, md5: String?) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw StepError(code: .ioError, message: "cannot read \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var sha = SHA256()
        var md5 = Insecure.MD5()
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            // This runs on a Dispatch thread (BlockingIO): the flag, not
            // Task.checkCancellation(), is what sees the step being cancelled.
            try cancellation.check()
            let count = read(fd, buffer.baseAddress, size)
            if count < 0 {
                if errno == EINTR { continue }
                throw StepError(code: .ioError, message: "cannot read \(url.path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            sha.update(bufferPointer: chunk)
            if wantMD5 { md5.update(bufferPointer: chunk) }
        }
        return (hex(sha.finalize()), wantMD5 ? hex(md5.finalize()) : nil)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let table = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in digest {
            bytes.append(table[Int(byte >> 4)])
            bytes.append(table[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
