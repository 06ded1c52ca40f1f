import ArgumentParser

/// The exit codes of the command-line contract.
enum ExitCodes {
    static let success = ExitCode(0)
    static let stepFailed = ExitCode(1)
    static let invalid = ExitCode(2)
    static let locked = ExitCode(3)
    static let interrupted = ExitCode(130)
}
