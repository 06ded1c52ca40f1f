import Foundation
import Testing
import LocalProvider
import Providers
import Storage
import Synchronization
import Workflow
@testable import Executor

/// Every storage of a run is made with the run's one memory budget, sized
/// by `RunOptions.memoryBudget`; another run gets a budget of its own.
struct MemoryBudgetWiringTests {
    /// The local provider under another name, noting the budget each
    /// storage is made with.
    struct SpyProvider: StorageProvider {
        let budgets = Budgets()
        final class Budgets: Sendable {
            let seen = Mutex<[MemoryBudget]>([])
        }
        let local = LocalProvider()
        var name: String { "spy" }
        var summary: String { "local, noting budgets" }
        var settings: [ProviderSetting] { local.settings }
        var requiresCredentials: Bool { false }
        var bucketNaming: BucketNamingRule { local.bucketNaming }
        var capabilities: ProviderCapabilities { local.capabilities }
        func make(settings: ProviderSettings, credentials: ProviderCredentials?, context: ProviderContext) throws -> any ObjectStorage {
            budgets.seen.withLock { $0.append(context.memoryBudget) }
            return try local.make(settings: settings, credentials: credentials, context: context)
        }
    }

    @Test func allStoragesOfARunShareOneBudgetOfTheRunsSize() async throws {
        let ws = try TestWorkspace()
        let spy = SpyProvider()
        let registry = StorageRegistry(BuiltInProviders.registry.providers + [spy])
        let yaml = """
            version: 1
            name: budgets
            storage:
              a: {provider: spy, root: a}
              b: {provider: spy, root: b}
            steps:
              one: {action: create-bucket, bucket: "a://xyz", if-exists: ok}
              two: {action: create-bucket, bucket: "b://xyz", if-exists: ok}
            """
        try ws.write("wf.yaml", yaml)
        let workflow = try StorageRegistry.$scoped.withValue(registry) { try WorkflowLoader.load(path: ws.url("wf.yaml").path) }
        for _ in 0..<2 {
            var options = RunOptions(dataDirectory: ws.url("data"), userName: "tester")
            options.storageRegistry = registry
            options.memoryBudget = 7 << 20
            let report = await Executor(workflow: workflow, options: options).run()
            #expect(report.run.status == .succeeded)
        }
        let seen = spy.budgets.seen.withLock { $0 }
        try #require(seen.count == 4)
        #expect(seen[0] === seen[1])
        #expect(seen[2] === seen[3])
        #expect(seen[0] !== seen[2])
        #expect(seen.allSatisfy { $0.capacity == 7 << 20 })
    }
}
