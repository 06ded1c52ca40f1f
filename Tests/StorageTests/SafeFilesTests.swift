import Foundation
import Synchronization
import Testing
@testable import Storage

/// A scratch directory with an `outside` folder (holding `secret.txt` and
/// `dir/inner.txt`) that nothing may change; removed at the end.
final class Scratch: Sendable {
    let base: String
    var outside: String { base + "/outside" }

    init() throws {
        base = FileManager.default.temporaryDirectory.path + "/bucketflow-safe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base + "/outside/dir", withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: base + "/outside/secret.txt"))
        try Data("inner".utf8).write(to: URL(fileURLWithPath: base + "/outside/dir/inner.txt"))
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: base + "/" + relative, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: base + "/" + relative))
    }

    func link(_ relative: String, to target: String) {
        #expect(symlink(target, base + "/" + relative) == 0)
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: base + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }
}

struct DataAreaSymlinkTests {
    let scratch: Scratch
    let area: DataArea

    init() throws {
        scratch = try Scratch()
        try scratch.mkdir("data/ana/creds")
        try scratch.write("data/ana/creds/credentials.json", "{}")
        scratch.link("data/team", to: scratch.outside)                            // a namespace
        scratch.link("data/ana/linked", to: scratch.outside)                      // a folder
        scratch.link("data/ana/creds/key.json", to: scratch.outside + "/secret.txt")  // a file
        area = DataArea(root: URL(fileURLWithPath: scratch.base + "/data"), userName: "ana")
    }

    @Test(arguments: ["team/secret.txt", "team/", "team/dir/inner.txt", ".my/linked/secret.txt", ".my/linked/new/file", ".my/creds/key.json", "ana/creds/key.json"])
    func resolveRefusesLinksBelowTheRoot(path: String) async throws {
        let before = snapshot(scratch.outside)
        await expectUnsafe("resolve \(path)") { _ = try area.resolve(path) }
        await expectUnsafe("contents \(path)") { _ = try area.contents(of: path) }
        #expect(snapshot(scratch.outside) == before)
    }

    @Test func realFilesAndMissingOnesStillResolve() throws {
        #expect(try area.resolve(".my/creds/credentials.json").path == scratch.base + "/data/ana/creds/credentials.json")
        #expect(try area.resolve(".my/not/yet/there.csv").path == scratch.base + "/data/ana/not/yet/there.csv")
        #expect(try area.contents(of: ".my/creds/credentials.json") == Array("{}".utf8))
    }

    @Test func theDataRootItselfMayBeALink() throws {
        scratch.link("data-link", to: scratch.base + "/data")
        let viaLink = DataArea(root: URL(fileURLWithPath: scratch.base + "/data-link"), userName: "ana")
        #expect(try viaLink.contents(of: ".my/creds/credentials.json") == Array("{}".utf8))
    }
}

struct BeneathDirectoryTests {
    let scratch: Scratch

    init() throws {
        scratch = try Scratch()
        try scratch.mkdir("dest/real")
        scratch.link("dest/a", to: scratch.outside)
        scratch.link("dest/real/f.txt", to: scratch.outside + "/secret.txt")
    }

    @Test(arguments: ["a/secret.txt", "a/b/c", "a/dir/inner.txt", "a/new.txt", "real/f.txt"])
    func neverWritesThroughALink(relative: String) async throws {
        let before = snapshot(scratch.outside)
        let destination = try BeneathDirectory(path: scratch.base + "/dest")
        await expectUnsafe("prepare \(relative)") { _ = try destination.prepare(relativePath: relative) }
        await expectUnsafe("temporaryFile \(relative)") { _ = try destination.temporaryFile(for: relative) }
        #expect(snapshot(scratch.outside) == before)
    }

    @Test func writesBelowCreatingFolders() throws {
        let destination = try BeneathDirectory(path: scratch.base + "/dest/new", create: true)
        let url = try destination.prepare(relativePath: "x/y/z.txt")
        #expect(url.path == scratch.base + "/dest/new/x/y/z.txt")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: scratch.base + "/dest/new/x/y", isDirectory: &isDirectory) && isDirectory.boolValue)

        let temporary = try destination.temporaryFile(for: "p/q.txt")
        #expect(temporary.name.hasPrefix(".bucketflow-tmp-\(getpid())-"))
        #expect(write(temporary.fd, "payload", 7) == 7)
        // Held by this writer: a sweep leaves it alone.
        #expect(try TemporaryFiles.sweep(directory: URL(fileURLWithPath: scratch.base + "/dest/new/p")).isEmpty)
        try destination.commit(temporary)
        #expect(scratch.read("dest/new/p/q.txt") == "payload")
        #expect((try FileManager.default.contentsOfDirectory(atPath: scratch.base + "/dest/new/p")) == ["q.txt"])

        let dropped = try destination.temporaryFile(for: "p/r.txt")
        dropped.discard()
        #expect((try FileManager.default.contentsOfDirectory(atPath: scratch.base + "/dest/new/p")) == ["q.txt"])
    }

