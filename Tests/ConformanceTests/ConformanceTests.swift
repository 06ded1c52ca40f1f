import Foundation
import Testing
import Storage

/// The same tests against every provider: local, S3 on moto and rclone, B2
/// native. What a provider cannot do comes from its declared capabilities.
@Suite(.serialized)
struct ConformanceTests {
    static let targets = ConformanceTarget.all

    @Test func serverTargetsAreConfiguredInCI() {
        if ConformanceTarget.inCI {
            #expect(!ConformanceTarget.s3.isEmpty, "CI is set but BUCKETFLOW_TEST_S3_SERVERS is not: start scripts/s3-test-servers")
            #expect(!ConformanceTarget.b2.isEmpty, "CI is set but BUCKETFLOW_TEST_B2_* is not: start scripts/b2-test-server")
        }
    }

    @Test(.enabled(if: ConformanceTarget.serversConfigured, "S3 or B2 test servers not configured; only local runs"))
    func everyProviderOfTheRegistryIsCovered() {
        let covered = Set(Self.targets.map(\.provider))
        #expect(covered == Set(["local", "s3", "b2"]))
    }

    @Test(arguments: targets)
    func bucketsAreCreatedListedCheckedAndDeleted(target: ConformanceTarget) async throws {
        let root = target.scratchDirectorySetting != nil ? try Scratch.makeDirectory() : nil
        defer { if let root { try? FileManager.default.removeItem(at: root) } }
        let storage = try target.make(root: root)
        defer { Task { try? await storage.shutdown() } }
        let bucket = target.bucketName()
        #expect(try await storage.bucketExists(bucket) == false)
        try await storage.createBucket(bucket)
        #expect(try await storage.bucketExists(bucket))
        #expect(try await storage.listBuckets().map(\.name).contains(bucket))
        await #expect(throws: StorageError.self) { try await storage.createBucket(bucket) }

        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        _ = try await storage.upload(from: try Scratch.write(in: scratch, "a.txt", "a"), bucket: bucket, key: "a.txt", options: PutOptions())
        do {
            try await storage.deleteBucket(bucket)
            Issue.record("a bucket holding an object was deleted")
        } catch let error as StorageError {
            #expect(error.code == .bucketNotEmpty, "\(error)")
        }
        #expect(try await storage.bucketExists(bucket))
        _ = try await storage.delete(bucket: bucket, keys: ["a.txt"])
        try await storage.deleteBucket(bucket)
        #expect(try await storage.bucketExists(bucket) == false)
        #expect(try await !storage.listBuckets().map(\.name).contains(bucket))
    }

    @Test(arguments: targets)
    func objectsArePutReadCopiedAndDeleted(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let source = try Scratch.write(in: scratch, "doc.json", #"{"hello": "world"}"#)
            let put = try await storage.upload(from: source, bucket: bucket, key: "docs/doc.json",
                                               options: PutOptions(contentType: "application/json", metadata: ["origin": "conformance"]))
            #expect(put.bytes == 18)
            let info = try await storage.head(bucket: bucket, key: "docs/doc.json")
            #expect(info.size == 18)
            if target.capabilities.keepsUserMetadata {
                #expect(info.metadata["origin"] == "conformance", "\(info.metadata)")
            }
            #expect(String(decoding: try await Scratch.read(storage, bucket, "docs/doc.json"), as: UTF8.self) == #"{"hello": "world"}"#)

            let copied = try await storage.copy(fromBucket: bucket, fromKey: "docs/doc.json", toBucket: bucket, toKey: "copy.json")
            #expect(copied.bytes == 18)
            #expect(try await Scratch.read(storage, bucket, "copy.json") == Array(#"{"hello": "world"}"#.utf8))

            let destination = scratch.appendingPathComponent("down.json")
            let got = try await storage.download(bucket: bucket, key: "copy.json", to: destination)
            #expect(got.bytes == 18)
            #expect(try Scratch.sha256(destination) == Scratch.sha256(source))

            #expect(try await storage.delete(bucket: bucket, keys: ["copy.json", "never-there.json"]).isEmpty)
            #expect(try await storage.headIfExists(bucket: bucket, key: "copy.json") == nil)
            do {
                _ = try await storage.head(bucket: bucket, key: "copy.json")
                Issue.record("head of a deleted key succeeded")
            } catch let error as StorageError {
                #expect(error.code == .noSuchKey, "\(error)")
            }
        }
    }

