import Testing
@testable import Scheduler

/// The scheduler looks only at steps whose state can change, yet decides
/// exactly as a scan of every step in declaration order did: the same
/// actions, in the same order, for random graphs and random event sequences.
struct IncrementalSchedulerTests {
    typealias S = SchedulerStateMachine.Step

    /// A small deterministic generator (SplitMix64), so a failure replays.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    /// Random acyclic graph; declaration order is shuffled, so needs may
    /// come later in the file than the steps that name them.
    static func randomSteps(_ random: inout Random) -> [S] {
        let count = 1 + random.below(14)
        var steps: [S] = []
        for i in 0..<count {
            var needs: [String] = []
            if i > 0 {
                for _ in 0..<random.below(4) { needs.append("s\(random.below(i))") }   // repeats allowed
            }
            if random.chance(5) { needs.append("missing") }                          // ignored, as before
            let conditions: [StepCondition] = [.success, .success, .success, .failure, .always, .expression]
            let condition = conditions[random.below(conditions.count)]
            steps.append(S(
                id: "s\(i)", needs: needs, condition: condition,
                retry: RetryPolicy(attempts: 1 + random.below(3), backoff: 1),
                continueOnError: random.chance(20),
                runsAfterCancel: condition == .expression && random.chance(50)))
        }
        for i in stride(from: steps.count - 1, to: 0, by: -1) { steps.swapAt(i, random.below(i + 1)) }
        return steps
    }

    @Test func decidesExactlyAsAFullScanInDeclarationOrder() {
        var random = Random(state: 20_261_128)
        for trial in 0..<3000 {
            let steps = Self.randomSteps(&random)
            let concurrency = 1 + random.below(4)
            var machine = SchedulerStateMachine(steps: steps, concurrency: concurrency)
            var reference = ReferenceScheduler(steps: steps, concurrency: concurrency)
            var actions = machine.start()
            #expect(actions == reference.start(), "trial \(trial): start")
            var running: [String] = []
            var retrying: [String] = []
            var asking: [String] = []
            var events = 0
            func absorb(_ list: [SchedulerAction]) {
                for action in list {
                    switch action {
                    case .startStep(let id, _): running.append(id)
                    case .scheduleRetry(let id, _, _): running.removeAll { $0 == id }; retrying.append(id)
                    case .evaluateCondition(let id, _, _): asking.append(id)
                    case .cancelStep(let id, _): retrying.removeAll { $0 == id }
                    default: break
                    }
                }
            }
            absorb(actions)
            while !(running.isEmpty && retrying.isEmpty && asking.isEmpty), events < 200 {
                events += 1
                let choice = random.below(10)
                let other: [SchedulerAction]
                if choice == 0 {
                    actions = machine.cancel()
                    other = reference.cancel()
                } else if choice < 3, !asking.isEmpty {
                    let id = asking.remove(at: random.below(asking.count))
                    let result = random.chance(50)
                    actions = machine.conditionEvaluated(id, result: result, reason: "no")
                    other = reference.conditionEvaluated(id, result: result, reason: "no")
                } else if choice < 5, !retrying.isEmpty {
                    let id = retrying.remove(at: random.below(retrying.count))
                    actions = machine.retryDelayElapsed(id)
                    other = reference.retryDelayElapsed(id)
                } else if !running.isEmpty {
                    let id = running.remove(at: random.below(running.count))
                    let outcomes: [StepOutcome] = [.succeeded, .succeeded, .failed, .cancelled]
                    let outcome = outcomes[random.below(outcomes.count)]
                    actions = machine.stepFinished(id, outcome: outcome)
                    other = reference.stepFinished(id, outcome: outcome)
                } else {
                    continue
                }
                #expect(actions == other, "trial \(trial), event \(events)")
                guard actions == other else { return }
                absorb(actions)
            }
            for step in steps {
                #expect(machine.status(of: step.id) == reference.status(of: step.id), "trial \(trial): \(step.id)")
                #expect(machine.attempts(of: step.id) == reference.attempts(of: step.id))
            }
            #expect(machine.runStatus == reference.runStatus)
        }
    }

    /// The shape of the benchmark: chains of ten, each step also
    /// needing the one ten before. A scan of every step per event looks at
    /// n² / 2 steps (2·10⁸ here); the incremental scheduler at most a few per step.
    @Test func workIsLinearInTheNumberOfSteps() {
        let count = 20_000
        let steps = (0..<count).map { i in
            var needs: [String] = []
            if i % 10 != 0 { needs.append("s\(i - 1)") }
            if i >= 10 { needs.append("s\(i - 10)") }
            return S(id: "s\(i)", needs: needs)
        }
        for concurrency in [1, 4, 64] {
            var machine = SchedulerStateMachine(steps: steps, concurrency: concurrency)
            var queue = machine.start().compactMap { if case .startStep(let id, _) = $0 { id } else { nil } }
            var finished = false
            var head = 0
            while head < queue.count {
                let id = queue[head]
                head += 1
                for action in machine.stepFinished(id, outcome: .succeeded) {
                    switch action {
                    case .startStep(let next, _): queue.append(next)
                    case .runFinished(let status): finished = status == .succeeded
                    default: break
                    }
                }
            }
            #expect(finished)
            #expect(queue.count == count)
            #expect(machine.stepsExamined <= 3 * count, "concurrency \(concurrency): examined \(machine.stepsExamined)")
        }
    }

    /// Many independent steps and one slot: each event must not look at
    /// every waiting step again.
    @Test func waitingForASlotCostsNothingPerEvent() {
        let count = 20_000
        var machine = SchedulerStateMachine(steps: (0..<count).map { S(id: "s\($0)") }, concurrency: 2)
        var queue = machine.start().compactMap { if case .startStep(let id, _) = $0 { id } else { nil } }
        var head = 0
        while head < queue.count {
            let id = queue[head]
            head += 1
            queue += machine.stepFinished(id, outcome: .succeeded).compactMap { if case .startStep(let next, _) = $0 { next } else { nil } }
        }
        #expect(queue.count == count)
        #expect(machine.stepsExamined <= 3 * count, "examined \(machine.stepsExamined)")
    }

    /// A failure at the root of a long chain skips every step after it in one
    /// event, in order, with the reason naming each step's need.
    @Test func aFailureSkipsALongChainInOneLinearPass() {
        let count = 20_000
        var machine = SchedulerStateMachine(steps: (0..<count).map { S(id: "s\($0)", needs: $0 == 0 ? [] : ["s\($0 - 1)"]) }, concurrency: 4)
        _ = machine.start()
        let actions = machine.stepFinished("s0", outcome: .failed)
        #expect(actions.count == count)   // count - 1 skips and the end of the run
        #expect(actions.first == .skipStep(step: "s1", reason: "needs 's0' failed"))
        #expect(actions.dropLast().last == .skipStep(step: "s\(count - 1)", reason: "needs 's\(count - 2)' was skipped"))
        #expect(actions.last == .runFinished(.failed))
        #expect(machine.stepsExamined <= 2 * count)
    }
}
