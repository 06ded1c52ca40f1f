import Synchronization

/// Live numbers for progress displays that the run events do not carry:
/// how many objects and bytes a step is about to move (known once its
/// sources are listed), and bytes of objects still in flight.
///
/// Displays (the CLI's `ProgressReporter`) poll ``shared`` a few times a
/// second; the engine and actions feed it. Without feeding, displays fall
/// back to what the events say (objects and bytes of finished objects, no
/// totals, no ETA).
///
/// Where the engine feeds it:
/// - `expect(step:objects:bytes:)` in an upload/download/copy action, once its
///   items are known (before the first transfer starts);
/// - `moved(step:bytes:)` as bytes of an object in flight stream, and
///   `settled(step:bytes:)` with the same object's streamed total when its
///   outcome is recorded (so finished bytes are not counted twice: the
///   `objectTransferred` event counts them).
public final class RunProgress: Sendable {
    public static let shared = RunProgress()

    public struct Step: Sendable, Hashable {
        /// Objects the step will try (transfers, unchanged ones included); nil while unknown.
        public var expectedObjects: Int?
        /// Their bytes; nil while unknown.
        public var expectedBytes: Int64?
        /// Bytes streamed so far of objects not finished yet.
        public var bytesInFlight: Int64 = 0

        public init(expectedObjects: Int? = nil, expectedBytes: Int64? = nil, bytesInFlight: Int64 = 0) {
            self.expectedObjects = expectedObjects
            self.expectedBytes = expectedBytes
            self.bytesInFlight = bytesInFlight
        }
    }

    private let steps = Mutex<[String: Step]>([:])

    public init() {}

    public func expect(step: String, objects: Int, bytes: Int64?) {
        steps.withLock { steps in
            steps[step, default: Step()].expectedObjects = objects
            steps[step, default: Step()].expectedBytes = bytes
        }
    }

    public func moved(step: String, bytes: Int64) {
        steps.withLock { $0[step, default: Step()].bytesInFlight += bytes }
    }

    public func settled(step: String, bytes: Int64) {
        steps.withLock { steps in
            let now = steps[step, default: Step()].bytesInFlight
            steps[step, default: Step()].bytesInFlight = max(0, now - bytes)
        }
    }

    public func snapshot(_ step: String) -> Step? { steps.withLock { $0[step] } }

    /// Forget everything (a new run in the same process, tests).
    public func reset() { steps.withLock { $0 = [:] } }
}
