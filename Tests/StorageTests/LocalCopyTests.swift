import Foundation
import Testing
@testable import Storage

/// How the local provider moves bytes: the kernel copies them
/// (`copy_file_range`, with a `read`/`write` fallback) and hashes nothing
/// unless a checksum is needed; `fsync` follows ``Durability``.
///
/// Serialized: the durability tests count the process's flushes and one
/// switches the process-wide policy.
@Suite(.serialized) struct LocalCopyTests {
    let fixture: LocalFixture

    init() async throws {
        fixture = try LocalFixture()
        try await fixture.storage.createBucket("bucket-a")
    }

    // MARK: Copy paths

    @Test(arguments: [true, false]) func kernelAndUserSpaceCopiesAreWhole(kernel: Bool) async throws {
        var storage = fixture.storage
        storage.kernelCopy = kernel
        // More than one kernel chunk and one user-space chunk, and not a multiple of either.
        let bytes = LocalFixture.random(LocalStorage.kernelChunkSize + LocalStorage.chunkSize + 5)
        let upload = try await storage.upload(from: try fixture.file(bytes), bucket: "bucket-a", key: "a.bin", options: PutOptions())
        #expect(upload.bytes == Int64(bytes.count))
        #expect(upload.checksums.isEmpty, "a plain copy hashes nothing")
        #expect(FileManager.default.contents(atPath: fixture.path("bucket-a", "a.bin")) == Data(bytes))

        let copy = try await storage.copy(fromBucket: "bucket-a", fromKey: "a.bin", toBucket: "bucket-a", toKey: "b/c.bin")
        #expect(copy.bytes == Int64(bytes.count))
        #expect(FileManager.default.contents(atPath: fixture.path("bucket-a", "b/c.bin")) == Data(bytes))

        let destination = fixture.base.appendingPathComponent("out/a.bin")
        let download = try await storage.download(bucket: "bucket-a", key: "a.bin", to: destination)
        #expect(download.bytes == Int64(bytes.count))
        #expect(try Data(contentsOf: destination) == Data(bytes))
        #expect(fixture.temporaries(under: fixture.base).isEmpty)
    }

    @Test func aSourceTheKernelCannotCopyFallsBackToReadAndWrite() throws {
        // copy_file_range refuses a pipe (EINVAL): everything goes through read/write.
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        let bytes = LocalFixture.random(40_000)
        #expect(bytes.withUnsafeBytes { write(pipeEnds[1], $0.baseAddress, $0.count) } == bytes.count)
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        let url = try fixture.file([])
        let output = open(url.path, O_WRONLY | O_CLOEXEC)
        #expect(output >= 0)
        defer { close(output) }
        let copied = try LocalStorage.kernelCopy(pipeEnds[0], output, sourcePath: "pipe", shownTemporary: url.path, cancellation: CancellationFlag(), progress: nil)
        #expect(copied == Int64(bytes.count))
        #expect(FileManager.default.contents(atPath: url.path) == Data(bytes))
    }

    @Test func aCopyAcrossFileSystemsIsWhole() async throws {
        // The root on tmpfs (/dev/shm), the source on the disk: the kernel
        // copies across them or refuses with EXDEV and read/write takes over.
        let memory = try LocalFixture(inMemory: true)
        try await memory.storage.createBucket("bucket-m")
        let bytes = LocalFixture.random(3 << 20 + 3)
        let source = try fixture.file(bytes)
        _ = try await memory.storage.upload(from: source, bucket: "bucket-m", key: "x.bin", options: PutOptions())
        #expect(FileManager.default.contents(atPath: memory.path("bucket-m", "x.bin")) == Data(bytes))
        let back = fixture.base.appendingPathComponent("back/x.bin")
        _ = try await memory.storage.download(bucket: "bucket-m", key: "x.bin", to: back)
        #expect(try Data(contentsOf: back) == Data(bytes))
    }

    // MARK: Checksums, computed when needed

    @Test func aPlainUploadIsHashedOnlyWhenAChecksumIsAskedFor() async throws {
        try await fixture.put("k.txt", "hello")
        let path = fixture.path("bucket-a", "k.txt")
        #expect(LocalStorage.Attributes.get(path, LocalStorage.Attributes.sha256) == nil)
        #expect(LocalStorage.Attributes.list(path).isEmpty, "the guessed content type is not stored either")
        let info = try await fixture.storage.head(bucket: "bucket-a", key: "k.txt")
        #expect(info.checksums["sha256"] == LocalFixture.sha256("hello"))
        #expect(info.contentType == "text/plain")
        #expect(LocalStorage.Attributes.get(path, LocalStorage.Attributes.sha256)?.hasPrefix(LocalFixture.sha256("hello") + " 5 ") == true, "cached once computed")
    }

