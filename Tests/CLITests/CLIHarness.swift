import Foundation

/// Runs the built `bucketflow` binary, as a user would, and captures what it
/// prints (argument-parser's AssertExecuteCommand, adapted).
struct CLIResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bucketflow")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return packageRoot.appendingPathComponent(".build/debug/bucketflow")
    }

    /// Starts the binary; the caller waits.
    /// Starts the binary (or, with `viaShell`, `arguments[0]` with the
    /// rest as its arguments); the caller waits. `clearEnvironment` starts
    /// from an empty environment instead of the test's.
    static func start(_ arguments: [String], in directory: URL, environment: [String: String] = [:], viaShell: Bool = false, clearEnvironment: Bool = false) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        if viaShell {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = directory
        if clearEnvironment {
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            return (process, out, err)
        }
        var env = ProcessInfo.processInfo.environment
        env["BUCKETFLOW_STATE_DIR"] = directory.appendingPathComponent("state").path
        env["BUCKETFLOW_DATA_DIR"] = directory.appendingPathComponent("data").path
        env["USER"] = "tester"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:], viaShell: Bool = false, clearEnvironment: Bool = false) throws -> CLIResult {
        let (process, out, err) = try start(arguments, in: directory, environment: environment, viaShell: viaShell, clearEnvironment: clearEnvironment)
        return finish(process, out, err)
    }

    /// ``run(_:in:environment:viaShell:clearEnvironment:)`` on a Dispatch
    /// thread. A test that waits seconds for a child must not hold one of the
    /// cooperative threads every other test in the process needs (two on a
    /// 2-core machine): held by long synchronous waits, they starve tests
    /// that wait for their own tasks (RunEngineTests timed out that way).
    static func runOffPool(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> CLIResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(arguments, in: directory, environment: environment) })
            }
        }
    }

    static func finish(_ process: Process, _ out: Pipe, _ err: Pipe) -> CLIResult {
        // Read before waiting so a full pipe cannot block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A copy of the repository's workflows/ and samples/ in a temporary
/// directory, so example runs write their var/ there, not into the checkout.
final class ExampleTree {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for folder in ["workflows", "samples"] {
            try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent(folder), to: root.appendingPathComponent(folder))
        }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// The private data area the origin workflow reads: credentials (0600) and the sample file.
    func prepareDataArea(secret: String = "K000c1ab70e8f7c67cf9d59128e3a3c", mode: Int = 0o600) throws {
        let credentials = url("data/tester/BackblazeCredentials/credentials.json")
        try FileManager.default.createDirectory(at: credentials.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(#"{"key_id": "000af74d6bf3db30000000001", "application_key": "\#(secret)"}"#.utf8).write(to: credentials)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: credentials.path)
        let file = url("data/tester/somecollection/somefile.png")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: url("samples/data/somecollection/somefile.png"), to: file)
    }

    func report(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(path))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Every file path and its size under `folder`, for before/after comparisons.
    func snapshot(_ folder: String = "") -> [String: Int] {
        var result: [String: Int] = [:]
        let base = url(folder)
        guard let enumerator = FileManager.default.enumerator(atPath: base.path) else { return result }
        while let path = enumerator.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: base.appendingPathComponent(path).path)
            result[path] = (attributes?[.size] as? Int) ?? -1
        }
        return result
    }
}
