import Foundation
import Synchronization

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

extension RunEvent {
    /// The same event with every free text passed through `f` (redaction).
    func mapText(_ f: (String) -> String) -> RunEvent {
        switch self {
        case .runStarted: return self
        case .stepStarted: return self
        case .stepRetrying(let step, let attempt, let delay, let error):
            return .stepRetrying(step: step, attempt: attempt, delaySeconds: delay, error: f(error))
        case .stepSucceeded(let step, let action, let seconds, let bytes, let objects, let summary):
            return .stepSucceeded(step: step, action: action, seconds: seconds, bytes: bytes, objects: objects, summary: summary.map(f))
        case .stepFailed(let step, let action, let seconds, let code, let message, let continueOnError):
            return .stepFailed(step: step, action: action, seconds: seconds, code: code, message: f(message), continueOnError: continueOnError)
        case .stepSkipped(let step, let reason): return .stepSkipped(step: step, reason: f(reason))
        case .stepCancelled(let step, let reason): return .stepCancelled(step: step, reason: f(reason))
        case .stepPlanned(let step, let action, let lines): return .stepPlanned(step: step, action: action, lines: lines.map(f))
        case .objectTransferred(let step, let operation, let target, let bytes):
            return .objectTransferred(step: step, operation: operation, target: f(target), bytes: bytes)
        case .warning(let step, let message): return .warning(step: step, message: f(message))
        case .runFinished: return self
        }
    }
}

/// Passes every event through the run's redaction layer before the console
/// (text or JSON lines) sees it.
final class RedactingEventSink: EventSink {
    let inner: any EventSink
    private let redaction = Mutex(Redaction(secrets: []))

    init(_ inner: any EventSink) { self.inner = inner }

    /// Called when credentials are loaded.
    func update(secrets: [String]) { redaction.withLock { $0 = Redaction(secrets: secrets) } }

    func emit(_ event: RunEvent) {
        let redaction = redaction.withLock { $0 }
        inner.emit(event.mapText(redaction.text))
    }
}