    @Test(arguments: targets)
    func listingsFilterRollUpAndPage(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let file = try Scratch.write(in: scratch, "x", "x")
            let keys = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt"] + (0..<7).map { "p/\($0).txt" }
            for key in keys { _ = try await storage.upload(from: file, bucket: bucket, key: key, options: PutOptions()) }

            #expect(try await storage.listAll(bucket: bucket, prefix: "").map(\.key) == keys.sorted())
            #expect(try await storage.listAll(bucket: bucket, prefix: "a/").map(\.key) == ["a/1.txt", "a/2.txt", "a/b/3.txt"])

            let rolled = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(rolled.objects.map(\.key) == ["c.txt"])
            #expect(rolled.commonPrefixes == ["a/", "d/", "p/"])
            let inner = try await storage.listPage(bucket: bucket, prefix: "a/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(inner.objects.map(\.key) == ["a/1.txt", "a/2.txt"])
            #expect(inner.commonPrefixes == ["a/b/"])

            // Pages of 3: every key once, in order, then no token.
            var paged: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let page = try await storage.listPage(bucket: bucket, prefix: "p/", delimiter: nil, continuationToken: token, maxKeys: 3)
                #expect(page.objects.count <= 3)
                paged += page.objects.map(\.key)
                token = page.isTruncated ? page.nextContinuationToken : nil
                pages += 1
            } while token != nil && pages < 20
            #expect(paged == (0..<7).map { "p/\($0).txt" })
            #expect(pages == 3)
        }
    }

    @Test(arguments: targets.filter(\.capabilities.emptyFolders))
    func foldersAreMarkersOrDirectoriesAndListAsPrefixes(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let empty = try Scratch.write(in: scratch, "empty", "")
            _ = try await storage.upload(from: empty, bucket: bucket, key: "folder/", options: PutOptions(contentType: "application/x-directory"))
            let page = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(page.commonPrefixes == ["folder/"], "\(page)")
            #expect(page.objects.isEmpty, "\(page.objects.map(\.key))")
            // The folder can be removed again.
            let everything = try await storage.listAll(bucket: bucket, prefix: "folder/").map(\.key)
            if target.capabilities.folderMarkers {
                #expect(everything.count == 1, "one marker object, found \(everything)")
            }
            _ = try await storage.delete(bucket: bucket, keys: everything.isEmpty ? ["folder/"] : everything)
            let after = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(after.commonPrefixes.isEmpty && after.objects.isEmpty, "\(after)")
        }
    }

    @Test(arguments: targets)
    func awkwardNamesRoundTrip(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let names = ["with space.txt", "ünïcødé/日本語.txt", "plus+sign.txt", "per%25cent%.txt", "a=b&c=d.txt", "q?mark#hash.txt"]
            for (i, name) in names.enumerated() {
                let file = try Scratch.write(in: scratch, "f\(i)", name)
                _ = try await storage.upload(from: file, bucket: bucket, key: name, options: PutOptions())
            }
            #expect(try await storage.listAll(bucket: bucket, prefix: "").map(\.key).sorted() == names.sorted())
            for name in names {
                #expect(String(decoding: try await Scratch.read(storage, bucket, name), as: UTF8.self) == name)
                #expect(try await storage.head(bucket: bucket, key: name).key == name)
            }
            _ = try await storage.copy(fromBucket: bucket, fromKey: "plus+sign.txt", toBucket: bucket, toKey: "copy of %=+.txt")
            #expect(String(decoding: try await Scratch.read(storage, bucket, "copy of %=+.txt"), as: UTF8.self) == "plus+sign.txt")
            #expect(try await storage.delete(bucket: bucket, keys: names + ["copy of %=+.txt"]).isEmpty)
            #expect(try await storage.listAll(bucket: bucket, prefix: "").isEmpty)
        }
    }

    @Test(arguments: targets)
    func anObjectAboveTheMultipartThresholdRoundTripsAndReadsInRanges(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let source = try Scratch.file(in: scratch, "big.bin", bytes: ConformanceTarget.largeSize, seed: 7)
            let metrics = TransferMetrics()
            let put = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.upload(from: source, bucket: bucket, key: "big.bin", options: PutOptions())
            }
            #expect(put.bytes == Int64(ConformanceTarget.largeSize))
            if target.capabilities.multipart {
                // start + 3 parts (12 MiB in 5 MB parts) + finish, at least.
                #expect(metrics.requests >= 5, "\(metrics.requests) requests for a multipart upload")
            }
            let info = try await storage.head(bucket: bucket, key: "big.bin")
            #expect(info.size == Int64(ConformanceTarget.largeSize))

            let whole = try Data(contentsOf: source)
            let ranges: [Range<Int64>] = [0..<1, 5_000_000..<5_000_100, Int64(ConformanceTarget.largeSize - 10)..<Int64(ConformanceTarget.largeSize)]
            for range in ranges {
                let metrics = TransferMetrics()
                let bytes = try await TransferMetrics.$current.withValue(metrics) { try await Scratch.read(storage, bucket, "big.bin", range: range) }
                #expect(bytes == Array(whole[Int(range.lowerBound)..<Int(range.upperBound)]), "range \(range)")
            }

            let destination = scratch.appendingPathComponent("big.down")
            _ = try await storage.download(bucket: bucket, key: "big.bin", to: destination)
            #expect(try Scratch.sha256(destination) == Scratch.sha256(source))
            #expect(try Scratch.contents(scratch) == ["big.bin", "big.down"])

            _ = try await storage.copy(fromBucket: bucket, fromKey: "big.bin", toBucket: bucket, toKey: "big copy.bin")
            #expect(try await storage.head(bucket: bucket, key: "big copy.bin").size == Int64(ConformanceTarget.largeSize))
        }
    }

    @Test(arguments: targets)
    func skipUnchangedChecksumsAreThereAsDeclared(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let small = try Scratch.file(in: scratch, "small.bin", bytes: 1000, seed: 3)
            let large = try Scratch.file(in: scratch, "large.bin", bytes: ConformanceTarget.largeSize, seed: 4)
            #expect(!target.capabilities.skipUnchangedChecksums.isEmpty)
            for (file, key) in [(small, "small.bin"), (large, "large.bin")] {
                // As the upload action does: the content's SHA-256 rides along as metadata.
                _ = try await storage.upload(from: file, bucket: bucket, key: key, options: PutOptions(metadata: ["sha256": try Scratch.sha256(file)]))
                let info = try await storage.head(bucket: bucket, key: key)
                // At least one declared checksum is on the object and matches.
                var matched: [String] = []
                for name in target.capabilities.skipUnchangedChecksums.sorted() {
                    guard let remote = (info.checksums[name] ?? info.metadata[name] ?? info.metadata["bucketflow-\(name)"])?.lowercased() else { continue }
                    #expect(remote == (try Scratch.digest(file, name)), "\(name) of \(key)")
                    matched.append(name)
                }
                #expect(!matched.isEmpty, "\(key): none of \(target.capabilities.skipUnchangedChecksums.sorted()) in checksums \(info.checksums) / metadata \(info.metadata)")
            }
        }
    }

    @Test(arguments: targets)
    func aCancelledUploadOrDownloadLeavesNothingBehind(target: ConformanceTarget) async throws {
        let scratch = try Scratch.makeDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await target.withBucket { storage, bucket in
            let source = try Scratch.file(in: scratch, "src.bin", bytes: 24 << 20, seed: 9)
            let metrics = TransferMetrics()
            let upload = Task {
                try await TransferMetrics.$current.withValue(metrics) {
                    try await storage.upload(from: source, bucket: bucket, key: "cancelled.bin", options: PutOptions())
                }
            }
            for _ in 0..<2000 where metrics.requests < 2 { try await Task.sleep(for: .milliseconds(1)) }
            upload.cancel()
            switch await upload.result {
            case .success:
                // Finished before the cancellation arrived: then it is whole.
                // A 24 MiB upload in 5 MB parts cannot have finished after its
                // second request, so multipart providers must have cancelled.
                #expect(!target.capabilities.multipart, "\(target.label): the upload was not cancelled")
                #expect(try await storage.head(bucket: bucket, key: "cancelled.bin").size == 24 << 20)
                _ = try await storage.delete(bucket: bucket, keys: ["cancelled.bin"])
            case .failure(let error):
                #expect(error is CancellationError, "\(error)")
                #expect(try await storage.headIfExists(bucket: bucket, key: "cancelled.bin") == nil)
                #expect(try await storage.listAll(bucket: bucket, prefix: "").isEmpty)
            }

            _ = try await storage.upload(from: source, bucket: bucket, key: "src.bin", options: PutOptions())
            let downloads = try Scratch.makeDirectory()
            defer { try? FileManager.default.removeItem(at: downloads) }
            let destination = downloads.appendingPathComponent("dst.bin")
            let downMetrics = TransferMetrics()
            let download = Task {
                try await TransferMetrics.$current.withValue(downMetrics) {
                    try await storage.download(bucket: bucket, key: "src.bin", to: destination)
                }
            }
            for _ in 0..<2000 where downMetrics.requests < 1 { try await Task.sleep(for: .milliseconds(1)) }
            download.cancel()
            switch await download.result {
            case .success:
                #expect(try Scratch.sha256(destination) == Scratch.sha256(source))
                #expect(try Scratch.contents(downloads) == ["dst.bin"])
            case .failure(let error):
                #expect(error is CancellationError, "\(error)")
                // No partial file, no temporary file.
                #expect(try Scratch.contents(downloads) == [])
            }
        }
    }
}
