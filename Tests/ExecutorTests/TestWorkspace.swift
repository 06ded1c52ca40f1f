import Foundation
import Providers
import Workflow
@testable import Executor

/// A temporary directory with a workflow file in it, removed at the end.
final class TestWorkspace {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    @discardableResult
    func write(_ path: String, _ text: String, mode: Int? = nil) throws -> URL {
        let url = self.url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path) }
        return url
    }

    func writeBytes(_ path: String, count: Int) throws {
        let url = self.url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        try Data(bytes).write(to: url)
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: url(path).path) }

    func read(_ path: String) throws -> String { try String(contentsOf: url(path), encoding: .utf8) }

    /// Every file under the workspace whose name starts with bucketflow's temp prefix.
    func temporaryFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if (path as NSString).lastPathComponent.hasPrefix(".bucketflow-tmp-") { found.append(path) }
        }
        return found
    }

    func load(_ yaml: String, name: String = "wf.yaml") throws -> Workflow {
        try write(name, yaml)
        BuiltInProviders.install()
        return try WorkflowLoader.load(path: url(name).path)
    }

    func run(_ yaml: String, configure: (inout RunOptions) -> Void = { _ in }, events: any EventSink = NullEventSink()) async throws -> RunReport {
        let workflow = try load(yaml)
        var options = RunOptions(dataDirectory: url("data"), userName: "tester", runID: "test-run", startedAt: Date(timeIntervalSince1970: 1_795_000_000))
        options.environment = ["HOME": root.path]
        options.random = { 0.5 }
        configure(&options)
        return await Executor(workflow: workflow, options: options, events: events).run()
    }
}

extension RunReport {
    func step(_ id: String) -> StepReport { steps.first { $0.id == id }! }
}
