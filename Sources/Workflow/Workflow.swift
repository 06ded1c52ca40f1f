public import Foundation
public import YAML

/// A validated workflow file.
public struct Workflow: Sendable {
    /// The path as the user gave it (used in diagnostics and reports).
    public var file: String
    /// The directory bare paths are resolved against.
    public var directory: URL
    /// SHA-256 of the file's bytes, hex.
    public var sha256: String
    public var version: Int
    public var name: String
    public var description: String?
    /// Declared variables in file order; values may use `env` and `run`.
    public var vars: [(name: String, value: Template)]
    public var storages: [StorageSpec]
    /// Steps in file order, with dependencies already resolved.
    public var steps: [Step] {
        didSet { stepIndex = Self.index(steps) }
    }
    public var schedules: [ScheduleSpec]
    public var overlap: OverlapPolicy
    /// How many past reports to keep in the history (nil: the default).
    public var keepReports: Int?
    /// Steps in flight at once (nil: the command line or default decides).
    public var concurrency: Int?
    /// The dependency graph of `steps`, with topological order and waves,
    /// computed once by the loader (recompute with `DependencyGraph(steps:)`
    /// after changing `steps`).
    public var graph: DependencyGraph
    /// Position of each step id in `steps` (the first, should one repeat).
    private var stepIndex: [String: Int]

    public init(file: String, directory: URL, sha256: String, version: Int, name: String, description: String?,
                vars: [(name: String, value: Template)], storages: [StorageSpec], steps: [Step], schedules: [ScheduleSpec],
                overlap: OverlapPolicy, keepReports: Int?, concurrency: Int?, graph: DependencyGraph) {
        self.file = file
        self.directory = directory
        self.sha256 = sha256
        self.version = version
        self.name = name
        self.description = description
        self.vars = vars
        self.storages = storages
        self.steps = steps
        self.schedules = schedules
        self.overlap = overlap
        self.keepReports = keepReports
        self.concurrency = concurrency
        self.graph = graph
        self.stepIndex = Self.index(steps)
    }

    private static func index(_ steps: [Step]) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(steps.count)
        for (i, step) in steps.enumerated() where index[step.id] == nil { index[step.id] = i }
        return index
    }

    /// The step with this id, in O(1).
    public func step(_ id: String) -> Step? { stepIndex[id].map { steps[$0] } }
    public func storage(_ name: String) -> StorageSpec? { storages.first { $0.name == name } }
}

/// What a second run does while another run of the same workflow holds its lock.
public enum OverlapPolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// Exit 3 at once, naming the run that holds the lock.
    case forbid
    /// Run anyway, concurrently.
    case allow
    /// Wait for the lock, then run.
    case queue
}

/// One `schedule:` entry.
public struct ScheduleSpec: Sendable, Hashable {
    public var cron: String
    public var timeZone: String
    public var mark: YAMLMark
}

/// A declared storage (`storage:` entry).
public struct StorageSpec: Sendable, Hashable {
    /// A `provider:` name; which names exist is the registry's business
    /// (``StorageRegistry``), not this target's.
    public struct Provider: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        public static let local = Provider(rawValue: "local")
        public static let s3 = Provider(rawValue: "s3")
        public static let b2 = Provider(rawValue: "b2")
    }

    public var name: String
    public var mark: YAMLMark
    public var provider: Provider
    /// Provider settings other than `provider` and `credentials`.
    public var settings: [String: Value]
    /// The load-credentials step whose values this storage uses.
    public var credentials: String?

    public func setting(_ key: String) -> Value? { settings[key] }
}

/// One step of the graph.
public struct Step: Sendable, Hashable {
    public var id: String
    public var mark: YAMLMark
    public var action: ActionKind
    public var description: String?
    /// `needs:` as written.
    public var explicitNeeds: [String]
    /// Explicit needs plus those implied by `${{ steps.X... }}` references and
    /// by storages whose `credentials` name a step, in file order.
    public var dependencies: [String]
    /// The `if:` condition; nil means `success()`.
    public var condition: Condition?
    public var retry: RetryPolicySpec
    /// Seconds; nil for no limit.
    public var timeout: Double?
    public var continueOnError: Bool
    /// The action's parameters.
    public var parameters: [String: Value]

    public func parameter(_ name: String) -> Value? { parameters[name] }
}

/// A step's `if:`.
public struct Condition: Sendable, Hashable {
    public var expression: Expression
    public var source: String
    public var mark: YAMLMark
}

/// A step's `retry:` as written.
public struct RetryPolicySpec: Sendable, Hashable {
    public var attempts: Int
    /// Seconds before the first retry; doubles each time.
    public var backoff: Double
    public var maxBackoff: Double

    public static let none = RetryPolicySpec(attempts: 1, backoff: 1, maxBackoff: 300)
}
