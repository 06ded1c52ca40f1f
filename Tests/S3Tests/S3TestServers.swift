import Foundation
import Testing
@testable import S3
import Storage

/// The real S3 servers started by `scripts/s3-test-servers` (CI always
/// starts them; locally, run `scripts/s3-test-servers start` and
/// `eval "$(scripts/s3-test-servers env)"` first).
struct S3TestServer: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    var name: String
    var endpoint: URL
    var accessKey: String
    var secretKey: String

    var description: String { name }
    var testDescription: String { name }

    static let all: [S3TestServer] = {
        let env = ProcessInfo.processInfo.environment
        guard let names = env["BUCKETFLOW_TEST_S3_SERVERS"], !names.isEmpty else {
            print("S3 conformance tests SKIPPED: no S3 server configured. Start them with `scripts/s3-test-servers start && eval \"$(scripts/s3-test-servers env)\"` (CI does this in scripts/test).")
            return []
        }
        return names.split(separator: ",").compactMap { name in
            let prefix = "BUCKETFLOW_TEST_S3_\(name.uppercased())_"
            guard let endpoint = env[prefix + "ENDPOINT"].flatMap(URL.init(string:)),
                  let access = env[prefix + "ACCESS_KEY"], let secret = env[prefix + "SECRET_KEY"] else { return nil }
            return S3TestServer(name: String(name), endpoint: endpoint, accessKey: access, secretKey: secret)
        }
    }()

    func storage(secret: String? = nil, configure: (inout S3Configuration) -> Void = { _ in }) throws -> S3Storage {
        var configuration = S3Configuration(endpoint: endpoint, accessKeyId: accessKey, secretAccessKey: secret ?? secretKey)
        configuration.maxAttempts = 3
        // moto's werkzeug server can misread the next request on a connection
        // where it answered early (e.g. 404 before reading a body): HTTP 414.
        configuration.reuseConnections = name != "moto"
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
        // rclone cannot list multipart uploads (NoSuchUpload).
        for upload in (try? await storage.listMultipartUploads(bucket: bucket)) ?? [] {
            await storage.abortMultipartUpload(bucket: bucket, key: upload.key, uploadID: upload.uploadID)
        }
        try await storage.deleteBucket(bucket)
    }
}

/// Temporary local files for uploads and downloads.
final class Scratch: Sendable {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-s3-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String, bytes: Int, seed: UInt8 = 1) throws -> URL {
        let url = directory.appendingPathComponent(name)
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        var remaining = bytes
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for i in 0..<block.count { block[i] = UInt8(truncatingIfNeeded: i &* 131 &+ Int(seed)) }
        while remaining > 0 {
            let n = min(remaining, block.count)
            handle.write(Data(block[0..<n]))
            remaining -= n
            block[0] &+= 1
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
}
