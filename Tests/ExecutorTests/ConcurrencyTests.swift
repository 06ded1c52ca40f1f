import Foundation
import Testing
import Scheduler
import Synchronization
import Workflow
@testable import Executor

/// Observes scheduling through the report's millisecond timestamps and
/// cancellation through the file system.
struct ConcurrencyTests {
    @Test func independentStepsOverlapAndDependentsWaitForTheirNeeds() async throws {
        let ws = try TestWorkspace()
        for name in ["a", "b", "c"] { try ws.writeBytes("files/\(name).bin", count: 4 << 20) }
        let report = try await ws.run("""
            version: 1
            name: fan
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              a: {action: upload, needs: [bucket], from: files/a.bin, to: "disk://bk1/a.bin"}
              b: {action: upload, needs: [bucket], from: files/b.bin, to: "disk://bk1/b.bin"}
              c: {action: upload, needs: [bucket], from: files/c.bin, to: "disk://bk1/c.bin"}
              join: {action: list, needs: [a, b, c], at: "disk://bk1/"}
            """)
        #expect(report.run.status == .succeeded)
        func interval(_ id: String) -> (Date, Date) {
            let step = report.step(id)
            return (Timestamps.parse(step.startedAt!)!, Timestamps.parse(step.finishedAt!)!)
        }
        let (aStart, aEnd) = interval("a"), (bStart, bEnd) = interval("b"), (cStart, cEnd) = interval("c")
        #expect(aStart <= bEnd && bStart <= aEnd, "a and b ran one after the other")
        #expect(aStart <= cEnd && cStart <= aEnd, "a and c ran one after the other")
        let (joinStart, _) = interval("join")
        #expect(joinStart >= max(aEnd, bEnd, cEnd))
        let (_, bucketEnd) = interval("bucket")
        #expect(aStart >= bucketEnd && bStart >= bucketEnd && cStart >= bucketEnd)
        #expect(report.step("join").outputs["count"] == .number(3))
    }

    @Test func concurrencyOneRunsStepsOneAtATime() async throws {
        let ws = try TestWorkspace()
        for name in ["a", "b"] { try ws.writeBytes("files/\(name).bin", count: 1 << 20) }
        let report = try await ws.run("""
            version: 1
            name: serial
            concurrency: 1
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              a: {action: upload, needs: [bucket], from: files/a.bin, to: "disk://bk1/a.bin"}
              b: {action: upload, needs: [bucket], from: files/b.bin, to: "disk://bk1/b.bin"}
            """)
        let a = report.step("a"), b = report.step("b")
        #expect(Timestamps.parse(b.startedAt!)! >= Timestamps.parse(a.finishedAt!)!)
    }

    @Test func retriesAreCountedAndTheLastErrorKept() async throws {
        let ws = try TestWorkspace()
        let report = try await ws.run("""
            version: 1
            name: retry
            storage:
              disk: {provider: local, root: buckets}
            steps:
              look:
                action: inspect
                at: disk://nope/x
                retry: {attempts: 3, backoff: 10ms}
            """)
        #expect(report.step("look").attempts == 3)
        #expect(report.step("look").status == .failed)
        #expect(report.step("look").error?.code.rawValue == "NoSuchBucket")
    }

    @Test func timeoutsFailTheStep() async throws {
        let ws = try TestWorkspace()
        try ws.writeBytes("files/big.bin", count: 64 << 20)
        let report = try await ws.run("""
            version: 1
            name: slow
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              up: {action: upload, needs: [bucket], from: files/big.bin, to: "disk://bk1/big.bin", timeout: 1ms}
            """)
        #expect(report.step("up").status == .failed)
        #expect(report.step("up").error?.code.rawValue == "Timeout")
        #expect(report.step("up").error?.message == "the step did not finish within 1ms; raise its `timeout:` if it needs longer")
        #expect(ws.temporaryFiles().isEmpty)
    }

    @Test func cancellingARunLeavesNoPartialFile() async throws {
        let ws = try TestWorkspace()
        let fifo = ws.url("files/stream.bin")
        try FileManager.default.createDirectory(at: fifo.deletingLastPathComponent(), withIntermediateDirectories: true)
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let writer = open(fifo.path, O_RDWR)
        defer { close(writer) }
        // Never block the feeder when the reader has stopped (the pipe fills up).
        _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) | O_NONBLOCK)
        let chunk = [UInt8](repeating: 1, count: 4096)
        _ = write(writer, chunk, chunk.count)
        let workflow = try ws.load("""
            version: 1
            name: cancel
            storage:
              disk: {provider: local, root: buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              up: {action: upload, needs: [bucket], from: files/stream.bin, to: "disk://bk1/stream.bin"}
              later: {action: list, needs: [up], at: "disk://bk1/"}
            """)
        let options = RunOptions(dataDirectory: ws.url("data"), userName: "tester")
        let task = Task { await Executor(workflow: workflow, options: options).run() }
        // Wait until the upload has a temporary file, then interrupt.
        let deadline = Date().addingTimeInterval(30)
        while ws.temporaryFiles().isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let feeder = Task.detached {
            // Stop when cancelled: the descriptor is closed right after, and a
            // write to a reused descriptor number would corrupt another file.
            for _ in 0..<200 where !Task.isCancelled {
                _ = write(writer, chunk, chunk.count)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let report = await task.value
        feeder.cancel()
        await feeder.value
        #expect(report.run.status == .cancelled)
        #expect(report.step("up").status == .cancelled)
        #expect(report.step("later").status == .cancelled)
        #expect(report.step("later").skipReason == "the run was cancelled before this step started")
        #expect(!ws.exists("buckets/bk1/stream.bin"))
        #expect(ws.temporaryFiles().isEmpty)
    }
}
