import Foundation
import Synchronization
@testable import Storage

/// A fresh directory per test holding the storage root and source files;
/// removed when the test's suite instance goes away.
final class LocalFixture: Sendable {
    let base: URL
    let root: URL
    let storage: LocalStorage

    /// - Parameter inMemory: Use tmpfs (`/dev/shm`) when there is one, for
    ///   tests that create thousands of files: creating a file on this
    ///   machine's disk costs about a millisecond.
    init(inMemory: Bool = false) throws {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let parent = inMemory && access(shm.path, W_OK) == 0 ? shm : FileManager.default.temporaryDirectory
        base = parent.appendingPathComponent("bucketflow-local-\(UUID().uuidString)")
        root = base.appendingPathComponent("buckets")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        storage = LocalStorage(root: root)
    }

    deinit { try? FileManager.default.removeItem(at: base) }

    /// A source file with `bytes` as content.
    func file(_ bytes: [UInt8]) throws -> URL {
        let url = base.appendingPathComponent("src-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }

    func file(_ text: String) throws -> URL { try file(Array(text.utf8)) }

    /// Uploads `text` as `key` into `bucket`.
    @discardableResult
    func put(_ key: String, _ text: String = "x", bucket: String = "bucket-a", options: PutOptions = PutOptions()) async throws -> TransferResult {
        try await storage.upload(from: try file(text), bucket: bucket, key: key, options: options)
    }

    /// Writes `key` straight into the bucket directory, as a user would by
    /// hand (fast: no temporary file, no fsync). `dir/` makes a directory.
    func place(_ key: String, _ text: String = "x", bucket: String = "bucket-a") throws {
        let path = path(bucket, key)
        if key.hasSuffix("/") {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } else {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    func path(_ bucket: String, _ key: String) -> String { root.path + "/" + bucket + "/" + key }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Every `.bucketflow-tmp-*` file under `directory`, recursively.
    func temporaries(under directory: URL) -> [String] {
        guard let names = FileManager.default.subpaths(atPath: directory.path) else { return [] }
        return names.filter { ($0 as NSString).lastPathComponent.hasPrefix(".bucketflow-tmp-") }
    }

    func collect(_ stream: ObjectByteStream) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in stream { bytes += chunk }
        return bytes
    }

    /// Random bytes, filled 8 at a time (byte by byte is slow in debug builds).
    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < count {
                let word = generator.next()
                let n = min(8, count - offset)
                withUnsafeBytes(of: word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
                offset += n
            }
        }
        return bytes
    }

    static func sha256(_ text: String) -> String {
        switch text {
        case "": LocalStorage.emptySHA256
        case "hello": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        default: fatalError("no known digest for \(text)")
        }
    }
}

/// Holds a streamed write after its first chunk until the test releases it.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let state = Atomic<Int>(0)  // 0 waiting for a chunk, 1 holding, 2 passed

    /// For `LocalStorage.progressHook`: blocks the first call only.
    func hold(_ written: Int64) {
        if state.compareExchange(expected: 0, desired: 1, ordering: .sequentiallyConsistent).exchanged {
            semaphore.wait()
        }
    }

    /// Waits (up to 10 s) until a transfer is held.
    func waitUntilHeld() async throws {
        for _ in 0..<5000 where state.load(ordering: .sequentiallyConsistent) != 1 {
            try await Task.sleep(for: .milliseconds(2))
        }
        if state.load(ordering: .sequentiallyConsistent) != 1 { throw CancellationError() }
    }

    func release() {
        state.store(2, ordering: .sequentiallyConsistent)
        semaphore.signal()
    }
}
