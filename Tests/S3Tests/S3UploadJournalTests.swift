import Foundation
import Testing
@testable import S3
import Storage

/// A multipart upload noted in the journal by a process that is gone is
/// aborted by the next storage that uploads through the same endpoint.
@Suite(.serialized, .enabled(if: S3TestServer.configured, S3TestServer.skipMessage))
struct S3UploadJournalTests {
    static let servers = S3TestServer.all

    /// A pid that is certainly dead: a child started and reaped.
    static func deadPID() throws -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        return child.processIdentifier
    }

    @Test(arguments: servers)
    func aKilledRunsUploadIsAbortedByTheNextStorage(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let journal = UploadJournal(directory: scratch.url("state/uploads"))
        let source = try scratch.file("small.bin", bytes: 1000)
        try await server.withBucket(configure: { $0.journal = journal }) { storage, bucket in
            // The "killed run": an upload it started, noted with a dead pid,
            // and one of a live process (this one) that must stay. Top-level keys:
            // rclone keeps an aborted key's parent folder, so the bucket would stay non-empty.
            let dead = try await storage.createMultipartUpload(bucket: bucket, key: "dead.bin", headers: [])
            let live = try await storage.createMultipartUpload(bucket: bucket, key: "live.bin", headers: [])
            let endpoint = server.endpoint.absoluteString
            #expect(journal.entries().count == 2)  // createMultipartUpload notes both
            try journal.record(UploadJournal.Entry(provider: "s3", endpoint: endpoint, bucket: bucket, key: "dead.bin", uploadID: dead,
                                                   pid: try Self.deadPID(), processStart: nil))
            // Another endpoint's entry is not this storage's to abort.
            try journal.record(UploadJournal.Entry(provider: "s3", endpoint: "http://127.0.0.1:1/", bucket: bucket, key: "x", uploadID: "other",
                                                   pid: try Self.deadPID(), processStart: nil))
            // Killed while CreateMultipartUpload was in flight: only a
            // pending entry, and an upload the journal never saw.
            let bare = try server.storage()
            let lost = try await bare.createMultipartUpload(bucket: bucket, key: "lost.bin", headers: [])
            try await bare.shutdown()
            var pending = UploadJournal.Entry.pending(provider: "s3", endpoint: endpoint, bucket: bucket, key: "lost.bin")
            pending.pid = try Self.deadPID()
            pending.processStart = nil
            try journal.record(pending)
            #expect(Set(try await storage.listMultipartUploads(bucket: bucket).map(\.uploadID)) == [dead, live, lost])

            // The next run makes its storage again and uploads.
            let next = try server.storage { $0.journal = journal }
            _ = try await next.upload(from: source, bucket: bucket, key: "new.bin", options: PutOptions())
            // The upload swept before it started.
            #expect(try await storage.listMultipartUploads(bucket: bucket).map(\.uploadID) == [live])
            #expect(await next.abortAbandonedUploads() == 2)  // that sweep, once: a later call returns its count
            try await next.shutdown()
            #expect(Set(journal.entries().map(\.entry.uploadID)) == [live, "other"])
            await storage.abortMultipartUpload(bucket: bucket, key: "live.bin", uploadID: live)
            #expect(Set(journal.entries().map(\.entry.uploadID)) == ["other"])
        }
    }
}

/// The journal itself: entries round-trip, and only dead writers' are abandoned.
struct UploadJournalUnitTests {
    @Test(.enabled(if: S3TestServer.inCI, "CI is not set: missing servers are a skip, not a failure"))
    func ciHasTheServers() {
        #expect(S3TestServer.configured, "CI must run the upload journal tests against real servers: \(S3TestServer.skipMessage)")
    }

    @Test func onlyDeadProcessesEntriesAreAbandoned() throws {
        let scratch = try Scratch()
        let journal = UploadJournal(directory: scratch.url("uploads"))
        let dead = try S3UploadJournalTests.deadPID()
        try journal.record(.init(provider: "s3", endpoint: "http://e/", bucket: "b", key: "k1", uploadID: "u1", pid: dead, processStart: nil))
        try journal.record(.init(provider: "s3", endpoint: "http://e/", bucket: "b", key: "k2", uploadID: "u2"))
        // This process's pid with another start time: a reused pid.
        try journal.record(.init(provider: "s3", endpoint: "http://e/", bucket: "b", key: "k3", uploadID: "u3",
                                 processStart: (UploadJournal.startTime(of: getpid()) ?? 0) + 1))
        try journal.record(.init(provider: "b2", endpoint: "http://e/", bucket: "b", key: "k4", uploadID: "u4", pid: dead, processStart: nil))
        #expect(UploadJournal.startTime(of: getpid()) != nil)
        #expect(journal.abandoned(provider: "s3", endpoint: "http://e/").map(\.uploadID).sorted() == ["u1", "u3"])
        #expect(journal.abandoned(provider: "s3", endpoint: "http://other/").isEmpty)
        journal.remove(provider: "s3", endpoint: "http://e/", uploadID: "u1")
        #expect(journal.entries().map(\.entry.uploadID).sorted() == ["u2", "u3", "u4"])
    }
}
