import Foundation
import Testing

/// scripts/kill_trials: runs SIGKILLed at random moments never leave a
/// partial file under a final name, and a rerun cleans up every temporary
/// file and unfinished multipart upload.
@Suite(.serialized) struct KillTrialsTests {
    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

    @Test(.timeLimit(.minutes(4)))
    func killedRunsLeaveNoPartialFilesAndRerunsCleanUp() throws {
        let script = CLI.packageRoot.appendingPathComponent("scripts/kill_trials")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // 20 trials of 2 files: within 90 s on a shared 2-core CI machine.
        process.arguments = ["python3", script.path, "--trials", "20", "--files", "2", "--bin", CLI.binary.path]
        process.currentDirectoryURL = CLI.packageRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let started = Date()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        print(text)
        #expect(process.terminationStatus == 0, Comment(rawValue: text))
        #expect(text.contains("20 trials passed"), Comment(rawValue: text))
        // The kills must land mid-run (not after the run ended) for the trials to prove anything.
        let killed = text.firstMatch(of: /\((\d+) killed mid-run/).flatMap { Int($0.1) } ?? 0
        #expect(killed >= 5, Comment(rawValue: text))
        // In CI, scripts/s3-test-servers has installed rclone: the S3 trials must run.
        if Self.inCI && ProcessInfo.processInfo.environment["BUCKETFLOW_TEST_S3_SERVERS"] != nil {
            #expect(!text.contains("S3 trials SKIPPED"), Comment(rawValue: text))
            #expect(text.contains("s3-upload") && text.contains("s3-download"), Comment(rawValue: text))
        }
        #expect(Date().timeIntervalSince(started) < (Self.inCI ? 90 : 180), "the trials took too long")
    }
}
