/// What a step did (or, in a plan, would do) to one object, bucket or folder.
public enum ObjectOperation: String, Sendable, Hashable, Codable, CaseIterable {
    case upload, download, copy, delete, inspect
    case createBucket = "create-bucket"
    case deleteBucket = "delete-bucket"
    case createFolder = "create-folder"
}

/// How one object ended.
public enum ObjectOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Moved (uploaded, downloaded, copied), deleted or created.
    case transferred
    /// Left alone: the destination already held the same bytes (`skip-unchanged`),
    /// or the bucket/folder already existed.
    case unchanged
    /// The operation failed; `error` says why.
    case failed
    /// Never attempted because its name is unsafe (e.g. `a/../../x` for a download).
    case refused
    /// In flight when the run was cancelled; nothing is left under its final name.
    case cancelled
    /// Plans only: the run would do this.
    case planned
    /// Read and checked (`inspect`); not a transfer.
    case inspected
}

/// One entry of `steps[].transfers` in the report.
public struct ObjectRecord: Sendable, Hashable, Codable {
    public var operation: ObjectOperation
    public var outcome: ObjectOutcome
    public var source: String?
    public var target: String?
    public var bytes: Int64
    /// Checksums computed while the bytes streamed (algorithm → hex).
    public var checksums: [String: String]?
    public var error: ErrorInfo?
    /// When the transfer itself ran (after it got a transfer slot), RFC 3339
    /// with milliseconds; nil for objects never started (refused, planned).
    public var startedAt: String?
    public var finishedAt: String?

    public init(operation: ObjectOperation, outcome: ObjectOutcome, source: String? = nil, target: String? = nil, bytes: Int64 = 0, checksums: [String: String]? = nil, error: ErrorInfo? = nil, startedAt: String? = nil, finishedAt: String? = nil) {
        self.operation = operation
        self.outcome = outcome
        self.source = source
        self.target = target
        self.bytes = bytes
        self.checksums = checksums?.isEmpty == true ? nil : checksums
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// The name a person recognizes: the destination, else the source.
    public var name: String { target ?? source ?? "" }
}

/// `{code, message}` of a failed step or object.
public struct ErrorInfo: Sendable, Hashable, Codable {
    public var code: ErrorCode
    public var message: String

    public init(code: ErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: StepError) { self.init(code: error.code, message: error.message) }
}

/// Objects of one step (or a whole run) by outcome.
public struct ObjectCounts: Sendable, Hashable, Codable {
    public var transferred = 0
    public var unchanged = 0
    public var failed = 0
    public var refused = 0
    public var cancelled = 0
    public var planned = 0
    public var inspected = 0
    /// Bytes of transferred (plans: planned) objects.
    public var bytes: Int64 = 0

    public init() {}

    /// Counts objects (and folder markers); buckets are not objects.
    public mutating func add(_ record: ObjectRecord) {
        if record.operation == .createBucket || record.operation == .deleteBucket { return }
        switch record.outcome {
        case .transferred: transferred += 1; bytes += record.bytes
        case .unchanged: unchanged += 1
        case .failed: failed += 1
        case .refused: refused += 1
        case .cancelled: cancelled += 1
        case .planned: planned += 1; bytes += record.bytes
        case .inspected: inspected += 1
        }
    }

    public mutating func add(_ other: ObjectCounts) {
        transferred += other.transferred; unchanged += other.unchanged; failed += other.failed
        refused += other.refused; cancelled += other.cancelled; planned += other.planned
        inspected += other.inspected; bytes += other.bytes
    }
}
