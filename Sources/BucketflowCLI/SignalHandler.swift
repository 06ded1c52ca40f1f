import Foundation
import Dispatch
import Synchronization

/// Turns SIGINT and SIGTERM into cancellation of the running task.
///
/// The first signal cancels (the run stops starting work, cancels transfers,
/// removes partial files and still writes its report); a second one exits
/// at once with 130.
final class SignalHandler: Sendable {
    // Written once in init and only cancelled afterwards; dispatch sources
    // are thread-safe, Dispatch just does not say so to the compiler.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init(onSignal: @escaping @Sendable (Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        let state = SignalCount()
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if state.increment() > 1 { exit(130) }
                onSignal(signalNumber)
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func stop() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

private final class SignalCount: Sendable {
    private let count = Mutex(0)
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}
