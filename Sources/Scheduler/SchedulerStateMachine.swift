/// The dependency-graph scheduler as a pure state machine.
///
/// Events go in (`start`, `stepFinished`, `retryDelayElapsed`,
/// `conditionEvaluated`, `cancel`), actions come out. It performs no I/O, owns
/// no clock and no tasks, so every ordering rule is unit-tested without
/// concurrency; the executor's task group is the only thing that turns
/// actions into work.
///
/// The graph must already be validated: every need names a step and there is
/// no cycle (the workflow validator guarantees both).
public struct SchedulerStateMachine: Sendable {
    /// One node of the graph as the scheduler sees it.
    public struct Step: Sendable, Hashable {
        public var id: String
        public var needs: [String]
        public var condition: StepCondition
        public var retry: RetryPolicy
        public var continueOnError: Bool
        /// The step's condition can hold in a cancelled run (its `if:` uses
        /// `cancelled()`): after `cancel()` it stays pending, and runs once its
        /// needs have ended if the driver's evaluation says so (cleanup steps).
        public var runsAfterCancel: Bool

        public init(id: String, needs: [String] = [], condition: StepCondition = .success, retry: RetryPolicy = .none, continueOnError: Bool = false, runsAfterCancel: Bool = false) {
            self.id = id
            self.needs = needs
            self.condition = condition
            self.retry = retry
            self.continueOnError = continueOnError
            self.runsAfterCancel = runsAfterCancel && condition == .expression
        }
    }

    private struct Node {
        var step: Step
        /// Indices of the needs that name a step, in `needs` order (with repeats).
        var needs: [Int]
        var status: StepStatus = .pending
        var attempts = 0
        var awaitingCondition = false
        var approved = false
        var waitingForRetry = false
        /// Entries of `needs` that have not ended yet.
        var unfinishedNeeds: Int
    }

    private var nodes: [Node]
    private let index: [String: Int]
    /// For each step, the steps whose `needs` name it (once per entry).
    private let dependents: [[Int]]
    private let concurrency: Int
    private var running = 0
    private var cancelled = false
    private var finished = false
    private var ended = 0
    /// Steps that failed without `continue-on-error`.
    private var hardFailures = 0
    /// Steps to look at in the current scheduling pass (pending steps whose
    /// needs have all ended since they were last looked at), by declaration order.
    private var candidates = IndexHeap()
    /// Steps that became ready during a pass, before the pass's position:
    /// looked at in the next pass.
    private var nextPass: [Int] = []
    /// Approved steps waiting for a free slot, by declaration order.
    private var waiting = IndexHeap()
    /// The declaration index the current pass has reached (-1 outside a pass).
    private var cursor = -1

    /// How many times the scheduler has looked at a step: a work counter,
    /// linear in the number of steps over a whole run (tests use it to catch
    /// a regression to re-scanning every step on every event).
    public private(set) var stepsExamined = 0