    @Test func anUploadThatRecordsAChecksumIsHashedAndStamped() async throws {
        let sha = LocalFixture.sha256("hello")
        let result = try await fixture.put("k.txt", "hello", options: PutOptions(metadata: ["sha256": sha]))
        #expect(result.checksums == ["sha256": sha])
        #expect(LocalStorage.Attributes.get(fixture.path("bucket-a", "k.txt"), LocalStorage.Attributes.sha256)?.hasPrefix(sha + " 5 ") == true)
        let listed = try await fixture.storage.listPage(bucket: "bucket-a", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
        #expect(listed.objects.first?.checksums == ["sha256": sha])
    }

    @Test func aCopyCarriesTheSourceStampOnlyWhileItHolds() async throws {
        let sha = LocalFixture.sha256("hello")
        try await fixture.put("a.txt", "hello", options: PutOptions(metadata: ["sha256": sha]))
        let copied = try await fixture.storage.copy(fromBucket: "bucket-a", fromKey: "a.txt", toBucket: "bucket-a", toKey: "b.txt")
        #expect(copied.checksums == ["sha256": sha])
        #expect(LocalStorage.Attributes.get(fixture.path("bucket-a", "b.txt"), LocalStorage.Attributes.sha256)?.hasPrefix(sha + " 5 ") == true)

        // Changed in place (new mtime): the source's stamp no longer holds, and neither the
        // stamp nor the recorded metadata checksum travels or counts.
        try Data("jello".utf8).write(to: URL(fileURLWithPath: fixture.path("bucket-a", "a.txt")))
        let recopied = try await fixture.storage.copy(fromBucket: "bucket-a", fromKey: "a.txt", toBucket: "bucket-a", toKey: "c.txt")
        #expect(recopied.checksums.isEmpty)
        #expect(LocalStorage.Attributes.get(fixture.path("bucket-a", "c.txt"), LocalStorage.Attributes.sha256) == nil)
        let listed = try await fixture.storage.listPage(bucket: "bucket-a", prefix: "c", delimiter: nil, continuationToken: nil, maxKeys: 10)
        #expect(listed.objects.first?.checksums == [:])
        #expect(listed.objects.first?.metadata["sha256"] == nil, "a stale recorded checksum is not shown")
        #expect(try await fixture.storage.head(bucket: "bucket-a", key: "c.txt").checksums["sha256"] == "187c9bceeb919e1b3e6d20fa50ecabf7d9d50b5343e8f9a3d912abb13929102e", "SHA-256 of jello")
    }

    // MARK: Durability

    @Test func powerLossDurabilityFlushesEveryWrite() async throws {
        var storage = fixture.storage
        storage.durability = .powerLoss
        let before = Durability.flushes
        _ = try await storage.upload(from: try fixture.file("one"), bucket: "bucket-a", key: "1.txt", options: PutOptions())
        _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "1.txt", toBucket: "bucket-a", toKey: "2.txt")
        _ = try await storage.download(bucket: "bucket-a", key: "1.txt", to: fixture.base.appendingPathComponent("out/1.txt"))
        #expect(Durability.flushes - before == 3)
    }

    @Test func processCrashDurabilityNeverFlushes() async throws {
        var storage = fixture.storage
        storage.durability = .processCrash
        let before = Durability.flushes
        _ = try await storage.upload(from: try fixture.file("one"), bucket: "bucket-a", key: "1.txt", options: PutOptions())
        _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "1.txt", toBucket: "bucket-a", toKey: "2.txt")
        _ = try await storage.download(bucket: "bucket-a", key: "1.txt", to: fixture.base.appendingPathComponent("out/1.txt"))
        #expect(Durability.flushes == before)
        #expect(FileManager.default.contents(atPath: fixture.path("bucket-a", "2.txt")) == Data("one".utf8))
    }

    @Test func theProcessWidePolicyAppliesWhereNoneIsSet() async throws {
        #expect(Durability.policy == .processCrash, "the default")
        Durability.policy = .powerLoss
        defer { Durability.policy = .processCrash }
        let before = Durability.flushes
        _ = try await fixture.storage.upload(from: try fixture.file("one"), bucket: "bucket-a", key: "1.txt", options: PutOptions())
        let destination = try BeneathDirectory(path: fixture.base.appendingPathComponent("beneath").path, create: true)
        let temporary = try destination.temporaryFile(for: "a/b.txt")
        #expect(write(temporary.fd, "x", 1) == 1)
        try destination.commit(temporary)
        #expect(Durability.flushes - before >= 2)
    }
}
