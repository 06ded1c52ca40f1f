import Crypto

/// SHA-256 and MD5 of a byte stream fed in chunks.
struct SHA256Hasher {
    private var sha = SHA256()
    private var md5 = Insecure.MD5()

    mutating func update(_ bytes: [UInt8]) {
        sha.update(data: bytes)
        md5.update(data: bytes)
    }

    func finalize() -> (sha256: String, md5: String) {
        (FileDigest.hex(sha.finalize()), FileDigest.hex(md5.finalize()))
    }
}
