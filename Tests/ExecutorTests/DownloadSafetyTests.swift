import Foundation
import Testing
import Scheduler
import Workflow
@testable import Executor

/// A download sweeps dead writers' temporary files from its destination
/// and never writes through a symbolic link inside it.
struct DownloadSafetyTests {
    static let header = """
        version: 1
        name: safety
        storage:
          disk:
            provider: local
            root: buckets
        """

    /// Creates a `.bucketflow-tmp-<pid>-x` file in `folder`; locked by this
    /// process (a live writer) when `lock` is set. Returns the open fd (or -1).
    static func leftover(_ folder: URL, _ name: String, lock: Bool) throws -> Int32 {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try Data("partial".utf8).write(to: URL(fileURLWithPath: path))
        guard lock else { return -1 }
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX) == 0)
        return fd
    }

    /// The rerun writes nothing (every file unchanged), so only the step's
    /// own sweep can remove the leftovers, in every folder of the tree.
    @Test func downloadSweepsDeadWritersTemporaryFilesButNotLiveOnes() async throws {
        let ws = try TestWorkspace()
        try ws.write("buckets/bkt/x/a.txt", "a\n")
        try ws.write("buckets/bkt/x/sub/b.txt", "b\n")
        let yaml = Self.header + """

            steps:
              down: {action: download, from: "disk://bkt/x/", to: out/, skip-unchanged: true}
            """
        let first = try await ws.run(yaml)
        #expect(first.step("down").counts.transferred == 2)
        // A dead writer's leftovers, at the top, in a sub-folder and in a
        // folder no object goes to.
        _ = try Self.leftover(ws.url("out"), ".bucketflow-tmp-999999-dead1", lock: false)
        _ = try Self.leftover(ws.url("out/sub"), ".bucketflow-tmp-999999-dead2", lock: false)
        _ = try Self.leftover(ws.url("out/old/deeper"), ".bucketflow-tmp-999999-dead3", lock: false)
        // A live writer's file (this process holds its lock): must stay.
        let live = try Self.leftover(ws.url("out/sub"), ".bucketflow-tmp-\(getpid())-live", lock: true)
        defer { close(live) }
        // Not bucketflow's: never touched.
        try ws.write("out/old/notes.txt", "mine\n")
        #expect(ws.temporaryFiles().count == 4)
        let report = try await ws.run(yaml)
        #expect(report.step("down").status == .succeeded)
        #expect(report.step("down").counts.unchanged + report.step("down").counts.transferred == 2)
        #expect(try ws.read("out/a.txt") == "a\n")
        #expect(try ws.read("out/sub/b.txt") == "b\n")
        #expect(try ws.read("out/old/notes.txt") == "mine\n")
        #expect(ws.temporaryFiles() == ["out/sub/.bucketflow-tmp-\(getpid())-live"])
    }

    @Test func singleObjectDownloadSweepsItsFolder() async throws {
        let ws = try TestWorkspace()
        try ws.write("buckets/bkt/a.txt", "a\n")
        let yaml = Self.header + """

            steps:
              down: {action: download, from: "disk://bkt/a.txt", to: out/a.txt, skip-unchanged: true}
            """
        _ = try await ws.run(yaml)
        _ = try Self.leftover(ws.url("out"), ".bucketflow-tmp-999999-dead", lock: false)
        let report = try await ws.run(yaml)
        #expect(report.step("down").status == .succeeded)
        #expect(report.step("down").counts.unchanged == 1)
        #expect(try ws.read("out/a.txt") == "a\n")
        #expect(ws.temporaryFiles().isEmpty)
    }

    /// A run killed right after creating its temporary file leaves it
    /// empty: its dead writer's pid lets the next run remove it at once,
    /// while an empty, young file of a live process stays (it may be about
    /// to lock it).
    @Test func emptyFilesOfDeadWritersAreSweptAtOnce() async throws {
        let ws = try TestWorkspace()
        try ws.write("buckets/bkt/a.txt", "a\n")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        try FileManager.default.createDirectory(at: ws.url("out"), withIntermediateDirectories: true)
        try Data().write(to: ws.url("out/.bucketflow-tmp-\(child.processIdentifier)-dead"))
        try Data().write(to: ws.url("out/.bucketflow-tmp-\(getpid())-young"))
        let report = try await ws.run(Self.header + """

            steps:
              down: {action: download, from: "disk://bkt/a.txt", to: out/a.txt}
            """)
        #expect(report.step("down").status == .succeeded)
        #expect(ws.temporaryFiles() == ["out/.bucketflow-tmp-\(getpid())-young"])
    }

    @Test func aKeyCrossingALinkedSubFolderIsRefused() async throws {
        let ws = try TestWorkspace()
        try ws.write("buckets/bkt/x/ok.txt", "ok\n")
        try ws.write("buckets/bkt/x/evil/payload.txt", "owned\n")
        try FileManager.default.createDirectory(at: ws.url("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ws.url("out"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: ws.url("out/evil").path, withDestinationPath: ws.url("elsewhere").path)
        let report = try await ws.run(Self.header + """

            steps:
              down: {action: download, from: "disk://bkt/x/", to: out/}
            """)
        let step = report.step("down")
        #expect(step.status == .failed)
        #expect(step.error?.code == .unsafeKey)
        #expect(step.counts.transferred == 1)
        #expect(step.counts.refused == 1)
        let refused = step.transfers.first { $0.outcome == .refused }
        #expect(refused?.error?.message.contains("evil/payload.txt") == true)
        #expect(refused?.error?.message.contains("link") == true)
        #expect(!FileManager.default.fileExists(atPath: ws.url("elsewhere/payload.txt").path))
        #expect(try ws.read("out/ok.txt") == "ok\n")
    }
}