    /// - Parameters:
    ///   - steps: The steps in declaration order (which breaks ties when more
    ///     steps are ready than there are slots).
    ///   - concurrency: How many steps may be in flight at once (at least 1).
    public init(steps: [Step], concurrency: Int) {
        let index = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($1.id, $0) })
        var dependents: [[Int]] = Array(repeating: [], count: steps.count)
        var nodes: [Node] = []
        nodes.reserveCapacity(steps.count)
        for (i, step) in steps.enumerated() {
            let needs = step.needs.compactMap { index[$0] }
            for need in needs { dependents[need].append(i) }
            nodes.append(Node(step: step, needs: needs, unfinishedNeeds: needs.count))
        }
        self.index = index
        self.nodes = nodes
        self.dependents = dependents
        self.concurrency = max(1, concurrency)
    }

    public func status(of id: String) -> StepStatus? { index[id].map { nodes[$0].status } }
    public func attempts(of id: String) -> Int { index[id].map { nodes[$0].attempts } ?? 0 }

    /// The run's outcome so far: failed if a step failed without
    /// `continue-on-error`, cancelled after `cancel()`, else succeeded.
    public var runStatus: RunStatus {
        if cancelled { return .cancelled }
        if hardFailures > 0 { return .failed }
        return .succeeded
    }

    // MARK: Events

    public mutating func start() -> [SchedulerAction] {
        for i in nodes.indices where nodes[i].unfinishedNeeds == 0 { candidates.push(i) }
        return advance()
    }

    /// An attempt of `id` ended.
    public mutating func stepFinished(_ id: String, outcome: StepOutcome) -> [SchedulerAction] {
        guard let i = index[id], nodes[i].status == .running else { return [] }
        var actions: [SchedulerAction] = []
        switch outcome {
        case .succeeded:
            running -= 1
            end(i, as: .succeeded)
        case .cancelled:
            running -= 1
            end(i, as: .cancelled)
        case .failed:
            if !cancelled && nodes[i].attempts < nodes[i].step.retry.attempts {
                nodes[i].waitingForRetry = true
                let next = nodes[i].attempts + 1
                actions.append(.scheduleRetry(step: id, attempt: next, baseDelay: nodes[i].step.retry.baseDelay(beforeAttempt: next)))
            } else {
                running -= 1
                end(i, as: .failed)
            }
        }
        return actions + advance()
    }

    /// The backoff before a retry of `id` is over: start the next attempt.
    public mutating func retryDelayElapsed(_ id: String) -> [SchedulerAction] {
        guard let i = index[id], nodes[i].status == .running, nodes[i].waitingForRetry else { return [] }
        nodes[i].waitingForRetry = false
        if cancelled {
            running -= 1
            end(i, as: .cancelled)
            return advance()
        }
        nodes[i].attempts += 1
        return [.startStep(step: id, attempt: nodes[i].attempts)]
    }

    /// The answer to ``SchedulerAction/evaluateCondition(step:success:failure:)``.
    ///
    /// - Parameter reason: Why the step is skipped when `result` is false.
    public mutating func conditionEvaluated(_ id: String, result: Bool, reason: String) -> [SchedulerAction] {
        guard let i = index[id], nodes[i].awaitingCondition else { return [] }
        nodes[i].awaitingCondition = false
        if result {
            nodes[i].approved = true
            waiting.push(i)
            return advance()
        }
        end(i, as: .skipped)
        return [.skipStep(step: id, reason: reason)] + advance()
    }

    /// Stop starting work. Running steps are asked to cancel; pending steps
    /// end as cancelled.
    public mutating func cancel() -> [SchedulerAction] {
        guard !cancelled, !finished else { return [] }
        cancelled = true
        var actions: [SchedulerAction] = []
        var inFlight: [String] = []
        for i in nodes.indices {
            let id = nodes[i].step.id
            switch nodes[i].status {
            case .pending where nodes[i].step.runsAfterCancel:
                // Evaluated again once its needs have ended, with cancelled() true.
                nodes[i].awaitingCondition = false
                nodes[i].approved = false
                if nodes[i].unfinishedNeeds == 0 { candidates.push(i) }
            case .pending:
                nodes[i].awaitingCondition = false
                end(i, as: .cancelled)
                actions.append(.cancelStep(step: id, reason: "the run was cancelled before this step started"))
            case .running where nodes[i].waitingForRetry:
                nodes[i].waitingForRetry = false
                running -= 1
                end(i, as: .cancelled)
                actions.append(.cancelStep(step: id, reason: "the run was cancelled while this step waited to retry"))
            case .running:
                inFlight.append(id)
            default:
                break
            }
        }
        if !inFlight.isEmpty { actions.append(.cancelRunning(steps: inFlight)) }
        return actions + advance()
    }

    // MARK: Scheduling

    /// A step ends: its dependents whose needs have now all ended become
    /// candidates (in this pass if they come later in declaration order,
    /// else in the next one, as a scan in declaration order would find them).
    private mutating func end(_ i: Int, as status: StepStatus) {
        nodes[i].status = status
        ended += 1
        if status == .failed && !nodes[i].step.continueOnError { hardFailures += 1 }
        for dependent in dependents[i] {
            nodes[dependent].unfinishedNeeds -= 1
            guard nodes[dependent].unfinishedNeeds == 0, nodes[dependent].status == .pending else { continue }
            if dependent > cursor { candidates.push(dependent) } else { nextPass.append(dependent) }
        }
    }

    /// Looks at the candidates (and, while slots are free, the approved steps
    /// waiting for one) in declaration order, pass after pass until nothing
    /// changes: the same decisions, in the same order, as scanning every step
    /// in declaration order, but touching only steps whose state can change.
    private mutating func advance() -> [SchedulerAction] {
        guard !finished else { return [] }
        var actions: [SchedulerAction] = []
        while true {
            while true {
                let fromWaiting: Bool
                if let next = candidates.min {
                    if running < concurrency, let slotted = waiting.min, slotted < next { fromWaiting = true } else { fromWaiting = false }
                } else if running < concurrency, waiting.min != nil {
                    fromWaiting = true
                } else {
                    break
                }
                let i = fromWaiting ? waiting.popMin()! : candidates.popMin()!
                guard i > cursor else { continue }   // already looked at in this pass
                cursor = i
                stepsExamined += 1
                look(at: i, actions: &actions)
            }
            cursor = -1
            guard !nextPass.isEmpty else { break }
            candidates = IndexHeap(sorted: nextPass.sorted())
            nextPass = []
        }
        if running == 0, ended == nodes.count {
            finished = true
            actions.append(.runFinished(runStatus))
        }
        return actions
    }

    /// What a scan in declaration order does with step `i`.
    private mutating func look(at i: Int, actions: inout [SchedulerAction]) {
        let node = nodes[i]
        guard node.status == .pending, !node.awaitingCondition, node.unfinishedNeeds == 0 else { return }
        // Once cancelled, only cleanup steps (`if: cancelled()`) may still start.
        if cancelled && !node.step.runsAfterCancel { return }
        if !node.approved {
            if let decision = decide(i) {
                if let reason = decision {
                    end(i, as: .skipped)
                    actions.append(.skipStep(step: node.step.id, reason: reason))
                    return
                }
                nodes[i].approved = true
            } else {
                nodes[i].awaitingCondition = true
                actions.append(.evaluateCondition(step: node.step.id, success: allNeedsSucceeded(i), failure: upstreamFailed(i)))
                return
            }
        }
        guard running < concurrency else {
            waiting.push(i)
            return
        }
        nodes[i].status = .running
        nodes[i].attempts = 1
        running += 1
        actions.append(.startStep(step: node.step.id, attempt: 1))
    }

    /// For built-in conditions: `.some(nil)` runs, `.some(reason)` skips;
    /// `nil` means the driver must evaluate an expression.
    private func decide(_ i: Int) -> String?? {
        switch nodes[i].step.condition {
        case .always:
            return .some(nil)
        case .success:
            for need in nodes[i].needs {
                let dependency = nodes[need]
                let name = dependency.step.id
                switch dependency.status {
                case .succeeded: continue
                case .failed where dependency.step.continueOnError: continue
                case .failed: return .some("needs '\(name)' failed")
                case .skipped: return .some("needs '\(name)' was skipped")
                case .cancelled: return .some("needs '\(name)' was cancelled")
                default: return .some("needs '\(name)' did not succeed")
                }
            }
            return .some(nil)
        case .failure:
            return upstreamFailed(i) ? .some(nil) : .some("if: failure() is false: no step upstream failed")
        case .expression:
            return nil
        }
    }

    private func allNeedsSucceeded(_ i: Int) -> Bool {
        nodes[i].needs.allSatisfy { need in
            let dependency = nodes[need]
            return dependency.status == .succeeded || (dependency.status == .failed && dependency.step.continueOnError)
        }
    }

    /// Whether any transitive need failed (not counting `continue-on-error`).
    private func upstreamFailed(_ i: Int) -> Bool {
        var seen: Set<Int> = []
        var stack = nodes[i].needs
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            let node = nodes[next]
            if node.status == .failed && !node.step.continueOnError { return true }
            stack.append(contentsOf: node.needs)
        }
        return false
    }
}

/// How one attempt of a step ended, as the driver reports it.
public enum StepOutcome: Sendable, Hashable {
    case succeeded
    case failed
    case cancelled
}

/// How a whole run ended.
public enum RunStatus: String, Sendable, Hashable, Codable {
    case succeeded
    case failed
    case cancelled
}

/// What the driver must do next.
public enum SchedulerAction: Sendable, Hashable {
    /// Run attempt `attempt` (1-based) of the step.
    case startStep(step: String, attempt: Int)
    /// Wait about `baseDelay` seconds (apply jitter), then send `retryDelayElapsed`.
    case scheduleRetry(step: String, attempt: Int, baseDelay: Double)
    /// The step will not run.
    case skipStep(step: String, reason: String)
    /// Evaluate the step's `if:` expression and send `conditionEvaluated`.
    /// `success`/`failure` are what `success()` and `failure()` mean for it.
    case evaluateCondition(step: String, success: Bool, failure: Bool)
    /// Cancel these in-flight steps; each still reports `stepFinished`.
    case cancelRunning(steps: [String])
    /// A step that never started ends as cancelled.
    case cancelStep(step: String, reason: String)
    /// Nothing is left to do.
    case runFinished(RunStatus)
}
