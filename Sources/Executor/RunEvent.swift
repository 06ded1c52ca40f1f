import Foundation

/// What happens during a run, for the console (human or JSON lines).
public enum RunEvent: Sendable {
    case runStarted(workflow: String, runID: String, dryRun: Bool, steps: Int)
    case stepStarted(step: String, action: String, attempt: Int)
    case stepRetrying(step: String, attempt: Int, delaySeconds: Double, error: String)
    case stepSucceeded(step: String, action: String, seconds: Double, bytes: Int64, objects: Int, summary: String?)
    case stepFailed(step: String, action: String, seconds: Double, code: String, message: String, continueOnError: Bool)
    case stepSkipped(step: String, reason: String)
    case stepCancelled(step: String, reason: String)
    case stepPlanned(step: String, action: String, lines: [String])
    case objectTransferred(step: String, operation: String, target: String, bytes: Int64)
    case warning(step: String?, message: String)
    case runFinished(status: String, seconds: Double)
}

/// Receives events; implementations must be cheap and thread-safe.
public protocol EventSink: Sendable {
    func emit(_ event: RunEvent)
}

/// Discards events (tests, library use).
public struct NullEventSink: EventSink {
    public init() {}
    public func emit(_ event: RunEvent) {}
}
