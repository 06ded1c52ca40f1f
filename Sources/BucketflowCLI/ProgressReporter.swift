import ArgumentParser
import Foundation
import Executor
import Synchronization

/// `--progress`: when to show live progress.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Only when stderr is a terminal.
    case auto
    case always
    case never

    /// Set while parsing (`WorkflowOptions.validate()`), read by the console
    /// reporter that `run` creates.
    private static let selected = Mutex(ProgressMode.auto)

    static var current: ProgressMode {
        get { selected.withLock { $0 } }
        set { selected.withLock { $0 = newValue } }
    }

    /// Whether progress is shown: `auto` asks whether stderr is a terminal.
    func isEnabled(stderrIsTerminal: Bool = isatty(STDERR_FILENO) == 1) -> Bool {
        switch self {
        case .auto: return stderrIsTerminal
        case .always: return true
        case .never: return false
        }
    }
}

/// Live progress of a run: on a terminal, one aggregate line (objects
/// done/total, bytes, rate, ETA) and a line per active step, redrawn in
/// place on stderr at most four times a second; with `--log-format json`,
/// a `progress` event with the same numbers once a second.
///
/// Other console lines pass through ``printAbove(_:toStderr:)``, which clears
/// the progress block first, so the two never interleave.
final class ProgressReporter: Sendable {
    enum Style: Sendable { case terminal, json }

    struct ActiveStep: Sendable {
        var id: String
        var action: String
        var started: Date
        var attempt: Int
        var objects = 0
        var bytes: Int64 = 0
    }

    struct Numbers: Sendable, Equatable {
        var objectsDone: Int
        var objectsTotal: Int?
        var bytesDone: Int64
        var bytesTotal: Int64?
        var bytesPerSecond: Double
        var etaSeconds: Double?
        var stepsDone: Int
        var stepsTotal: Int
        var elapsed: Double
    }

    private struct State {
        var running = false
        var started = Date()
        var stepsTotal = 0
        var stepsDone = 0
        var active: [ActiveStep] = []
        /// Finished objects and their bytes (from the events).
        var objectsDone = 0
        var bytesDone: Int64 = 0
        /// What the finished steps moved: their share of the totals.
        var finishedExpected: (objects: Int, bytes: Int64) = (0, 0)
        /// Lines of the block currently on screen.
        var drawn = 0
        /// (time, bytes) samples for the rate, newest last.
        var samples: [(Date, Int64)] = []
        var task: Task<Void, Never>?
    }

    /// Orders the block's redraws and the lines printed above it.
    private static let lock = NSLock()

    let style: Style
    let color: Bool
    let interval: Duration
    let source: RunProgress
    /// Whether a clock calls ``tick()`` (tests call it themselves).
    let ticking: Bool
    private let state = Mutex(State())

    init(style: Style, color: Bool, source: RunProgress = .shared, ticking: Bool = true) {
        self.style = style
        self.color = color
        self.source = source
        self.ticking = ticking
        interval = style == .terminal ? .milliseconds(250) : .seconds(1)
    }

