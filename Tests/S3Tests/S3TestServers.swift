import Foundation
import Crypto
import Testing
@testable import S3
import Storage

/// The real S3 servers started by `scripts/s3-test-servers start` (CI
/// always starts them; locally run that, then
/// `eval "$(scripts/s3-test-servers env)"`, then `swift test`).
struct S3TestServer: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    var name: String
    var endpoint: URL
    var accessKey: String
    var secretKey: String

    var description: String { name }
    var testDescription: String { name }

    static let skipMessage: Comment = "S3 conformance tests SKIPPED: BUCKETFLOW_TEST_S3_SERVERS is not set. Start real servers with `scripts/s3-test-servers start && eval \"$(scripts/s3-test-servers env)\"`, then run swift test again."

    static let all: [S3TestServer] = {
        let env = ProcessInfo.processInfo.environment
        guard let names = env["BUCKETFLOW_TEST_S3_SERVERS"], !names.isEmpty else {
            print("⚠️  \(skipMessage.rawValue)")
            return []
        }
        return names.split(separator: ",").map { name in
            let prefix = "BUCKETFLOW_TEST_S3_\(name.uppercased())_"
            guard let endpoint = env[prefix + "ENDPOINT"].flatMap(URL.init(string:)),
                  let access = env[prefix + "ACCESS_KEY"], let secret = env[prefix + "SECRET_KEY"] else {
                fatalError("BUCKETFLOW_TEST_S3_SERVERS names \(name), but \(prefix)ENDPOINT, _ACCESS_KEY or _SECRET_KEY is missing")
            }
            return S3TestServer(name: String(name), endpoint: endpoint, accessKey: access, secretKey: secret)
        }
    }()

    static var configured: Bool { !all.isEmpty }

    /// A fault proxy in front of one server that answers every third
    /// request with 503 SlowDown (scripts/s3-test-servers starts it).
    static let faulty: S3TestServer? = {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["BUCKETFLOW_TEST_S3_FAULTY_ENDPOINT"].flatMap(URL.init(string:)),
              let access = env["BUCKETFLOW_TEST_S3_RCLONE_ACCESS_KEY"], let secret = env["BUCKETFLOW_TEST_S3_RCLONE_SECRET_KEY"] else { return nil }
        return S3TestServer(name: "rclone-behind-fault-proxy", endpoint: endpoint, accessKey: access, secretKey: secret)
    }()

    /// rclone itself (no proxy), for tests that put proxies of their own in
    /// front of it.
    static let rclone: S3TestServer? = {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["BUCKETFLOW_TEST_S3_RCLONE_ENDPOINT"].flatMap(URL.init(string:)),
              let access = env["BUCKETFLOW_TEST_S3_RCLONE_ACCESS_KEY"], let secret = env["BUCKETFLOW_TEST_S3_RCLONE_SECRET_KEY"] else { return nil }
        return S3TestServer(name: "rclone", endpoint: endpoint, accessKey: access, secretKey: secret)
    }()

    /// Whether CI runs this suite (the env var `CI` is set): then missing
    /// servers are a failure, not a skip.
    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

    /// The same server reached through another endpoint (a proxy).
    func through(_ endpoint: URL, name: String) -> S3TestServer {
        S3TestServer(name: name, endpoint: endpoint, accessKey: accessKey, secretKey: secretKey)
    }

    /// rclone's local backend keeps no user metadata, and a "dir/" marker
    /// object becomes a file that blocks every key under it (HTTP 500).
    var keepsMetadata: Bool { name != "rclone" }
    var keepsFolderMarkers: Bool { name != "rclone" }
    /// rclone answers UploadPartCopy like an empty UploadPart (no
    /// CopyPartResult); after the abort, the key's parent directory stays
    /// behind and keeps the bucket "not empty", so tests copy to top-level keys.
    var supportsUploadPartCopy: Bool { name != "rclone" }

    /// rclone stores the `x-amz-checksum-*` headers of a PUT (unchecked)
    /// and returns them; moto does not without the SDK's algorithm header.
    var storesChecksums: Bool { name == "rclone" }

    /// Whether a download verified what the upload sent: it checked a
    /// checksum, and the upload computed the same one with the same value.
    static func sameContent(_ got: TransferResult, _ put: TransferResult) -> Bool {
        !got.checksums.isEmpty && got.checksums.allSatisfy { put.checksums[$0.key] == $0.value }
    }

    func storage(secret: String? = nil, configure: (inout S3Configuration) -> Void = { _ in }) throws -> S3Storage {
        var configuration = S3Configuration(endpoint: endpoint, accessKeyId: accessKey, secretAccessKey: secret ?? secretKey)
        configuration.maxAttempts = 3
        configure(&configuration)
        return try S3Storage(configuration: configuration)
    }

    /// A fresh bucket for one test, emptied and removed afterwards.
    func withBucket(configure: (inout S3Configuration) -> Void = { _ in }, _ body: (S3Storage, String) async throws -> Void) async throws {
        let storage = try self.storage(configure: configure)
        let bucket = "bf-\(UUID().uuidString.lowercased().prefix(18))"
        try await storage.createBucket(bucket)
        do {
            try await body(storage, bucket)
        } catch {
            try? await cleanup(storage, bucket)
            try? await storage.shutdown()
            throw error
        }
        try await cleanup(storage, bucket)
        try await storage.shutdown()
    }

    func cleanup(_ storage: S3Storage, _ bucket: String) async throws {
        let keys = try await storage.listAll(bucket: bucket, prefix: "").map(\.key)
        _ = try await storage.delete(bucket: bucket, keys: keys)
        for upload in (try? await storage.listMultipartUploads(bucket: bucket)) ?? [] {
            await storage.abortMultipartUpload(bucket: bucket, key: upload.key, uploadID: upload.uploadID)
        }
        try await storage.deleteBucket(bucket)
    }
}

/// Temporary local files for uploads and downloads, removed at the end.
final class Scratch: Sendable {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-s3-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A file of `bytes` pseudo-random bytes (different per seed).
    func file(_ name: String, bytes: Int, seed: UInt64 = 1) throws -> URL {
        let url = directory.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var remaining = bytes
        while remaining > 0 {
            let n = min(remaining, 1 << 20)
            var block = [UInt8](repeating: 0, count: n)
            block.withUnsafeMutableBytes { raw in
                let words = raw.bindMemory(to: UInt64.self)
                for i in 0..<words.count {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    words[i] = state
                }
            }
            try handle.write(contentsOf: block)
            remaining -= n
        }
        try handle.close()
        return url
    }

    func text(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Names in the directory, temporary download files included.
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    static func sha256(_ url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func md5(_ url: URL) throws -> String {
        Insecure.MD5.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }
}
