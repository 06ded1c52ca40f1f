@testable import Scheduler

/// The scheduler as it was before it became incremental: every event scans
/// every step in declaration order. Kept only as the oracle of the
/// differential test (`IncrementalSchedulerTests`): the incremental machine
/// must emit exactly the same actions for any graph and any event sequence.
struct ReferenceScheduler {
    typealias Step = SchedulerStateMachine.Step

    private struct Node {
        var step: Step
        var status: StepStatus = .pending
        var attempts = 0
        var awaitingCondition = false
        var approved = false
        var waitingForRetry = false
    }

    private var nodes: [String: Node]
    private let order: [String]
    private let concurrency: Int
    private var running = 0
    private var cancelled = false
    private var finished = false

    /// - Parameters:
    ///   - steps: The steps in declaration order (which breaks ties when more
    ///     steps are ready than there are slots).
    ///   - concurrency: How many steps may be in flight at once (at least 1).
    init(steps: [Step], concurrency: Int) {
        self.order = steps.map(\.id)
        self.nodes = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, Node(step: $0)) })
        self.concurrency = max(1, concurrency)
    }

    func status(of id: String) -> StepStatus? { nodes[id]?.status }
    func attempts(of id: String) -> Int { nodes[id]?.attempts ?? 0 }

    /// The run's outcome so far: failed if a step failed without
    /// `continue-on-error`, cancelled after `cancel()`, else succeeded.
    var runStatus: RunStatus {
        if cancelled { return .cancelled }
        if nodes.values.contains(where: { $0.status == .failed && !$0.step.continueOnError }) { return .failed }
        return .succeeded
    }

    // MARK: Events

    mutating func start() -> [SchedulerAction] {
        advance()
    }

    /// An attempt of `id` ended.
    mutating func stepFinished(_ id: String, outcome: StepOutcome) -> [SchedulerAction] {
        guard var node = nodes[id], node.status == .running else { return [] }
        var actions: [SchedulerAction] = []
        switch outcome {
        case .succeeded:
            node.status = .succeeded
            running -= 1
        case .cancelled:
            node.status = .cancelled
            running -= 1
        case .failed:
            if !cancelled && node.attempts < node.step.retry.attempts {
                node.waitingForRetry = true
                let next = node.attempts + 1
                actions.append(.scheduleRetry(step: id, attempt: next, baseDelay: node.step.retry.baseDelay(beforeAttempt: next)))
            } else {
                node.status = .failed
                running -= 1
            }
        }
        nodes[id] = node
        return actions + advance()
    }

    /// The backoff before a retry of `id` is over: start the next attempt.
    mutating func retryDelayElapsed(_ id: String) -> [SchedulerAction] {
        guard var node = nodes[id], node.status == .running, node.waitingForRetry else { return [] }
        node.waitingForRetry = false
        if cancelled {
            node.status = .cancelled
            nodes[id] = node
            running -= 1
            return advance()
        }
        node.attempts += 1
        nodes[id] = node
        return [.startStep(step: id, attempt: node.attempts)]
    }

    /// The answer to ``SchedulerAction/evaluateCondition(step:success:failure:)``.
    ///
    /// - Parameter reason: Why the step is skipped when `result` is false.
    mutating func conditionEvaluated(_ id: String, result: Bool, reason: String) -> [SchedulerAction] {
        guard var node = nodes[id], node.awaitingCondition else { return [] }
        node.awaitingCondition = false
        if result {
            node.approved = true
            nodes[id] = node
            return advance()
        }
        node.status = .skipped
        nodes[id] = node
        return [.skipStep(step: id, reason: reason)] + advance()
    }

    /// Stop starting work. Running steps are asked to cancel; pending steps
    /// end as cancelled.
    mutating func cancel() -> [SchedulerAction] {
        guard !cancelled, !finished else { return [] }
        cancelled = true
        var actions: [SchedulerAction] = []
        var inFlight: [String] = []
        for id in order {
            guard var node = nodes[id] else { continue }
            switch node.status {
            case .pending where node.step.runsAfterCancel:
                // Evaluated again once its needs have ended, with cancelled() true.
                node.awaitingCondition = false
                node.approved = false
            case .pending:
                node.status = .cancelled
                node.awaitingCondition = false
                actions.append(.cancelStep(step: id, reason: "the run was cancelled before this step started"))
            case .running where node.waitingForRetry:
                node.waitingForRetry = false
                node.status = .cancelled
                running -= 1
                actions.append(.cancelStep(step: id, reason: "the run was cancelled while this step waited to retry"))
            case .running:
                inFlight.append(id)
            default:
                break
            }
            nodes[id] = node
        }
        if !inFlight.isEmpty { actions.append(.cancelRunning(steps: inFlight)) }
        return actions + advance()
    }

    // MARK: Scheduling

    private mutating func advance() -> [SchedulerAction] {
        guard !finished else { return [] }
        var actions: [SchedulerAction] = []
        do {
            var progressed = true
            while progressed {
                progressed = false
                for id in order {
                    guard let node = nodes[id], node.status == .pending, !node.awaitingCondition else { continue }
                    // Once cancelled, only cleanup steps (`if: cancelled()`) may still start.
                    if cancelled && !node.step.runsAfterCancel { continue }
                    guard node.step.needs.allSatisfy({ nodes[$0]?.status.isTerminal ?? true }) else { continue }
                    if !node.approved {
                        if let decision = decide(node.step) {
                            if let reason = decision {
                                nodes[id]?.status = .skipped
                                actions.append(.skipStep(step: id, reason: reason))
                                progressed = true
                                continue
                            }
                            nodes[id]?.approved = true
                        } else {
                            nodes[id]?.awaitingCondition = true
                            actions.append(.evaluateCondition(step: id, success: allNeedsSucceeded(node.step), failure: upstreamFailed(id)))
                            continue
                        }
                    }
                    guard running < concurrency else { continue }
                    nodes[id]?.status = .running
                    nodes[id]?.attempts = 1
                    running += 1
                    actions.append(.startStep(step: id, attempt: 1))
                    progressed = true
                }
            }
        }
        if running == 0, nodes.values.allSatisfy({ $0.status.isTerminal }) {
            finished = true
            actions.append(.runFinished(runStatus))
        }
        return actions
    }

    /// For built-in conditions: `.some(nil)` runs, `.some(reason)` skips;
    /// `nil` means the driver must evaluate an expression.
    private func decide(_ step: Step) -> String?? {
        switch step.condition {
        case .always:
            return .some(nil)
        case .success:
            for need in step.needs {
                guard let dependency = nodes[need] else { continue }
                switch dependency.status {
                case .succeeded: continue
                case .failed where dependency.step.continueOnError: continue
                case .failed: return .some("needs '\(need)' failed")
                case .skipped: return .some("needs '\(need)' was skipped")
                case .cancelled: return .some("needs '\(need)' was cancelled")
                default: return .some("needs '\(need)' did not succeed")
                }
            }
            return .some(nil)
        case .failure:
            return upstreamFailed(step.id) ? .some(nil) : .some("if: failure() is false: no step upstream failed")
        case .expression:
            return nil
        }
    }

    private func allNeedsSucceeded(_ step: Step) -> Bool {
        step.needs.allSatisfy { need in
            guard let dependency = nodes[need] else { return true }
            return dependency.status == .succeeded || (dependency.status == .failed && dependency.step.continueOnError)
        }
    }

    /// Whether any transitive need failed (not counting `continue-on-error`).
    private func upstreamFailed(_ id: String) -> Bool {
        var seen: Set<String> = []
        var stack = nodes[id]?.step.needs ?? []
        while let next = stack.popLast() {
            guard seen.insert(next).inserted, let node = nodes[next] else { continue }
            if node.status == .failed && !node.step.continueOnError { return true }
            stack.append(contentsOf: node.step.needs)
        }
        return false
    }
}

