import Foundation
import Crypto
import Testing
import Providers
import Storage

/// One storage the conformance suite runs against, made through the
/// registry from settings and credentials, as a workflow's `storage:` is.
struct ConformanceTarget: Sendable, CustomTestStringConvertible {
    var label: String
    var provider: String
    var settings: [String: ProviderSettingValue]
    var credentials: ProviderCredentials?
    /// Capabilities the provider declares that this particular server does
    /// not have (declared here, once, for the server; tests read only
    /// ``capabilities``).
    var serverLacks: Set<String> = []
    /// The setting that gets a fresh scratch directory per test (local's `root`).
    var scratchDirectorySetting: String?

    var testDescription: String { label }

    var registered: any StorageProvider {
        guard let provider = BuiltInProviders.registry.provider(named: provider) else {
            fatalError("provider \(provider) is not in the registry")
        }
        return provider
    }

    var capabilities: ProviderCapabilities {
        var c = registered.capabilities
        if serverLacks.contains("keepsUserMetadata") { c.keepsUserMetadata = false }
        if serverLacks.contains("serverSideCopy") { c.serverSideCopy = false }
        if serverLacks.contains("emptyFolders") { c.emptyFolders = false }
        return c
    }

    /// Above the multipart / large-file threshold configured below.
    static let largeSize = 12 << 20

    func make(root: URL? = nil) throws -> any ObjectStorage {
        var settings = self.settings
        if let root, let key = scratchDirectorySetting { settings[key] = .string(root.path) }
        return try registered.make(
            settings: ProviderSettings(storageName: label, values: settings),
            credentials: credentials,
            context: ProviderContext(workflowDirectory: URL(fileURLWithPath: NSTemporaryDirectory()), environment: ProcessInfo.processInfo.environment))
    }

    /// A bucket name the provider's own naming rule accepts.
    func bucketName() -> String {
        let name = "bfc-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        precondition(registered.bucketNaming.check(name) == nil, "\(name): \(registered.bucketNaming.check(name)!)")
        return name
    }

    /// A fresh storage and bucket for one test; emptied and removed after.
    func withBucket(_ body: (any ObjectStorage, String) async throws -> Void) async throws {
        let root = scratchDirectorySetting != nil ? try Scratch.makeDirectory() : nil
        defer { if let root { try? FileManager.default.removeItem(at: root) } }
        let storage = try make(root: root)
        let bucket = bucketName()
        try await storage.createBucket(bucket)
        do {
            try await body(storage, bucket)
        } catch {
            try? await Self.empty(storage, bucket)
            try? await storage.deleteBucket(bucket)
            try? await storage.shutdown()
            throw error
        }
        try await Self.empty(storage, bucket)
        try await storage.deleteBucket(bucket)
        try await storage.shutdown()
    }

    static func empty(_ storage: any ObjectStorage, _ bucket: String) async throws {
        let keys = try await storage.listAll(bucket: bucket, prefix: "").map(\.key)
        let failures = try await storage.delete(bucket: bucket, keys: keys)
        #expect(failures.isEmpty, "\(failures)")
    }

    // MARK: the targets

    static let env = ProcessInfo.processInfo.environment
    static let inCI = env["CI"] != nil

    static let local = ConformanceTarget(label: "local", provider: "local", settings: [:], credentials: nil, scratchDirectorySetting: "root")

    /// `BUCKETFLOW_TEST_S3_SERVERS` (moto, rclone) with
    /// `BUCKETFLOW_TEST_S3_<NAME>_ENDPOINT/_ACCESS_KEY/_SECRET_KEY`.
    static let s3: [ConformanceTarget] = {
        guard let names = env["BUCKETFLOW_TEST_S3_SERVERS"], !names.isEmpty else { return [] }
        return names.split(separator: ",").compactMap { name in
            let prefix = "BUCKETFLOW_TEST_S3_\(name.uppercased())_"
            guard let endpoint = env[prefix + "ENDPOINT"], let access = env[prefix + "ACCESS_KEY"], let secret = env[prefix + "SECRET_KEY"] else { return nil }
            return ConformanceTarget(
                label: "s3-\(name)", provider: "s3",
                settings: ["endpoint": .string(endpoint), "addressing": .string("path"), "max-attempts": .number(3),
                           "multipart-threshold": .number(5 << 20), "part-size": .number(5 << 20), "part-concurrency": .number(2)],
                credentials: ProviderCredentials(source: "the environment (\(prefix)*)", values: ["aws_access_key_id": access, "aws_secret_access_key": secret]),
                // rclone serve s3 on its local backend keeps no user metadata,
                // and turns a `folder/` marker into a plain file `folder`.
                serverLacks: name == "rclone" ? ["keepsUserMetadata", "emptyFolders"] : [])
        }
    }()

    /// The B2 test front (`scripts/b2-test-server`): `BUCKETFLOW_TEST_B2_*`.
    static let b2: [ConformanceTarget] = {
        guard let endpoint = env["BUCKETFLOW_TEST_B2_ENDPOINT"], !endpoint.isEmpty,
              let keyID = env["BUCKETFLOW_TEST_B2_KEY_ID"], let key = env["BUCKETFLOW_TEST_B2_APPLICATION_KEY"] else { return [] }
        return [ConformanceTarget(
            label: "b2-native", provider: "b2",
            settings: ["endpoint": .string(endpoint), "max-attempts": .number(4),
                       "large-file-threshold": .number(5_000_000), "part-size": .number(5_000_000), "part-concurrency": .number(2)],
            credentials: ProviderCredentials(source: "the environment (BUCKETFLOW_TEST_B2_*)", values: ["key_id": keyID, "application_key": key]))]
    }()

    static let all: [ConformanceTarget] = [local] + s3 + b2
    static var serversConfigured: Bool { !s3.isEmpty && !b2.isEmpty }
}

/// Temporary files, removed by their owners.
enum Scratch {
    static func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A file of `count` pseudo-random bytes.
    static func file(in directory: URL, _ name: String, bytes count: Int, seed: UInt64 = 1) throws -> URL {
        var state = seed &* 0x9E3779B97F4A7C15 | 1
        var data = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            data[i] = UInt8(truncatingIfNeeded: state)
        }
        let url = directory.appendingPathComponent(name)
        try Data(data).write(to: url)
        return url
    }

    static func write(in directory: URL, _ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    static func contents(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    static func sha256(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }

    static func digest(_ url: URL, _ name: String) throws -> String? {
        let data = try Data(contentsOf: url)
        func hex(_ d: some Sequence<UInt8>) -> String { d.map { String(format: "%02x", $0) }.joined() }
        switch name {
        case "sha256": return hex(SHA256.hash(data: data))
        case "sha1": return hex(Insecure.SHA1.hash(data: data))
        case "md5": return hex(Insecure.MD5.hash(data: data))
        default: return nil
        }
    }

    static func read(_ storage: any ObjectStorage, _ bucket: String, _ key: String, range: Range<Int64>? = nil) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try await storage.read(bucket: bucket, key: key, range: range) { bytes += chunk }
        return bytes
    }
}
