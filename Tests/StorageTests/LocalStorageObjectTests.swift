import Foundation
import Testing
@testable import Storage

/// Objects as files: upload, head, read, download, copy, delete, and the
/// errors a user sees.
struct LocalStorageObjectTests {
    let fixture: LocalFixture
    var storage: LocalStorage { fixture.storage }

    init() async throws {
        fixture = try LocalFixture()
        try await fixture.storage.createBucket("bucket-a")
    }

    // MARK: Upload and head

    @Test func uploadStoresBytesTypeMetadataAndChecksum() async throws {
        let result = try await fixture.put("dir/report.txt", "hello", options: PutOptions(contentType: "text/x-test", metadata: ["Owner": "team", "run": "42"]))
        // The kernel copied the bytes: nothing was hashed, so the result carries no checksum.
        #expect(result == TransferResult(key: "dir/report.txt", bytes: 5))
        #expect(try String(contentsOfFile: fixture.path("bucket-a", "dir/report.txt"), encoding: .utf8) == "hello")
        let info = try await storage.head(bucket: "bucket-a", key: "dir/report.txt")
        #expect(info.key == "dir/report.txt")
        #expect(info.size == 5)
        #expect(info.contentType == "text/x-test")
        #expect(info.metadata == ["owner": "team", "run": "42"])
        #expect(info.checksums == ["sha256": LocalFixture.sha256("hello")])
        #expect(info.etag == LocalFixture.sha256("hello"))
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.path("bucket-a", "dir/report.txt"))
        let modified = try #require(attributes[.modificationDate] as? Date)
        #expect(abs(try #require(info.lastModified).timeIntervalSince(modified)) < 0.001)
    }

    @Test func theChecksumCacheIsStampedWithSizeAndMtime() async throws {
        try await fixture.put("k.txt", "hello", options: PutOptions(metadata: ["sha256": LocalFixture.sha256("hello")]))
        let path = fixture.path("bucket-a", "k.txt")
        var st = stat()
        #expect(stat(path, &st) == 0)
        let nanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #expect(LocalStorage.Attributes.get(path, "user.bucketflow.sha256") == "\(LocalFixture.sha256("hello")) 5 \(nanoseconds)")
    }

    @Test func aStaleCachedChecksumIsNotTrusted() async throws {
        try await fixture.put("k.txt", "hello")
        _ = try await storage.head(bucket: "bucket-a", key: "k.txt")  // computes and caches it
        let path = fixture.path("bucket-a", "k.txt")
        // Rewritten in place behind the provider's back: size and mtime change.
        try Data("hello, world".utf8).write(to: URL(fileURLWithPath: path))
        let info = try await storage.head(bucket: "bucket-a", key: "k.txt")
        #expect(info.size == 12)
        #expect(info.checksums["sha256"] == "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b", "recomputed, not the cached value of 'hello'")
    }

    @Test func headComputesAndCachesTheChecksumOfAFilePutThereByHand() async throws {
        let path = fixture.path("bucket-a", "by-hand.txt")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        #expect(LocalStorage.Attributes.get(path, "user.bucketflow.sha256") == nil)
        let info = try await storage.head(bucket: "bucket-a", key: "by-hand.txt")
        #expect(info.checksums == ["sha256": LocalFixture.sha256("hello")])
        #expect(LocalStorage.Attributes.get(path, "user.bucketflow.sha256")?.hasPrefix(LocalFixture.sha256("hello") + " 5 ") == true)
        // A listing reports the cached value without reading the file.
        let listed = try await storage.listAll(bucket: "bucket-a", prefix: "")
        #expect(listed.first?.checksums == ["sha256": LocalFixture.sha256("hello")])
    }

    @Test func aListingReportsNoChecksumItWouldHaveToCompute() async throws {
        let path = fixture.path("bucket-a", "by-hand.txt")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        let listed = try await storage.listAll(bucket: "bucket-a", prefix: "")
        #expect(listed.map(\.key) == ["by-hand.txt"])
        #expect(listed[0].checksums.isEmpty && listed[0].etag == nil)
    }

    @Test(arguments: [
        ("a.csv", "text/csv"), ("a.json", "application/json"), ("a.txt", "text/plain"), ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"), ("a.gif", "image/gif"), ("a.html", "text/html"), ("a.xml", "application/xml"),
        ("a.pdf", "application/pdf"), ("a.zip", "application/zip"), ("a.gz", "application/gzip"),
        ("a.parquet", "application/vnd.apache.parquet"), ("A.CSV", "text/csv"), ("a.bin", "application/octet-stream"),
        ("noextension", "application/octet-stream"), ("dir.v2/file", "application/octet-stream"),
    ])
    func contentTypeIsGuessedFromTheExtension(key: String, type: String) async throws {
        // Put there by hand: no stored type.
        let path = fixture.path("bucket-a", key)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(try await storage.head(bucket: "bucket-a", key: key).contentType == type)
        // Uploaded without a type: the guess is reported, as an S3 client would have sent it,
        // without an attribute write (the guess is made again on every read).
        try await fixture.put("up/" + key)
        #expect(LocalStorage.Attributes.get(fixture.path("bucket-a", "up/" + key), "user.bucketflow.content-type") == nil)
        #expect(try await storage.head(bucket: "bucket-a", key: "up/" + key).contentType == type)
    }

    @Test func anOverwriteReplacesContentAndMetadata() async throws {
        try await fixture.put("k.txt", "hello", options: PutOptions(contentType: "text/x-old", metadata: ["old": "1"]))
        try await fixture.put("k.txt", "", options: PutOptions(metadata: ["new": "2"]))
        let info = try await storage.head(bucket: "bucket-a", key: "k.txt")
        #expect(info.size == 0)
        #expect(info.metadata == ["new": "2"])
        #expect(info.contentType == "text/plain")
        #expect(info.checksums["sha256"] == LocalFixture.sha256(""))
    }

    @Test func longMetadataValuesSurvive() async throws {
        let long = String(repeating: "v", count: 1800)
        try await fixture.put("k.txt", options: PutOptions(metadata: ["note": long]))
        #expect(try await storage.head(bucket: "bucket-a", key: "k.txt").metadata["note"] == long)
    }

    @Test(arguments: ["ünï code & +.txt", "with space/and more spaces.csv", "日本/データ.json", "emoji/🚀.bin", "e\u{301}.txt", "%20?#[]=:;'!.txt"])
    func unicodeAndPunctuationKeysRoundTrip(key: String) async throws {
        let result = try await fixture.put(key, "hello")
        #expect(result.bytes == 5)
        #expect(fixture.exists(fixture.path("bucket-a", key)))
        #expect(try await storage.head(bucket: "bucket-a", key: key).size == 5)
        #expect(try await fixture.collect(storage.read(bucket: "bucket-a", key: key, range: nil)) == Array("hello".utf8))
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == [key])
        let destination = fixture.base.appendingPathComponent("out").appendingPathComponent(key)
        _ = try await storage.download(bucket: "bucket-a", key: key, to: destination)
        #expect(try Data(contentsOf: destination) == Data("hello".utf8))
        #expect(try await storage.delete(bucket: "bucket-a", keys: [key]).isEmpty)
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").isEmpty)
    }

    @Test func aCombiningMarkAfterASlashIsJustASegment() async throws {
        // "/\u{301}" is one Character but two path segments: validation works on bytes.
        try await fixture.put("a/\u{301}", "hello")
        #expect(fixture.exists(fixture.path("bucket-a", "a/\u{301}")))
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "a/").map(\.key) == ["a/\u{301}"])
        _ = try await storage.delete(bucket: "bucket-a", keys: ["a/\u{301}"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path + "/bucket-a").isEmpty, "emptied parents go too")
    }

    @Test func composedAndDecomposedKeysAreDifferentObjects() async throws {
        // As in S3, keys are bytes: NFC "é" and NFD "e\u{301}" are two objects.
        try await fixture.put("\u{e9}.txt", "hello")
        try await fixture.put("e\u{301}.txt", "")
        let keys = try await storage.listAll(bucket: "bucket-a", prefix: "").map { Array($0.key.utf8) }
        #expect(keys == [Array("e\u{301}.txt".utf8), Array("\u{e9}.txt".utf8)])
        #expect(try await storage.head(bucket: "bucket-a", key: "\u{e9}.txt").size == 5)
        #expect(try await storage.head(bucket: "bucket-a", key: "e\u{301}.txt").size == 0)
    }

    // MARK: Errors

    @Test func aMissingBucketIsNamed() async throws {
        let expected = StorageError(.noSuchBucket, "bucket \"nope-bucket\" does not exist in \(fixture.root.path)", hint: "create it first with a create-bucket step")
        let source = try fixture.file("x")
        await #expect(throws: expected) { _ = try await storage.head(bucket: "nope-bucket", key: "k") }
        await #expect(throws: expected) { _ = try await storage.read(bucket: "nope-bucket", key: "k", range: nil) }
        await #expect(throws: expected) { _ = try await storage.upload(from: source, bucket: "nope-bucket", key: "k", options: PutOptions()) }
        await #expect(throws: expected) { _ = try await storage.download(bucket: "nope-bucket", key: "k", to: fixture.base.appendingPathComponent("d")) }
        await #expect(throws: expected) { _ = try await storage.listPage(bucket: "nope-bucket", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10) }
        await #expect(throws: expected) { _ = try await storage.delete(bucket: "nope-bucket", keys: ["k"]) }
        await #expect(throws: expected) { _ = try await storage.copy(fromBucket: "nope-bucket", fromKey: "k", toBucket: "bucket-a", toKey: "k") }
        try await fixture.put("k")
        await #expect(throws: expected) { _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "k", toBucket: "nope-bucket", toKey: "k") }
        #expect(!fixture.exists(fixture.root.path + "/nope-bucket"))
    }

    @Test func aMissingKeyIsNamed() async throws {
        try await fixture.put("dir/present.txt")
        for key in ["missing.txt", "dir", "dir/", "dir/present.txt/x", "present.txt"] {
            let expected = StorageError(.noSuchKey, "bucket-a/\(key) does not exist")
            await #expect(throws: expected) { _ = try await storage.head(bucket: "bucket-a", key: key) }
            await #expect(throws: expected) { _ = try await storage.read(bucket: "bucket-a", key: key, range: nil) }
            await #expect(throws: expected) { _ = try await storage.download(bucket: "bucket-a", key: key, to: fixture.base.appendingPathComponent("d")) }
            await #expect(throws: expected) { _ = try await storage.copy(fromBucket: "bucket-a", fromKey: key, toBucket: "bucket-a", toKey: "copy") }
        }
        #expect(!fixture.exists(fixture.base.path + "/d"))
        #expect(fixture.temporaries(under: fixture.base).isEmpty)
    }

    @Test(arguments: [
        ("", "it is empty", "name an object, e.g. folder/file.csv"),
        ("/abs", "it starts with '/'", "write keys relative to the bucket, e.g. folder/file.csv"),
        ("/", "it starts with '/'", "write keys relative to the bucket, e.g. folder/file.csv"),
        ("a//b", "it has an empty segment ('//')", "the local provider stores each segment as a folder name"),
        ("a//", "it has an empty segment ('//')", "the local provider stores each segment as a folder name"),
        ("a/../b", "it has a '..' segment", "the local provider stores each segment as a folder name, and '.' and '..' are not names"),
        ("..", "it has a '..' segment", "the local provider stores each segment as a folder name, and '.' and '..' are not names"),
        ("../\u{301}", "it has a '..' segment", "the local provider stores each segment as a folder name, and '.' and '..' are not names"),
        ("./a", "it has a '.' segment", "the local provider stores each segment as a folder name, and '.' and '..' are not names"),
        ("a/./", "it has a '.' segment", "the local provider stores each segment as a folder name, and '.' and '..' are not names"),
        ("a\0b", "it contains a NUL character", nil),
        (".bucketflow-tmp-x", "'.bucketflow-tmp-' is reserved for the local provider's temporary files", nil),
        ("a/.bucketflow-tmp-y/b", "'.bucketflow-tmp-' is reserved for the local provider's temporary files", nil),
        (String(repeating: "s", count: 256), "a segment is longer than 255 bytes", "the local provider stores each segment as a file name"),
        (String(repeating: "a/", count: 513), "it is longer than 1024 bytes", nil),
    ] as [(String, String, String?)])
    func unsafeKeysAreRefusedWithTheReason(key: String, reason: String, hint: String?) async throws {
        let shown = key.replacingOccurrences(of: "\0", with: "\\0")
        let expected = StorageError(.invalidKey, "invalid key \"\(shown)\": \(reason)", hint: hint)
        await #expect(throws: expected) { try await fixture.put(key) }
        await #expect(throws: expected) { _ = try await storage.head(bucket: "bucket-a", key: key) }
        await #expect(throws: expected) { _ = try await storage.read(bucket: "bucket-a", key: key, range: nil) }
        await #expect(throws: expected) { _ = try await storage.download(bucket: "bucket-a", key: key, to: fixture.base.appendingPathComponent("d")) }
        let failures = try await storage.delete(bucket: "bucket-a", keys: [key])
        #expect(failures == [DeleteFailure(key: key, code: "InvalidKey", message: expected.description)])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path) == ["bucket-a"], "nothing written outside the bucket")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path + "/bucket-a").isEmpty)
    }

    @Test func aNameIsEitherAnObjectOrAFolder() async throws {
        try await fixture.put("a/b.txt")
        await #expect(throws: StorageError(.invalidKey, "cannot store \"a/b.txt/c\": \(fixture.path("bucket-a", "a/b.txt")) is an object, so it cannot also be a folder", hint: "on the local provider a name is either an object or a folder; delete the object or pick another key")) {
            try await fixture.put("a/b.txt/c")
        }
        await #expect(throws: StorageError(.invalidKey, "cannot store bucket-a/a: the folder a/ exists, and on the local provider a name is either an object or a folder", hint: "delete the folder's objects first or pick another key")) {
            try await fixture.put("a")
        }
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["a/b.txt"])
    }

    @Test func aMissingSourceFileIsAnIOError() async throws {
        let source = fixture.base.appendingPathComponent("nowhere.txt")
        await #expect(throws: StorageError(.io, "cannot read \(source.path): No such file or directory")) {
            _ = try await storage.upload(from: source, bucket: "bucket-a", key: "k", options: PutOptions())
        }
        await #expect(throws: StorageError(.io, "cannot read \(fixture.base.path): Is a directory")) {
            _ = try await storage.upload(from: fixture.base, bucket: "bucket-a", key: "k", options: PutOptions())
        }
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").isEmpty)
        #expect(fixture.temporaries(under: fixture.root).isEmpty)
    }

    // MARK: Read

    @Test func readStreamsChunksAndRanges() async throws {
        let bytes = LocalFixture.random(1 << 20)
        _ = try await storage.upload(from: try fixture.file(bytes), bucket: "bucket-a", key: "big.bin", options: PutOptions())
        var chunks: [Int] = []
        var all: [UInt8] = []
        for try await chunk in try await storage.read(bucket: "bucket-a", key: "big.bin", range: nil) {
            chunks.append(chunk.count)
            all += chunk
        }
        #expect(chunks == [262_144, 262_144, 262_144, 262_144])
        #expect(all == bytes)
        let middle = try await fixture.collect(storage.read(bucket: "bucket-a", key: "big.bin", range: 100_000..<400_000))
        #expect(middle == Array(bytes[100_000..<400_000]))
        let tail = try await fixture.collect(storage.read(bucket: "bucket-a", key: "big.bin", range: 1_048_000..<2_000_000))
        #expect(tail == Array(bytes[1_048_000...]), "a range past the end stops at the end")
        #expect(try await fixture.collect(storage.read(bucket: "bucket-a", key: "big.bin", range: 5..<5)).isEmpty)
        #expect(try await fixture.collect(storage.read(bucket: "bucket-a", key: "big.bin", range: 3_000_000..<3_000_010)).isEmpty)
    }

    @Test func readOfAnEmptyObjectAndAFolderMarkerYieldsNothing() async throws {
        try await fixture.put("empty.txt", "")
        try await fixture.put("folder/", "")
        #expect(try await fixture.collect(storage.read(bucket: "bucket-a", key: "empty.txt", range: nil)).isEmpty)
        #expect(try await fixture.collect(storage.read(bucket: "bucket-a", key: "folder/", range: nil)).isEmpty)
    }

    /// Descriptors of this process open on `path`.
    func openDescriptors(on path: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }.count
    }

    @Test func readClosesTheFileAtTheEndAndWhenTheStreamIsDropped() async throws {
        _ = try await storage.upload(from: try fixture.file(LocalFixture.random(600_000)), bucket: "bucket-a", key: "f.bin", options: PutOptions())
        let path = fixture.path("bucket-a", "f.bin")
        var stream: ObjectByteStream? = try await storage.read(bucket: "bucket-a", key: "f.bin", range: nil)
        #expect(openDescriptors(on: path) == 1)
        var iterator = stream!.makeAsyncIterator()
        #expect(try await iterator.next()?.count == 262_144)
        #expect(openDescriptors(on: path) == 1, "read lazily: still open after the first chunk")
        stream = nil
        iterator = ObjectByteStream { $0.finish() }.makeAsyncIterator()
        #expect(openDescriptors(on: path) == 0, "a stream dropped early closes the file")

        _ = try await fixture.collect(storage.read(bucket: "bucket-a", key: "f.bin", range: nil))
        #expect(openDescriptors(on: path) == 0, "a stream read to the end closes the file")
    }

    @Test func aCancelledReaderStopsReadingAndClosesTheFile() async throws {
        _ = try await storage.upload(from: try fixture.file(LocalFixture.random(1 << 20)), bucket: "bucket-a", key: "f.bin", options: PutOptions())
        let stream = try await storage.read(bucket: "bucket-a", key: "f.bin", range: nil)
        let task = Task {
            var count = 0
            for try await chunk in stream {
                count += chunk.count
                withUnsafeCurrentTask { $0?.cancel() }
            }
            return count
        }
        // As with any AsyncThrowingStream, a cancelled consumer sees the stream end.
        #expect(try await task.value == 262_144)
        #expect(openDescriptors(on: fixture.path("bucket-a", "f.bin")) == 0)
    }

    // MARK: Download

    @Test func downloadCreatesFoldersAndReplacesAtomically() async throws {
        try await fixture.put("k.txt", "hello")
        let destination = fixture.base.appendingPathComponent("out/deeper/k.txt")
        _ = try await storage.head(bucket: "bucket-a", key: "k.txt")  // caches the checksum, which the download then verifies and reports
        let result = try await storage.download(bucket: "bucket-a", key: "k.txt", to: destination)
        #expect(result == TransferResult(key: "k.txt", bytes: 5, checksums: ["sha256": LocalFixture.sha256("hello")], etag: LocalFixture.sha256("hello")))
        #expect(try Data(contentsOf: destination) == Data("hello".utf8))
        try await fixture.put("k.txt", "")
        _ = try await storage.download(bucket: "bucket-a", key: "k.txt", to: destination)
        #expect(try Data(contentsOf: destination).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.deletingLastPathComponent().path) == ["k.txt"])
    }

    @Test func downloadIntoAFolderIsRefused() async throws {
        try await fixture.put("dir/k.txt", "hello")
        let folder = fixture.base.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        await #expect(throws: StorageError(.io, "cannot download bucket-a/dir/k.txt to \(folder.path): it is a folder", hint: "name the file to write, e.g. \(folder.path)/k.txt")) {
            _ = try await storage.download(bucket: "bucket-a", key: "dir/k.txt", to: folder)
        }
    }

    @Test func downloadVerifiesTheCachedChecksum() async throws {
        try await fixture.put("k.txt", "hello")
        _ = try await storage.head(bucket: "bucket-a", key: "k.txt")  // computes and caches it
        let path = fixture.path("bucket-a", "k.txt")
        // Bit rot: same size, mtime restored, so the cached checksum still looks valid.
        var before = stat()
        #expect(stat(path, &before) == 0)
        try Data("jello".utf8).write(to: URL(fileURLWithPath: path))
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let destination = fixture.base.appendingPathComponent("out/k.txt")
        let rotten = "187c9bceeb919e1b3e6d20fa50ecabf7d9d50b5343e8f9a3d912abb13929102e"
        await #expect(throws: StorageError(.checksumMismatch, "bucket-a/k.txt: the bytes read have SHA-256 \(rotten), but the object's stored SHA-256 is \(LocalFixture.sha256("hello"))", hint: "the object changed while it was read, or the disk is failing; retry the transfer")) {
            _ = try await storage.download(bucket: "bucket-a", key: "k.txt", to: destination)
        }
        #expect(!fixture.exists(destination.path))
        #expect(fixture.temporaries(under: fixture.base).isEmpty)
    }

    @Test func downloadOfAFolderMarkerWritesAnEmptyFile() async throws {
        try await fixture.put("folder/", "")
        let destination = fixture.base.appendingPathComponent("marker")
        #expect(try await storage.download(bucket: "bucket-a", key: "folder/", to: destination).bytes == 0)
        #expect(try Data(contentsOf: destination).isEmpty)
    }

    // MARK: Copy

    @Test func copyKeepsTypeAndMetadataAcrossBuckets() async throws {
        try await storage.createBucket("bucket-b")
        try await fixture.put("src/a.txt", "hello", options: PutOptions(contentType: "text/x-test", metadata: ["owner": "team"]))
        _ = try await storage.head(bucket: "bucket-a", key: "src/a.txt")  // caches the checksum, which the copy carries
        let result = try await storage.copy(fromBucket: "bucket-a", fromKey: "src/a.txt", toBucket: "bucket-b", toKey: "dst/b.json")
        #expect(result == TransferResult(key: "dst/b.json", bytes: 5, checksums: ["sha256": LocalFixture.sha256("hello")], etag: LocalFixture.sha256("hello")))
        let copied = try await storage.head(bucket: "bucket-b", key: "dst/b.json")
        #expect(copied.contentType == "text/x-test")
        #expect(copied.metadata == ["owner": "team"])
        #expect(copied.checksums["sha256"] == LocalFixture.sha256("hello"))
        // Independent files: changing one leaves the other.
        try await fixture.put("src/a.txt", "")
        #expect(try await storage.head(bucket: "bucket-b", key: "dst/b.json").size == 5)
    }

    @Test func copyOfAnUntypedObjectKeepsTheTypeItReported() async throws {
        let path = fixture.path("bucket-a", "a.csv")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "a.csv", toBucket: "bucket-a", toKey: "b.json")
        #expect(try await storage.head(bucket: "bucket-a", key: "b.json").contentType == "text/csv")
    }

    @Test func copyOntoItselfKeepsTheObject() async throws {
        try await fixture.put("a.txt", "hello", options: PutOptions(metadata: ["m": "1"]))
        _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "a.txt", toBucket: "bucket-a", toKey: "a.txt")
        let info = try await storage.head(bucket: "bucket-a", key: "a.txt")
        #expect(info.size == 5 && info.metadata == ["m": "1"])
        #expect(fixture.temporaries(under: fixture.root).isEmpty)
    }

    @Test func copyOfAFolderMarkerMakesAFolder() async throws {
        try await fixture.put("folder/", "")
        _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "folder/", toBucket: "bucket-a", toKey: "other/")
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["folder/", "other/"])
    }

    // MARK: Delete

    @Test func deleteIsABatchAndMissingKeysAreFine() async throws {
        for key in ["a.txt", "b/c.txt", "b/d.txt", "e/f/g.txt"] { try await fixture.put(key) }
        let failures = try await storage.delete(bucket: "bucket-a", keys: ["a.txt", "b/c.txt", "missing.txt", "b", "e/f/g.txt/x", "nope/"])
        #expect(failures.isEmpty)
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["b/d.txt", "e/f/g.txt"])
    }

    @Test func emptiedFoldersDisappearUpToTheBucket() async throws {
        try await fixture.put("a/b/c/d.txt")
        try await fixture.put("a/keep.txt")
        _ = try await storage.delete(bucket: "bucket-a", keys: ["a/b/c/d.txt"])
        #expect(!fixture.exists(fixture.path("bucket-a", "a/b")))
        #expect(fixture.exists(fixture.path("bucket-a", "a/keep.txt")))
        _ = try await storage.delete(bucket: "bucket-a", keys: ["a/keep.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path + "/bucket-a").isEmpty)
        #expect(try await storage.bucketExists("bucket-a"), "the bucket itself stays")
    }

    // MARK: Metrics

    @Test func everyOperationCountsOneRequest() async throws {
        let metrics = TransferMetrics()
        let source = try fixture.file("hello")
        let destination = fixture.base.appendingPathComponent("d.txt")
        try await TransferMetrics.$current.withValue(metrics) {
            _ = try await storage.upload(from: source, bucket: "bucket-a", key: "k.txt", options: PutOptions())
            #expect(metrics.requests == 1)
            _ = try await storage.head(bucket: "bucket-a", key: "k.txt")
            _ = try await storage.download(bucket: "bucket-a", key: "k.txt", to: destination)
            _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "k.txt", toBucket: "bucket-a", toKey: "c.txt")
            _ = try await storage.read(bucket: "bucket-a", key: "k.txt", range: nil)
            _ = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
            _ = try await storage.delete(bucket: "bucket-a", keys: ["k.txt", "c.txt"])
            _ = try await storage.listBuckets()
            _ = try await storage.bucketExists("bucket-a")
            try await storage.createBucket("bucket-b")
            try await storage.deleteBucket("bucket-b")
        }
        #expect(metrics.requests == 11)
        #expect(metrics.retries == 0)
    }
}
