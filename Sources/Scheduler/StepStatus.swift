/// Where one step stands in a run.
public enum StepStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for its needs (or for a free slot).
    case pending
    /// An attempt is in flight, or a retry is waiting for its backoff.
    case running
    case succeeded
    case failed
    case skipped
    case cancelled
    /// Only in plans: the step would run.
    case planned

    /// Whether the step will not change any more.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .skipped, .cancelled, .planned: return true
        case .pending, .running: return false
        }
    }
}
