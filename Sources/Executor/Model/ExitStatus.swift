/// The process exit codes of the command-line contract, typed.
public enum ExitStatus: Int32, Sendable, Hashable, Codable {
    /// The run succeeded; a plan found nothing to do (or, without
    /// `--detailed-exitcode`, any plan that could be made).
    case success = 0
    /// A step failed; a plan hit an error (`--detailed-exitcode`: any error).
    case stepFailed = 1
    /// Invalid workflow or usage; with `plan --detailed-exitcode`: changes pending.
    case invalid = 2
    /// Another run of the same workflow holds its lock.
    case locked = 3
    /// Interrupted by SIGINT/SIGTERM.
    case interrupted = 130

    /// `plan --detailed-exitcode`'s "changes pending" (Terraform's 2).
    public static let changesPending = ExitStatus.invalid

    /// The code a finished run or plan ends with.
    public init(report: RunReport) {
        switch report.run.status {
        case .succeeded: self = .success
        // A plan fails closed: any step it could not plan is an error,
        // `continue-on-error` or not.
        case .planned: self = report.totals.failed > 0 ? .stepFailed : .success
        case .failed: self = .stepFailed
        case .cancelled: self = .interrupted
        }
    }
}

/// What the binary is.
public enum BucketflowInfo {
    public static let version = "0.2.0"
}