    @Test func theDestinationItselfMayBeALink() throws {
        scratch.link("dest-link", to: scratch.base + "/dest/real")
        let destination = try BeneathDirectory(path: scratch.base + "/dest-link")
        let temporary = try destination.temporaryFile(for: "ok.txt")
        try destination.commit(temporary)
        #expect(scratch.read("dest/real/ok.txt") == "")
    }

    @Test(arguments: ["", "/abs", "a//b", "./a", "a/./b", "a/..", "../x", "a/\0b", "..", "."])
    func unsafeRelativePathsAreRefused(path: String) {
        #expect(throws: StorageError.self) { try BeneathDirectory.validateRelativeKeyPath(path) }
    }

    @Test(arguments: ["a", "a/b/c.txt", "dir/", "a..b/c", ".hidden/x", "ü/\u{301}x"])
    func ordinaryRelativePathsPass(path: String) throws {
        try BeneathDirectory.validateRelativeKeyPath(path)
    }
}

struct TemporaryFilesTests {
    let scratch: Scratch

    init() throws {
        scratch = try Scratch()
        try scratch.mkdir("dest/sub")
    }

    var dest: URL { URL(fileURLWithPath: scratch.base + "/dest") }

    /// A `python3` that opens, locks and fills a temporary file, says
    /// "ready", then waits to be killed.
    func lockingWriter(_ path: String) throws -> (Process, FileHandle) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import os, sys, fcntl, time
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, b"x" * 100000)
            print("ready", flush=True)
            time.sleep(120)
            """,
            path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        return (process, pipe.fileHandleForReading)
    }

    @Test func aKilledWritersFileIsSweptALiveOnesIsNot() throws {
        let path = dest.path + "/sub/" + TemporaryFiles.prefix + "99999-abc"
        let (process, output) = try lockingWriter(path)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let line = String(decoding: output.readData(ofLength: 6), as: UTF8.self)
        #expect(line.hasPrefix("ready"))
        // Alive and holding the lock: kept, by a plain and a recursive sweep.
        #expect(try TemporaryFiles.sweep(directory: dest.appendingPathComponent("sub")).isEmpty)
        #expect(try TemporaryFiles.sweep(directory: dest, recursive: true, olderThan: .zero).isEmpty)
        #expect(FileManager.default.fileExists(atPath: path))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        // Dead: its lock went with it.
        #expect(try TemporaryFiles.sweep(directory: dest, recursive: false).isEmpty)  // not recursive: sub is not looked at
        #expect(try TemporaryFiles.sweep(directory: dest, recursive: true).map(\.path) == [path])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func anUnlockedLeftoverIsSweptAndOtherFilesStay() throws {
        try scratch.write("dest/.bucketflow-tmp-1-dead", "partial")
        try scratch.write("dest/keep.txt", "keep")
        try scratch.write("dest/.bucketflow-tmp-2-fresh", "")  // empty and new: its writer may not have locked it yet
        scratch.link("dest/.bucketflow-tmp-3-link", to: scratch.outside + "/secret.txt")
        scratch.link("dest/linked", to: scratch.outside)
        try scratch.write("outside/.bucketflow-tmp-4-outside", "not ours to sweep")
        let before = snapshot(scratch.outside)
        let removed = try TemporaryFiles.sweep(directory: dest, recursive: true)
        #expect(removed.map(\.lastPathComponent) == [".bucketflow-tmp-1-dead"])
        #expect(scratch.read("dest/keep.txt") == "keep")
        #expect(scratch.read("dest/.bucketflow-tmp-2-fresh") == "")
        #expect(snapshot(scratch.outside) == before)
    }

    @Test func aLeftoverOfAWriterThatDoesNotLockGoesOnlyWhenStale() throws {
        // Named without a pid (an older build, or a writer that does not lock): age decides.
        try scratch.write("dest/.bucketflow-tmp-k3j2h1", "in flight?")
        #expect(try TemporaryFiles.sweep(directory: dest).isEmpty)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -601)], ofItemAtPath: scratch.base + "/dest/.bucketflow-tmp-k3j2h1")
        #expect(try TemporaryFiles.sweep(directory: dest).map(\.lastPathComponent) == [".bucketflow-tmp-k3j2h1"])
    }

    @Test func namesCarryThePid() {
        let name = TemporaryFiles.makeName()
        #expect(name.hasPrefix(".bucketflow-tmp-\(getpid())-"))
        #expect(TemporaryFiles.isTemporaryName(name.utf8))
        #expect(name != TemporaryFiles.makeName())
    }

    @Test func createMakesALockedFile() throws {
        let (fd, path) = try TemporaryFiles.create(inDirectory: dest.path)
        defer { close(fd) }
        #expect(path.hasPrefix(dest.path + "/.bucketflow-tmp-"))
        #expect(write(fd, "x", 1) == 1)
        #expect(try TemporaryFiles.sweep(directory: dest).isEmpty)
        let other = open(path, O_RDONLY)
        defer { close(other) }
        #expect(flock(other, LOCK_EX | LOCK_NB) != 0)
    }

    @Test func theLocalProviderSweepsAFolderBeforeWritingIntoIt() async throws {
        let fixture = try LocalFixture()
        try await fixture.storage.createBucket("bucket-a")
        try fixture.place("dir/old.txt", "old")
        let leftover = fixture.path("bucket-a", "dir/.bucketflow-tmp-77-dead")
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("half an object".utf8)))
        try await fixture.put("dir/new.txt", "new")
        #expect(!fixture.exists(leftover))
        #expect(fixture.temporaries(under: fixture.root).isEmpty)
    }
}

/// Counts the bytes a hash reported and holds it at a threshold until released.
final class HashProbe: Sendable {
    let hashed = Atomic<Int64>(0)
    let held = Atomic<Bool>(false)
    private let semaphore = DispatchSemaphore(value: 0)
    let threshold: Int64

    init(threshold: Int64) { self.threshold = threshold }

    func progress(_ bytes: Int64) {
        hashed.store(bytes, ordering: .sequentiallyConsistent)
        if bytes >= threshold, held.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            semaphore.wait()
        }
    }

    func release() { semaphore.signal() }
}

struct HashCancellationTests {
    @Test func cancellingAHashOfALargeSparseFileStopsWithinAChunk() async throws {
        let scratch = try Scratch()
        let path = scratch.base + "/sparse"
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(fd, 2 << 30) == 0)  // 2 GiB, no blocks
        close(fd)
        let probe = HashProbe(threshold: 8 << 20)
        let task = Task {
            try await BlockingIO.run { flag in
                try FileHash.sha256(ofFileAt: path, cancellation: flag, progress: { probe.progress($0) })
            }
        }
        for _ in 0..<5000 where !probe.held.load(ordering: .sequentiallyConsistent) {
            try await Task.sleep(for: .milliseconds(2))
        }
        let held = probe.held.load(ordering: .sequentiallyConsistent)
        #expect(held)
        task.cancel()  // the handler raises the flag the hashing thread checks
        probe.release()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        // Stopped at the next chunk boundary, not after 2 GiB.
        let hashed = probe.hashed.load(ordering: .sequentiallyConsistent)
        #expect(hashed >= 8 << 20)
        #expect(hashed <= (8 << 20) + Int64(LocalStorage.chunkSize))
    }

    /// The async form raises the same flag from its task's cancellation
    /// handler (mid-flight cancellation is shown above through the same
    /// ``BlockingIO``; wall-clock timing is not asserted: the test pool may
    /// be starved by other tests on this 2-core machine).
    @Test func theAsyncHashIsCancelledByItsTask() async throws {
        let scratch = try Scratch()
        let path = scratch.base + "/sparse"
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(fd, 8 << 30) == 0)
        close(fd)
        let task = Task { try await FileHash.sha256(ofFileAt: path) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func aSmallFileHashesToItsDigest() throws {
        let scratch = try Scratch()
        try scratch.write("hello", "hello")
        #expect(try FileHash.sha256(ofFileAt: scratch.base + "/hello", cancellation: nil) == LocalFixture.sha256("hello"))
    }
}
