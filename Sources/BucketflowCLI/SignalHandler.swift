import Foundation
import Synchronization

/// The write end of the self-pipe the C signal handler writes to.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// Runs in signal context: only async-signal-safe calls (write).
private func forwardSignal(_ signal: Int32) {
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteEnd, &byte, 1)
}

/// Turns SIGINT and SIGTERM into a callback (the commands cancel their work).
///
/// The handler is installed with `signal(2)` before `init` returns, so no
/// signal that arrives afterwards is lost (Dispatch signal sources register
/// asynchronously, which left a window where a signal was ignored). The
/// handler only writes the signal number to a pipe; a thread reads it and
/// calls `onSignal`. A second signal exits at once with 130.
final class SignalHandler: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init(onSignal: @escaping @Sendable (Int32) -> Void) {
        var ends: [Int32] = [-1, -1]
        _ = ends.withUnsafeMutableBufferPointer { pipe($0.baseAddress!) }
        readEnd = ends[0]
        writeEnd = ends[1]
        signalPipeWriteEnd = writeEnd
        let readEnd = self.readEnd
        let count = SignalCount()
        let thread = Thread {
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) == 1 {
                if count.increment() > 1 { exit(130) }
                onSignal(Int32(byte))
            }
        }
        thread.start()
        signal(SIGINT, forwardSignal)
        signal(SIGTERM, forwardSignal)
    }

    /// Restores the default handlers and ends the reading thread.
    func stop() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        close(writeEnd)
    }
}

private final class SignalCount: Sendable {
    private let count = Mutex(0)
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}
