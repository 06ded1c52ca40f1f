import CChecksum

/// CRC-64/NVME, S3's `x-amz-checksum-crc64nvme` (the default full-object
/// checksum of AWS's SDKs since 2025). Computed with slicing-by-8 tables.
public struct CRC64NVME: Sendable, Hashable {
    /// The checksum of the bytes seen so far.
    public private(set) var value: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        value = bucketflow_crc64nvme(value, base, bytes.count)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        var bytes = Array(bytes)
        bytes.withUnsafeMutableBytes { update(UnsafeRawBufferPointer($0)) }
    }

    /// The checksum's bytes, big-endian, as S3 sends them (base64-encoded).
    public var bytes: [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    /// The checksum of this checksum's bytes followed by `next`'s (`length`
    /// bytes), without the bytes: parts hashed in parallel give the whole.
    public func combined(with next: UInt64, length: Int64) -> Self {
        var whole = Self()
        whole.value = bucketflow_crc64nvme_combine(value, next, UInt64(max(0, length)))
        return whole
    }

    /// A checksum already computed, e.g. of a part.
    public init(value: UInt64) { self.value = value }

    /// The checksum of `bytes` in one call.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var crc = CRC64NVME()
        crc.update(bytes)
        return crc.value
    }
}
