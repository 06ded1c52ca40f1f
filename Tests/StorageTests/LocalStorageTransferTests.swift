import Foundation
import Testing
@testable import Storage

/// Writes are all-or-nothing: a temporary file in the destination folder,
/// renamed into place only when complete; cancelled or failed writes leave
/// nothing behind.
struct LocalStorageTransferTests {
    let fixture: LocalFixture

    init() async throws {
        fixture = try LocalFixture()
        try await fixture.storage.createBucket("bucket-a")
    }

    @Test func aCancelledDownloadLeavesNeitherTheFileNorATemporary() async throws {
        let bytes = LocalFixture.random(8 << 20)
        _ = try await fixture.storage.upload(from: try fixture.file(bytes), bucket: "bucket-a", key: "big.bin", options: PutOptions())
        let gate = Gate()
        var storage = fixture.storage
        storage.progressHook = { gate.hold($0) }
        let destination = fixture.base.appendingPathComponent("out/big.bin")
        let task = Task { [storage] in try await storage.download(bucket: "bucket-a", key: "big.bin", to: destination) }
        try await gate.waitUntilHeld()
        // Mid-way: the bytes so far are in a temporary file, never under the real name.
        let temporaries = fixture.temporaries(under: destination.deletingLastPathComponent())
        #expect(temporaries.count == 1)
        #expect(!fixture.exists(destination.path))
        task.cancel()
        gate.release()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(!fixture.exists(destination.path))
        #expect(fixture.temporaries(under: fixture.base).isEmpty)
    }

    @Test func aWriteInFlightHoldsItsTemporaryFileAgainstASweep() async throws {
        let gate = Gate()
        var storage = fixture.storage
        storage.progressHook = { gate.hold($0) }
        let source = try fixture.file(LocalFixture.random(3 << 20))
        let task = Task { [storage] in try await storage.upload(from: source, bucket: "bucket-a", key: "d/big.bin", options: PutOptions()) }
        try await gate.waitUntilHeld()
        let folder = URL(fileURLWithPath: fixture.path("bucket-a", "d"))
        #expect(fixture.temporaries(under: folder).count == 1)
        #expect(fixture.temporaries(under: folder).allSatisfy { ($0 as NSString).lastPathComponent.hasPrefix(".bucketflow-tmp-\(getpid())-") })
        // Locked by this live writer: not swept, even with no age limit.
        #expect(try TemporaryFiles.sweep(directory: folder, recursive: true, olderThan: .zero).isEmpty)
        gate.release()
        _ = try await task.value
        #expect(fixture.temporaries(under: fixture.base).isEmpty)
        #expect(FileManager.default.contents(atPath: fixture.path("bucket-a", "d/big.bin"))?.count == 3 << 20)
    }

    @Test func aDownloadSweepsLeftoversInItsDestinationFolder() async throws {
        try await fixture.put("a.txt", "hello")
        let folder = fixture.base.appendingPathComponent("out-sweep")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let leftover = folder.appendingPathComponent(".bucketflow-tmp-1-killed").path
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("partial".utf8)))
        _ = try await fixture.storage.download(bucket: "bucket-a", key: "a.txt", to: folder.appendingPathComponent("a.txt"))
        #expect(!fixture.exists(leftover))
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("a.txt").path) == Data("hello".utf8))
    }

    @Test func aCompletedDownloadIsWhole() async throws {
        let bytes = LocalFixture.random(3 << 20 + 17)
        _ = try await fixture.storage.upload(from: try fixture.file(bytes), bucket: "bucket-a", key: "big.bin", options: PutOptions())
        let destination = fixture.base.appendingPathComponent("out/big.bin")
        let stored = try await fixture.storage.head(bucket: "bucket-a", key: "big.bin").checksums["sha256"]
        let result = try await fixture.storage.download(bucket: "bucket-a", key: "big.bin", to: destination)
        #expect(result.bytes == Int64(bytes.count))
        #expect(try Data(contentsOf: destination) == Data(bytes))
        #expect(stored != nil)
        #expect(result.checksums["sha256"] == stored, "verified against the cached checksum")
    }

    @Test func anUploadInFlightIsInvisibleAndACancelledOneLeavesNothing() async throws {
        try await fixture.put("data/old.txt", "old")
        let gate = Gate()
        var storage = fixture.storage
        storage.progressHook = { gate.hold($0) }
        let source = try fixture.file(LocalFixture.random(4 << 20))
        let task = Task { [storage] in try await storage.upload(from: source, bucket: "bucket-a", key: "data/new.bin", options: PutOptions()) }
        try await gate.waitUntilHeld()
        #expect(fixture.temporaries(under: fixture.root).count == 1)
        #expect(try await fixture.storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["data/old.txt"])
        #expect(try await fixture.storage.headIfExists(bucket: "bucket-a", key: "data/new.bin") == nil)
        task.cancel()
        gate.release()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(fixture.temporaries(under: fixture.root).isEmpty)
        #expect(try await fixture.storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["data/old.txt"])
    }

    @Test func aCancelledCopyOverAnObjectKeepsTheOldOne() async throws {
        _ = try await fixture.storage.upload(from: try fixture.file(LocalFixture.random(4 << 20)), bucket: "bucket-a", key: "src.bin", options: PutOptions())
        try await fixture.put("dst.txt", "hello")
        let gate = Gate()
        var storage = fixture.storage
        storage.progressHook = { gate.hold($0) }
        let task = Task { [storage] in try await storage.copy(fromBucket: "bucket-a", fromKey: "src.bin", toBucket: "bucket-a", toKey: "dst.txt") }
        try await gate.waitUntilHeld()
        task.cancel()
        gate.release()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(try String(contentsOfFile: fixture.path("bucket-a", "dst.txt"), encoding: .utf8) == "hello")
        #expect(fixture.temporaries(under: fixture.root).isEmpty)
    }

    @Test func aCancelledUploadFromAStalledPipeStops() async throws {
        // A named pipe as the source keeps the transfer in flight for as long as the test wants.
        let fifo = fixture.base.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let writer = open(fifo.path, O_RDWR)
        defer { close(writer) }
        let chunk = [UInt8](repeating: 1, count: 4096)
        _ = write(writer, chunk, chunk.count)
        let storage = fixture.storage
        let task = Task { try await storage.upload(from: fifo, bucket: "bucket-a", key: "partial.bin", options: PutOptions()) }
        let bucket = fixture.root.appendingPathComponent("bucket-a")
        for _ in 0..<2000 where fixture.temporaries(under: bucket).isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(fixture.temporaries(under: bucket).count == 1)
        task.cancel()
        // Feed the pipe so the blocked read returns and sees the cancellation.
        let feeder = Task.detached {
            for _ in 0..<500 where !Task.isCancelled {
                _ = write(writer, chunk, chunk.count)
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        feeder.cancel()
        _ = await feeder.value
        #expect(try FileManager.default.contentsOfDirectory(atPath: bucket.path).isEmpty)
    }

    @Test func concurrentWritesToOneFolderAllLand() async throws {
        let storage = fixture.storage
        let source = try fixture.file("hello")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask { _ = try await storage.upload(from: source, bucket: "bucket-a", key: "shared/\(index).txt", options: PutOptions()) }
            }
            try await group.waitForAll()
        }
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "shared/").count == 40)
        #expect(fixture.temporaries(under: fixture.root).isEmpty)
    }
}
