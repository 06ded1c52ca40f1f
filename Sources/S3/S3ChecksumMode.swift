/// How uploads prove their bytes to the server (the `checksum` setting).
///
/// Every upload is verified by the server: with `Content-MD5` (which every
/// S3 server we know checks) or with an `x-amz-checksum-*` header (which AWS
/// and MinIO check, but moto, `rclone serve s3` and nanio accept without
/// checking). Downloads are always checked here, against the cheapest
/// full-object checksum the server returns (a CRC before the ETag's MD5).
public enum S3ChecksumMode: String, Sendable, CaseIterable {
    /// `x-amz-checksum-crc32c` on every upload (cheap, and stored for later
    /// downloads to verify against); `Content-MD5` too until the service
    /// has shown, by echoing the CRC on a PUT as AWS does, that it checks
    /// the CRC itself. Learned once per storage and run.
    case auto
    /// `Content-MD5` only (the choice for a service that echoes CRCs
    /// without checking them).
    case md5
    /// `x-amz-checksum-crc32c` only; the service must check it.
    case crc32c
    /// `x-amz-checksum-crc64nvme` only; the service must check it.
    case crc64nvme

    /// The CRC uploads send, if any.
    var crc: ContentHasher.Algorithm? {
        switch self {
        case .auto, .crc32c: return .crc32c
        case .crc64nvme: return .crc64nvme
        case .md5: return nil
        }
    }
}