    /// `NO_COLOR` (any non-empty value) and `TERM=dumb` turn colour off.
    static func colorAllowed(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if let value = environment["NO_COLOR"], !value.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    // MARK: events

    func handle(_ event: RunEvent) {
        switch event {
        case .runStarted(_, _, let dryRun, let steps):
            guard !dryRun else { return }
            state.withLock { state in
                state.running = true
                state.started = Date()
                state.stepsTotal = steps
            }
            start()
        case .stepStarted(let step, let action, let attempt):
            state.withLock { state in
                if let index = state.active.firstIndex(where: { $0.id == step }) {
                    // A retry starts over: its objects count again.
                    state.objectsDone -= state.active[index].objects
                    state.bytesDone -= state.active[index].bytes
                    state.active[index] = ActiveStep(id: step, action: action, started: Date(), attempt: attempt)
                } else {
                    state.active.append(ActiveStep(id: step, action: action, started: Date(), attempt: attempt))
                }
            }
        case .objectTransferred(let step, _, _, let bytes):
            state.withLock { state in
                state.objectsDone += 1
                state.bytesDone += bytes
                if let index = state.active.firstIndex(where: { $0.id == step }) {
                    state.active[index].objects += 1
                    state.active[index].bytes += bytes
                }
            }
        case .stepSucceeded(let step, _, _, _, _, _), .stepFailed(let step, _, _, _, _, _), .stepCancelled(let step, _):
            end(step)
        case .stepSkipped:
            state.withLock { $0.stepsDone += 1 }
        case .runFinished:
            stop()
        default:
            break
        }
    }

    private func end(_ step: String) {
        state.withLock { state in
            state.stepsDone += 1
            guard let index = state.active.firstIndex(where: { $0.id == step }) else { return }
            let done = state.active.remove(at: index)
            // A finished step adds what it moved to the totals (objects left
            // unchanged, failed or refused were expected but did not move).
            state.finishedExpected.objects += done.objects
            state.finishedExpected.bytes += done.bytes
        }
    }

    // MARK: the clock

    private func start() {
        guard ticking else { return }
        let interval = self.interval
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                self.tick()
            }
        }
        state.withLock { $0.task = task }
    }

    private func stop() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.running = false
            let task = state.task
            state.task = nil
            return task
        }
        task?.cancel()
        if style == .terminal {
            Self.lock.withLock {
                let text = clear()
                if !text.isEmpty { FileHandle.standardError.write(Data(text.utf8)) }
            }
        }
    }

    /// One redraw (terminal) or one `progress` event (JSON). Under the
    /// lock, so a run that just finished is never drawn again.
    func tick() {
        Self.lock.withLock {
            let (numbers, active, running) = snapshot(now: Date())
            guard running else { return }
            switch style {
            case .json:
                Console.out(Self.jsonEvent(numbers, active: active))
            case .terminal:
                let lines = Self.lines(numbers, active: active, color: color, width: Self.terminalWidth())
                var text = clear()
                for line in lines { text += "\r" + line + "\u{1B}[K\n" }
                state.withLock { $0.drawn = lines.count }
                FileHandle.standardError.write(Data(text.utf8))
            }
        }
    }

    /// Prints a console line without tearing the progress block: the block
    /// is cleared and redrawn by the next tick (so redraws stay at most four
    /// a second).
    func printAbove(_ line: String, toStderr: Bool) {
        guard style == .terminal else {
            toStderr ? Console.error(line) : Console.out(line)
            return
        }
        Self.lock.withLock {
            let clearing = clear()
            if !clearing.isEmpty { FileHandle.standardError.write(Data(clearing.utf8)) }
            (toStderr ? FileHandle.standardError : FileHandle.standardOutput).write(Data((line + "\n").utf8))
        }
    }

    /// Moves up over the drawn block and erases it.
    private func clear() -> String {
        let drawn = state.withLock { state -> Int in
            let n = state.drawn
            state.drawn = 0
            return n
        }
        return drawn == 0 ? "" : "\u{1B}[\(drawn)A\r\u{1B}[J"
    }

    // MARK: numbers

    func snapshot(now: Date) -> (Numbers, [(ActiveStep, RunProgress.Step?)], Bool) {
        let expectations = state.withLock { $0.active.map(\.id) }.map { ($0, source.snapshot($0)) }
        let byStep = Dictionary(expectations, uniquingKeysWith: { a, _ in a })
        return state.withLock { state in
            var inFlight: Int64 = 0
            var objectsTotal: Int? = state.finishedExpected.objects
            var bytesTotal: Int64? = state.finishedExpected.bytes
            for step in state.active {
                let expected = byStep[step.id] ?? nil
                inFlight += expected?.bytesInFlight ?? 0
                if let objects = expected?.expectedObjects { objectsTotal? += max(objects, step.objects) } else { objectsTotal = nil }
                if let bytes = expected?.expectedBytes { bytesTotal? += max(bytes, step.bytes) } else { bytesTotal = nil }
            }
            // Unknown until every active step has said what it will move.
            if state.active.isEmpty && state.finishedExpected.objects == 0 { objectsTotal = nil; bytesTotal = nil }
            let bytes = state.bytesDone + inFlight
            state.samples.append((now, bytes))
            // A five-second window for the rate.
            while let first = state.samples.first, now.timeIntervalSince(first.0) > 5, state.samples.count > 2 { state.samples.removeFirst() }
            var rate = 0.0
            if let first = state.samples.first, now.timeIntervalSince(first.0) > 0.2 {
                rate = Double(bytes - first.1) / now.timeIntervalSince(first.0)
            }
            var eta: Double?
            if let bytesTotal, rate > 0, bytesTotal >= bytes { eta = Double(bytesTotal - bytes) / rate }
            let numbers = Numbers(objectsDone: state.objectsDone, objectsTotal: objectsTotal, bytesDone: bytes, bytesTotal: bytesTotal,
                                  bytesPerSecond: max(0, rate), etaSeconds: eta, stepsDone: state.stepsDone, stepsTotal: state.stepsTotal,
                                  elapsed: now.timeIntervalSince(state.started))
            return (numbers, state.active.map { ($0, byStep[$0.id] ?? nil) }, state.running)
        }
    }

    static func duration(_ s: Double) -> String {
        let total = Int(s.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
    }

    /// The block: the aggregate line, then one line per active step.
    static func lines(_ n: Numbers, active: [(ActiveStep, RunProgress.Step?)], color: Bool, width: Int) -> [String] {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var parts: [String] = []
        parts.append(n.objectsTotal.map { "\(n.objectsDone)/\($0) objects" } ?? plural(n.objectsDone, "object"))
        parts.append(n.bytesTotal.map { "\(ByteCount.format(n.bytesDone)) / \(ByteCount.format($0))" } ?? ByteCount.format(n.bytesDone))
        parts.append(ByteCount.format(Int64(n.bytesPerSecond)) + "/s")
        parts.append("ETA " + (n.etaSeconds.map(duration) ?? "--"))
        parts.append("\(n.stepsDone)/\(n.stepsTotal) steps")
        parts.append(duration(n.elapsed))
        var lines = [truncate(paint("▶", "36") + " " + parts.joined(separator: "  "), width: width, visibleExtra: color ? 9 : 0)]
        let now = Date()
        for (step, expected) in active {
            var text = "  \(step.id) [\(step.action)]"
            if step.attempt > 1 { text += " attempt \(step.attempt)" }
            let objects = expected?.expectedObjects.map { "\(step.objects)/\($0) objects" } ?? plural(step.objects, "object")
            let bytes = step.bytes + (expected?.bytesInFlight ?? 0)
            text += " " + objects + ", " + ByteCount.format(bytes)
            if let total = expected?.expectedBytes, total > 0 { text += " of \(ByteCount.format(total)) (\(Int((Double(bytes) / Double(total) * 100).rounded(.down)))%)" }
            text += ", " + duration(now.timeIntervalSince(step.started))
            lines.append(truncate(text, width: width, visibleExtra: 0))
        }
        return lines
    }

    /// Cuts a line to the terminal width so it never wraps (a wrapped line
    /// would break moving up over the block).
    static func truncate(_ line: String, width: Int, visibleExtra: Int) -> String {
        let limit = max(10, width - 1) + visibleExtra
        guard line.count > limit else { return line }
        return String(line.prefix(limit - 1)) + "…"
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    static func jsonEvent(_ n: Numbers, active: [(ActiveStep, RunProgress.Step?)]) -> String {
        var object: [String: JSONValue] = [
            "time": .string(Timestamps.rfc3339(Date())), "event": "progress",
            "objectsDone": .number(Double(n.objectsDone)), "bytesDone": .number(Double(n.bytesDone)),
            "bytesPerSecond": .number(n.bytesPerSecond.rounded()), "stepsDone": .number(Double(n.stepsDone)),
            "stepsTotal": .number(Double(n.stepsTotal)), "elapsedSeconds": .number((n.elapsed * 1000).rounded() / 1000),
        ]
        if let total = n.objectsTotal { object["objectsTotal"] = .number(Double(total)) }
        if let total = n.bytesTotal { object["bytesTotal"] = .number(Double(total)) }
        if let eta = n.etaSeconds { object["etaSeconds"] = .number(eta.rounded()) }
        let now = Date()
        object["activeSteps"] = .array(active.map { step, expected in
            var entry: [String: JSONValue] = [
                "step": .string(step.id), "action": .string(step.action), "attempt": .number(Double(step.attempt)),
                "objectsDone": .number(Double(step.objects)), "bytesDone": .number(Double(step.bytes + (expected?.bytesInFlight ?? 0))),
                "elapsedSeconds": .number((now.timeIntervalSince(step.started) * 1000).rounded() / 1000),
            ]
            if let total = expected?.expectedObjects { entry["objectsTotal"] = .number(Double(total)) }
            if let total = expected?.expectedBytes { entry["bytesTotal"] = .number(Double(total)) }
            return .object(entry)
        })
        return JSONValue.object(object).encoded()
    }
}
