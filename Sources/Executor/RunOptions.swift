public import Foundation
public import Storage
public import Workflow

/// How a run is carried out; everything the command line decides.
public struct RunOptions: Sendable {
    /// Plan only: resolve, expand and read listings, write nothing.
    public var dryRun = false
    /// Steps in flight at once (the workflow's `concurrency:` wins when set).
    public var concurrency = 4
    /// Object transfers in flight at once across all steps.
    public var transfers = 16
    /// Bytes of transfer buffers (upload parts, bodies read into memory)
    /// all transfers of the run may hold at once (`--memory-budget`).
    public var memoryBudget = MemoryBudget.defaultCapacity
    /// `--var k=v` overrides of declared variables.
    public var varOverrides: [String: String] = [:]
    /// The process environment (`${{ env.X }}`, credentials from the environment).
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Root of the hosted data area (`data://`).
    public var dataDirectory: URL
    /// The user `data://.my/` stands for.
    public var userName: String
    /// The run's id; also in the report's file name.
    public var runID: String
    /// The run's start time (injected so tests can pin `run.date`).
    public var startedAt: Date
    /// The providers storages are made by; nil: ``StorageRegistry/standard``
    /// (the CLI installs the built-in list).
    public var storageRegistry: StorageRegistry?
    /// `--only STEP --shard K/N`: the step handles only the objects whose
    /// key falls in shard K of N (``ShardAssignment``).
    public var shard: (step: String, assignment: ShardAssignment)?
    /// Random numbers in 0..<1 for retry jitter (injected so tests are exact).
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public init(dataDirectory: URL, userName: String, runID: String = RunOptions.makeRunID(), startedAt: Date = Date()) {
        self.dataDirectory = dataDirectory
        self.userName = userName
        self.runID = runID
        self.startedAt = startedAt
    }

    /// A unique id that sorts by start time: `20261124T023000.123Z-1a2b3c4d`.
    public static func makeRunID(at date: Date = Date()) -> String {
        let compact = Timestamps.compact(date)
        let millis = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let stamp = compact.dropLast() + String(format: ".%03dZ", millis)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(stamp)-\(String(repeating: "0", count: 8 - suffix.count))\(suffix)"
    }
}
