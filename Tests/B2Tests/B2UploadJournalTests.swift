import Foundation
import XCTest
@testable import B2
import Storage

/// A large file noted in the journal by a process that is gone is cancelled
/// (`b2_cancel_large_file`) by the next storage that uploads to the service.
final class B2UploadJournalTests: XCTestCase {
    static func deadPID() throws -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        return child.processIdentifier
    }

    func testAKilledRunsLargeFileIsCancelledByTheNextStorage() async throws {
        let server = try B2TestServer.fromEnvironment()
        let scratch = try Scratch()
        let journal = UploadJournal(directory: scratch.path("state/uploads"))
        let storage = try server.storage { $0.journal = journal }
        let bucket = B2TestServer.bucketName("journal")
        try await storage.createBucket(bucket)
        do {
            let bucketID = try await storage.bucketID(bucket)
            let dead = try await storage.startLargeFile(bucketID: bucketID, bucket: bucket, key: "dead.bin", contentType: "application/octet-stream", fileInfo: [:])
            let live = try await storage.startLargeFile(bucketID: bucketID, bucket: bucket, key: "live.bin", contentType: "application/octet-stream", fileInfo: [:])
            XCTAssertEqual(Set(journal.entries().map(\.entry.uploadID)), [dead, live])  // startLargeFile notes both
            // Killed while b2_start_large_file was in flight: only a pending
            // entry, and a large file the journal never saw (started by a
            // storage without a journal).
            let bare = try server.storage()
            let lost = try await bare.startLargeFile(bucketID: bucketID, bucket: bucket, key: "lost.bin", contentType: "application/octet-stream", fileInfo: [:])
            try await bare.shutdown()
            var pending = UploadJournal.Entry.pending(provider: "b2", endpoint: server.endpoint, bucket: bucket, key: "lost.bin")
            pending.pid = try Self.deadPID()
            pending.processStart = nil
            try journal.record(pending)
            // The killed run's: the same entry, by a process that is gone.
            try journal.record(UploadJournal.Entry(provider: "b2", endpoint: server.endpoint, bucket: bucket, key: "dead.bin", uploadID: dead,
                                                   pid: try Self.deadPID(), processStart: nil))
            let info = scratch.path("account.sqlite")
            let before = try server.b2(["file", "large", "unfinished", "list", "b2://\(bucket)"], accountInfo: info)
            XCTAssertTrue(before.contains("dead.bin") && before.contains("live.bin") && before.contains(lost), before)

            // The next run makes its storage again and uploads.
            let next = try server.storage { $0.journal = journal }
            _ = try await next.upload(from: scratch.file("small.bin", Data("small".utf8)), bucket: bucket, key: "small.bin", options: PutOptions())
            let cancelled = await next.cancelAbandonedLargeFiles()
            XCTAssertEqual(cancelled, 2)
            try await next.shutdown()

            let after = try server.b2(["file", "large", "unfinished", "list", "b2://\(bucket)"], accountInfo: info)
            XCTAssertFalse(after.contains("dead.bin"), after)
            XCTAssertFalse(after.contains("lost.bin"), after)
            XCTAssertTrue(after.contains("live.bin"), after)
            XCTAssertEqual(journal.entries().map(\.entry.uploadID), [live])
            _ = try await storage.withLargeFileCancelledOnFailure(fileID: live, key: "live.bin") { () async throws -> Int in throw CancellationError() }
        } catch is CancellationError {
        }
        XCTAssertEqual(journal.entries().count, 0)
        let unfinished = try server.b2(["file", "large", "unfinished", "list", "b2://\(bucket)"], accountInfo: scratch.path("account.sqlite"))
        XCTAssertEqual(unfinished.trimmingCharacters(in: .whitespacesAndNewlines), "")
        _ = try? await storage.delete(bucket: bucket, keys: ["small.bin"])
        try await storage.deleteBucket(bucket)
        try await storage.shutdown()
    }
}
