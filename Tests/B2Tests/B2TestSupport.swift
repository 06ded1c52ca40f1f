import Foundation
import XCTest
import B2
import Storage

/// The B2 test front started by `scripts/b2-test-server start`
/// (`BUCKETFLOW_TEST_B2_*`), and helpers around it.
struct B2TestServer {
    var endpoint: String
    var keyID: String
    var applicationKey: String
    /// The real b2 CLI (`.venv-b2/bin/b2`).
    var cli: String

    /// The server from the environment; when it is missing the test fails
    /// on CI (`CI` set) and is skipped elsewhere.
    static func fromEnvironment(file: StaticString = #filePath, line: UInt = #line) throws -> B2TestServer {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["BUCKETFLOW_TEST_B2_ENDPOINT"], let keyID = env["BUCKETFLOW_TEST_B2_KEY_ID"],
              let key = env["BUCKETFLOW_TEST_B2_APPLICATION_KEY"], !endpoint.isEmpty else {
            let message = "BUCKETFLOW_TEST_B2_* not set: run `scripts/b2-test-server start && eval \"$(scripts/b2-test-server env)\"` first"
            if env["CI"] != nil {
                XCTFail(message, file: file, line: line)
            }
            throw XCTSkip(message)
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let cli = env["BUCKETFLOW_TEST_B2_CLI"] ?? root.appendingPathComponent(".venv-b2/bin/b2").path
        return B2TestServer(endpoint: endpoint, keyID: keyID, applicationKey: key, cli: cli)
    }

    func configuration(keyID: String? = nil, applicationKey: String? = nil) -> B2Configuration {
        var configuration = B2Configuration(keyId: keyID ?? self.keyID, applicationKey: applicationKey ?? self.applicationKey,
                                            authorizationURL: URL(string: endpoint)!)
        configuration.maxAttempts = 4
        return configuration
    }

    func storage(largeFileThreshold: Int64? = nil, partSize: Int64? = nil, keyID: String? = nil, applicationKey: String? = nil,
                 adjust: (inout B2Configuration) -> Void = { _ in }) throws -> B2Storage {
        var configuration = configuration(keyID: keyID, applicationKey: applicationKey)
        configuration.largeFileThreshold = largeFileThreshold
        configuration.partSize = partSize
        adjust(&configuration)
        return try B2Storage(configuration: configuration)
    }

    /// A fresh, unique bucket name (B2: 6-63 letters, digits, dashes).
    static func bucketName(_ tag: String) -> String {
        "bf-\(tag)-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
    }

    /// Request counts per API call, from the front's `/test/stats`.
    func stats() throws -> [String: Int] {
        let output = try Self.run("/usr/bin/env", ["python3", "-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())", "\(endpoint)/test/stats"])
        return try JSONDecoder().decode([String: Int].self, from: Data(output.utf8))
    }

    /// Makes every token issued so far answer 401 expired_auth_token.
    func expireTokens() throws {
        _ = try Self.run("/usr/bin/env", ["python3", "-c", "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b'', method='POST')).read()", "\(endpoint)/test/expire_tokens"])
    }

    /// The next `count` calls of `api` (or "download_by_name") answer
    /// `status` / `code`.
    func failNext(_ api: String, status: Int = 503, code: String = "service_unavailable", count: Int = 1, delay: Double = 0, message: String? = nil) throws {
        var spec: [String: Any] = ["api": api, "status": status, "code": code, "count": count, "delay": delay]
        if let message { spec["message"] = message }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        _ = try Self.run("/usr/bin/env", ["python3", "-c", "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST')).read()", "\(endpoint)/test/fail_next", body])
    }

    /// Change of a `/test/stats` counter while `body` runs.
    func delta(_ names: [String], _ body: () async throws -> Void) async throws -> [String: Int] {
        let before = try stats()
        try await body()
        let after = try stats()
        return Dictionary(uniqueKeysWithValues: names.map { ($0, (after[$0] ?? 0) - (before[$0] ?? 0)) })
    }

    /// Runs the real b2 CLI with its own account-info file, authorized by
    /// the environment (`B2_APPLICATION_KEY_ID` / `B2_APPLICATION_KEY`,
    /// realm `B2_ENVIRONMENT`).
    @discardableResult
    func b2(_ arguments: [String], keyID: String? = nil, applicationKey: String? = nil, accountInfo: URL) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["B2_ENVIRONMENT"] = endpoint
        env["B2_APPLICATION_KEY_ID"] = keyID ?? self.keyID
        env["B2_APPLICATION_KEY"] = applicationKey ?? self.applicationKey
        env["B2_ACCOUNT_INFO"] = accountInfo.path
        return try Self.run(cli, arguments, environment: env)
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting, so a chatty process cannot block.
        let errData = LockedData()
        let errThread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        guard process.terminationStatus == 0 else {
            throw CommandFailed(description: "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData.get(), as: UTF8.self).suffix(2000))")
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// SHA-1 of a file by `sha1sum` (independent of the provider's code).
    static func sha1(of url: URL) throws -> String {
        String(try run("/usr/bin/env", ["sha1sum", url.path]).prefix(40))
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ value: Data) { lock.lock(); data = value; finished = true; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}

/// A temporary directory removed at the end of the test.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("b2tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String, _ data: Data) throws -> URL {
        let target = url.appendingPathComponent(name)
        try data.write(to: target)
        return target
    }

    func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Pseudo-random bytes (fast, deterministic per seed).
    static func bytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed | 1
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt8.self)
            for index in 0..<count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                words[index] = UInt8(truncatingIfNeeded: state)
            }
        }
        return data
    }

    /// Names of leftover temporary download files.
    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasPrefix(".bucketflow-tmp-") }
    }
}

extension ObjectByteStream {
    func collect() async throws -> Data {
        var data = Data()
        for try await chunk in self { data.append(contentsOf: chunk) }
        return data
    }
}
