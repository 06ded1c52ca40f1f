import Foundation
import Testing
import Scheduler
import Storage
import Workflow
@testable import Executor

/// The run driver's model: every object accounted for with its outcome,
/// cancellation that still reports what completed, cleanup steps, and
/// timestamps that nest inside their run.
@Suite struct RunEngineTests {
    /// A FIFO the upload reads from; the test decides when it ends.
    final class Feed {
        let url: URL
        let fd: Int32
        init(_ url: URL) throws {
            self.url = url
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard mkfifo(url.path, 0o600) == 0 else { throw POSIXError(.EEXIST) }
            fd = open(url.path, O_RDWR)
            // Never block a feeder when the reader has stopped (the pipe fills up).
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        func send(_ count: Int) { let bytes = [UInt8](repeating: 7, count: count); _ = write(fd, bytes, count) }
        /// Ends the stream: readers see end of file. A reader blocked in
        /// open() is woken by a last writer opened and closed at once; when
        /// there is no reader yet (a run slower than the test's wait), the
        /// path becomes an empty file, so a late open() cannot block forever
        /// on a FIFO nobody will write to again.
        func finish() {
            close(fd)
            let writer = open(url.path, O_WRONLY | O_NONBLOCK)
            if writer >= 0 {
                close(writer)
            } else {
                let empty = url.path + ".eof"
                let file = open(empty, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
                if file >= 0 { close(file) }
                rename(empty, url.path)
            }
        }
    }

    // Generous: it only runs out when the condition never holds, and a loaded
    // machine's full suite has held both cooperative threads for 30 s and more.
    static func waitUntil(_ seconds: Double = 120, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { Issue.record("condition not met within \(seconds)s"); return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Overlap is proven from the transfers themselves: three uploads from
    /// FIFOs are all writing their temporary files at the same moment, and
    /// the report's per-object intervals overlap.
    @Test func transfersOfIndependentStepsRunAtTheSameTime() async throws {
        let ws = try TestWorkspace()
        let feeds = try ["a", "b", "c"].map { try Feed(ws.url("files/\($0).bin")) }
        let workflow = try ws.load("""
            version: 1
            name: overlap
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              a: {action: upload, needs: [bucket], from: files/a.bin, to: "disk://bk1/a.bin"}
              b: {action: upload, needs: [bucket], from: files/b.bin, to: "disk://bk1/b.bin"}
              c: {action: upload, needs: [bucket], from: files/c.bin, to: "disk://bk1/c.bin"}
            """)
        let options = RunOptions(dataDirectory: ws.url("data"), userName: "tester")
        let task = Task { await Executor(workflow: workflow, options: options).run() }
        for feed in feeds { feed.send(1000) }
        // All three transfers are in flight together: three temporary files exist at once.
        try await Self.waitUntil { ws.temporaryFiles().count == 3 }
        #expect(ws.temporaryFiles().count == 3)
        for feed in feeds { feed.finish() }
        let report = await task.value
        #expect(report.run.status == .succeeded)
        let intervals = ["a", "b", "c"].map { id -> (Date, Date) in
            let record = report.step(id).transfers[0]
            return (Timestamps.parse(record.startedAt!)!, Timestamps.parse(record.finishedAt!)!)
        }
        for i in 0..<3 { for j in 0..<3 where i != j {
            #expect(intervals[i].0 <= intervals[j].1, "transfer \(i) started after transfer \(j) ended")
        } }
    }

    /// A run cancelled while one upload is in flight: the objects that
    /// completed are reported as transferred (and are in the bucket), the one
    /// in flight as cancelled, dependents as cancelled, the cleanup step
    /// (`if: cancelled()`) still runs, and every time lies inside the run's.
    @Test func aCancelledRunReportsWhatCompleted() async throws {
        let ws = try TestWorkspace()
        for i in 0..<5 { try ws.write("files/done\(i).txt", "file \(i)\n") }
        let feed = try Feed(ws.url("stream/zz-stream.bin"))
        defer { feed.finish() }
        let workflow = try ws.load("""
            version: 1
            name: cancel-midway
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              done: {action: upload, needs: [bucket], from: files/, to: "disk://bk1/in/"}
              stream: {action: upload, needs: [done], from: stream/zz-stream.bin, to: "disk://bk1/in/zz-stream.bin"}
              later: {action: list, needs: [stream], at: "disk://bk1/"}
              cleanup:
                action: create-folder
                needs: [stream]
                if: cancelled()
                at: disk://bk1/cancelled-marker/
            """)
        let options = RunOptions(dataDirectory: ws.url("data"), userName: "tester")
        let cancellation = RunCancellation()
        let task = Task { await Executor(workflow: workflow, options: options).run(cancellation: cancellation) }
        feed.send(100)
        // The five small uploads are done and the stream's upload is writing.
        try await Self.waitUntil { ws.temporaryFiles().count == 1 && (0..<5).allSatisfy { ws.exists("buckets/bk1/in/done\($0).txt") } }
        cancellation.cancel()
        // A read from a FIFO returns only when bytes arrive; keep them coming
        // so the upload sees the cancellation between chunks.
        let fd = feed.fd
        let feeder = Task.detached {
            let chunk = [UInt8](repeating: 1, count: 4096)
            for _ in 0..<500 where !Task.isCancelled {
                _ = write(fd, chunk, chunk.count)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let report = await task.value
        feeder.cancel()
        await feeder.value
        #expect(report.run.status == .cancelled)
        #expect(report.run.exitCode == 130)
        let done = report.step("done")
        #expect(done.status == .succeeded)
        let transferred = done.transfers.filter { $0.outcome == .transferred }.compactMap(\.target).sorted()
        #expect(transferred == (0..<5).map { "disk://bk1/in/done\($0).txt" })
        let stream = report.step("stream")
        #expect(stream.status == .cancelled)
        #expect(stream.transfers.map(\.outcome) == [.cancelled])
        #expect(stream.transfers.first?.target == "disk://bk1/in/zz-stream.bin")
        #expect(done.objects == 5 && report.totals.objectsCancelled == 1)
        #expect(report.totals.objects == 6)  // the five uploads and the cleanup's folder marker
        // What the report says is what is in the bucket.
        let stored = try FileManager.default.contentsOfDirectory(atPath: ws.url("buckets/bk1/in").path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(stored == (0..<5).map { "done\($0).txt" })
        #expect(ws.temporaryFiles().isEmpty)
        #expect(report.step("later").status == .cancelled)
        // The cleanup step ran after the cancel.
        #expect(report.step("cleanup").status == .succeeded)
        #expect(ws.exists("buckets/bk1/cancelled-marker"))
        // Every timestamp nests inside the run.
        let runStart = Timestamps.parse(report.run.startedAt)!, runEnd = Timestamps.parse(report.run.finishedAt)!
        for step in report.steps {
            if let s = step.startedAt.flatMap(Timestamps.parse) { #expect(s >= runStart) }
            if let f = step.finishedAt.flatMap(Timestamps.parse) { #expect(f <= runEnd, "\(step.id) finished after its run") }
            for record in step.transfers {
                if let f = record.finishedAt.flatMap(Timestamps.parse) { #expect(f <= runEnd) }
            }
        }
    }

    @Test func cancelledIsFalseInARunThatWasNotCancelled() async throws {
        let ws = try TestWorkspace()
        let report = try await ws.run("""
            version: 1
            name: no-cancel
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              cleanup: {action: create-folder, needs: [bucket], if: cancelled(), at: "disk://bk1/marker/"}
              always-runs: {action: create-folder, needs: [bucket], if: "always() || cancelled()", at: "disk://bk1/a/"}
            """)
        #expect(report.run.status == .succeeded)
        #expect(report.step("cleanup").status == .skipped)
        #expect(report.step("cleanup").skipReason == "if: cancelled() is false")
        #expect(report.step("always-runs").status == .succeeded)
    }

    /// 2 of 12 downloads fail (their destination is a directory): the step
    /// fails, the other 10 arrive, and the report names both failures.
    @Test func aPartialDownloadFailureNamesEveryFailedObject() async throws {
        let ws = try TestWorkspace()
        for i in 0..<12 { try ws.write("buckets/bk1/in/f\(String(format: "%02d", i)).txt", "content \(i)\n") }
        for blocked in ["f03.txt", "f09.txt"] {
            try FileManager.default.createDirectory(at: ws.url("out/\(blocked)/x"), withIntermediateDirectories: true)
        }
        let report = try await ws.run("""
            version: 1
            name: partial
            storage:
              disk: {provider: local, root: buckets}
            steps:
              fetch: {action: download, from: "disk://bk1/in/", to: out/}
            """)
        let fetch = report.step("fetch")
        #expect(fetch.status == .failed)
        #expect(fetch.counts.transferred == 10 && fetch.counts.failed == 2)
        let failed = fetch.transfers.filter { $0.outcome == .failed }
        #expect(failed.compactMap(\.source).sorted() == ["disk://bk1/in/f03.txt", "disk://bk1/in/f09.txt"])
        #expect(failed.allSatisfy { $0.error != nil })
        let message = try #require(fetch.error?.message)
        #expect(message.hasPrefix("2 of 12 downloads failed: "))
        #expect(message.contains("f03.txt") && message.contains("f09.txt"))
        #expect(report.totals.objectsFailed == 2 && report.totals.objects == 10)
        #expect(ws.exists("out/f00.txt") && ws.exists("out/f11.txt"))
    }

    /// The console names the first three failures and the count; the report all.
    @Test func theFailureMessageNamesTheFirstThreeAndCountsTheRest() async throws {
        let ws = try TestWorkspace()
        for i in 0..<8 { try ws.write("buckets/bk1/in/f\(i).txt", "\(i)\n") }
        for i in 0..<6 { try FileManager.default.createDirectory(at: ws.url("out/f\(i).txt/x"), withIntermediateDirectories: true) }
        let report = try await ws.run("""
            version: 1
            name: partial
            storage:
              disk: {provider: local, root: buckets}
            steps:
              fetch: {action: download, from: "disk://bk1/in/", to: out/}
            """)
        let message = try #require(report.step("fetch").error?.message)
        #expect(message.hasPrefix("6 of 8 downloads failed: "))
        #expect(message.hasSuffix("; and 3 more (the report lists every one)"))
        #expect(report.step("fetch").transfers.filter { $0.outcome == .failed }.count == 6)
    }

    /// A plan follows its own order: objects deleted by an earlier step are
    /// not deleted again by the bucket deletion, a listing after the bucket
    /// deletion is empty, and an upload's objects are there for a later step.
    @Test func aPlanSeesTheEffectsOfItsEarlierSteps() async throws {
        let ws = try TestWorkspace()
        for i in 0..<3 { try ws.write("buckets/bk1/logs/l\(i).txt", "log \(i)\n") }
        for i in 0..<2 { try ws.write("buckets/bk1/data/d\(i).txt", "data \(i)\n") }
        try ws.write("files/new.txt", "new\n")
        let report = try await ws.run("""
            version: 1
            name: ordered
            storage:
              disk: {provider: local, root: buckets}
            steps:
              up: {action: upload, from: files/new.txt, to: "disk://bk1/data/new.txt"}
              check: {action: inspect, needs: [up], at: "disk://bk1/data/new.txt"}
              drop-logs: {action: delete-folder, needs: [check], at: "disk://bk1/logs/"}
              drop-bucket: {action: delete-bucket, needs: [drop-logs], bucket: "disk://bk1", force: true}
              after: {action: list, needs: [drop-bucket], at: "disk://bk2/"}
              gone: {action: download, needs: [drop-bucket], from: "disk://bk1/", to: out/}
              bucket2: {action: create-bucket, bucket: "disk://bk2"}
            """, configure: { $0.dryRun = true })
        #expect(report.run.status == .planned, Comment(rawValue: report.steps.map { "\($0.id): \($0.error?.message ?? "")" }.joined(separator: "\n")))
        #expect(report.step("drop-logs").counts.planned == 3)
        // The bucket deletion deletes the 2 data objects and the planned upload, not the logs again.
        let bucketDeletes = report.step("drop-bucket").transfers.filter { $0.operation == .delete }.compactMap(\.target).sorted()
        #expect(bucketDeletes == ["disk://bk1/data/d0.txt", "disk://bk1/data/d1.txt", "disk://bk1/data/new.txt"])
        #expect(report.step("gone").counts.planned == 0)
        let summary = try #require(report.summary)
        #expect(summary.deletes == 6 && summary.bucketsToDelete == 1 && summary.uploads == 1 && summary.bucketsToCreate == 1)
        #expect(summary.changesPending)
        // Nothing was written.
        #expect(ws.exists("buckets/bk1/logs/l0.txt") && !ws.exists("buckets/bk1/data/new.txt") && !ws.exists("buckets/bk2"))
    }

    /// "Unknown until the run" is not an error; an unreadable remote is.
    @Test func planKnowsTheDifferenceBetweenUnknownAndUnreadable() async throws {
        let ws = try TestWorkspace()
        try ws.write("buckets/bk1/a.txt", "a\n")
        try ws.write("files/new.txt", "new\n")
        let report = try await ws.run("""
            version: 1
            name: unknowns
            storage:
              disk: {provider: local, root: buckets}
            steps:
              up: {action: upload, from: files/new.txt, to: "disk://bk1/new.txt"}
              check: {action: inspect, needs: [up], at: "disk://bk1/new.txt"}
              copy: {action: copy, from: "disk://bk1/a.txt", to: "disk://bk1/copies/${{ steps.check.outputs.etag }}"}
              missing: {action: download, from: "disk://no-such-bucket/", to: out/}
            """, configure: { $0.dryRun = true })
        #expect(report.step("copy").status == .planned)
        #expect(report.step("copy").plan?.first?.contains("known only when the run gets there") == true)
        #expect(report.step("missing").status == .failed)
        #expect(report.step("missing").error?.code == .noSuchBucket)
        #expect(report.run.status == .failed)
        #expect(ExitStatus(report: report) == .stepFailed)
    }

    /// Secrets never reach the report, whatever route a workflow gives them:
    /// here a loaded value is routed into an object key and an output.
    @Test func aSecretRoutedIntoAKeyIsMaskedInTheReport() async throws {
        let ws = try TestWorkspace()
        let secret = "s3cr3t-value-9f8e7d"
        try ws.write("creds.json", #"{"key_id": "id", "application_key": "\#(secret)"}"#, mode: 0o600)
        try ws.write("files/a.txt", "a\n")
        let events = RecordingSink()
        let report = try await ws.run("""
            version: 1
            name: leak
            vars:
              name: \(secret)
            storage:
              disk: {provider: local, root: buckets}
            steps:
              creds: {action: load-credentials, from: creds.json}
              bucket: {action: create-bucket, needs: [creds], bucket: "disk://bk1"}
              up: {action: upload, needs: [bucket], from: files/a.txt, to: "disk://bk1/${{ vars.name }}/a.txt"}
            """, events: events)
        #expect(report.run.status == .succeeded)
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(!json.contains(secret))
        #expect(json.contains("[REDACTED]"))
        #expect(!events.text.contains(secret))
    }
}

/// Collects events as text, for leak checks.
final class RecordingSink: EventSink, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func emit(_ event: RunEvent) { lock.lock(); lines.append("\(event)"); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
}
