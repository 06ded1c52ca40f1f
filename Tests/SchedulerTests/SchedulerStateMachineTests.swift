import Testing
@testable import Scheduler

/// The scheduler is pure: these tests feed events and check actions, with no
/// tasks, clocks or I/O.
struct SchedulerStateMachineTests {
    typealias S = SchedulerStateMachine.Step

    @Test func startsIndependentStepsInDeclarationOrderUpToTheLimit() {
        var machine = SchedulerStateMachine(steps: [S(id: "a"), S(id: "b"), S(id: "c")], concurrency: 2)
        #expect(machine.start() == [.startStep(step: "a", attempt: 1), .startStep(step: "b", attempt: 1)])
        #expect(machine.stepFinished("b", outcome: .succeeded) == [.startStep(step: "c", attempt: 1)])
        #expect(machine.stepFinished("a", outcome: .succeeded) == [])
        #expect(machine.stepFinished("c", outcome: .succeeded) == [.runFinished(.succeeded)])
    }

    @Test func dependentsStartOnlyAfterAllTheirNeedsSucceed() {
        var machine = SchedulerStateMachine(steps: [S(id: "a"), S(id: "b"), S(id: "c", needs: ["a", "b"])], concurrency: 8)
        #expect(machine.start() == [.startStep(step: "a", attempt: 1), .startStep(step: "b", attempt: 1)])
        #expect(machine.stepFinished("a", outcome: .succeeded) == [])
        #expect(machine.status(of: "c") == .pending)
        #expect(machine.stepFinished("b", outcome: .succeeded) == [.startStep(step: "c", attempt: 1)])
    }

    @Test func aFailureSkipsDependentsTransitivelyWithReasons() {
        var machine = SchedulerStateMachine(
            steps: [S(id: "a"), S(id: "b", needs: ["a"]), S(id: "c", needs: ["b"]), S(id: "d")], concurrency: 8)
        _ = machine.start()
        let actions = machine.stepFinished("a", outcome: .failed)
        #expect(actions == [.skipStep(step: "b", reason: "needs 'a' failed"), .skipStep(step: "c", reason: "needs 'b' was skipped")])
        #expect(machine.stepFinished("d", outcome: .succeeded) == [.runFinished(.failed)])
        #expect(machine.runStatus == .failed)
    }

    @Test func failureConditionRunsCleanupOnlyWhenSomethingUpstreamFailed() {
        var failing = SchedulerStateMachine(
            steps: [S(id: "a"), S(id: "b", needs: ["a"]), S(id: "cleanup", needs: ["b"], condition: .failure)], concurrency: 8)
        _ = failing.start()
        #expect(failing.stepFinished("a", outcome: .failed) == [
            .skipStep(step: "b", reason: "needs 'a' failed"), .startStep(step: "cleanup", attempt: 1),
        ])

        var passing = SchedulerStateMachine(
            steps: [S(id: "a"), S(id: "cleanup", needs: ["a"], condition: .failure)], concurrency: 8)
        _ = passing.start()
        #expect(passing.stepFinished("a", outcome: .succeeded) == [
            .skipStep(step: "cleanup", reason: "if: failure() is false: no step upstream failed"), .runFinished(.succeeded),
        ])
    }

    @Test func alwaysRunsAfterAFailedNeed() {
        var machine = SchedulerStateMachine(steps: [S(id: "a"), S(id: "report", needs: ["a"], condition: .always)], concurrency: 8)
        _ = machine.start()
        #expect(machine.stepFinished("a", outcome: .failed) == [.startStep(step: "report", attempt: 1)])
        #expect(machine.stepFinished("report", outcome: .succeeded) == [.runFinished(.failed)])
    }

    @Test func continueOnErrorLetsDependentsRunAndTheRunSucceed() {
        var machine = SchedulerStateMachine(
            steps: [S(id: "a", continueOnError: true), S(id: "b", needs: ["a"])], concurrency: 8)
        _ = machine.start()
        #expect(machine.stepFinished("a", outcome: .failed) == [.startStep(step: "b", attempt: 1)])
        #expect(machine.status(of: "a") == .failed)
        #expect(machine.stepFinished("b", outcome: .succeeded) == [.runFinished(.succeeded)])
    }

    @Test func retriesWithExponentialBackoffThenGivesUp() {
        let policy = RetryPolicy(attempts: 3, backoff: 1, maxBackoff: 60)
        var machine = SchedulerStateMachine(steps: [S(id: "a", retry: policy), S(id: "b", needs: ["a"])], concurrency: 8)
        _ = machine.start()
        #expect(machine.stepFinished("a", outcome: .failed) == [.scheduleRetry(step: "a", attempt: 2, baseDelay: 1)])
        #expect(machine.status(of: "a") == .running)
        #expect(machine.retryDelayElapsed("a") == [.startStep(step: "a", attempt: 2)])
        #expect(machine.stepFinished("a", outcome: .failed) == [.scheduleRetry(step: "a", attempt: 3, baseDelay: 2)])
        #expect(machine.retryDelayElapsed("a") == [.startStep(step: "a", attempt: 3)])
        #expect(machine.stepFinished("a", outcome: .failed) == [.skipStep(step: "b", reason: "needs 'a' failed"), .runFinished(.failed)])
        #expect(machine.attempts(of: "a") == 3)
    }

    @Test func aRetryThatSucceedsUnblocksDependents() {
        var machine = SchedulerStateMachine(steps: [S(id: "a", retry: RetryPolicy(attempts: 2, backoff: 0.5)), S(id: "b", needs: ["a"])], concurrency: 8)
        _ = machine.start()
        _ = machine.stepFinished("a", outcome: .failed)
        _ = machine.retryDelayElapsed("a")
        #expect(machine.stepFinished("a", outcome: .succeeded) == [.startStep(step: "b", attempt: 1)])
    }

    @Test func expressionConditionsAreAskedForAndHonoured() {
        var machine = SchedulerStateMachine(
            steps: [S(id: "list"), S(id: "fetch", needs: ["list"], condition: .expression), S(id: "after", needs: ["fetch"])], concurrency: 8)
        _ = machine.start()
        #expect(machine.stepFinished("list", outcome: .succeeded) == [.evaluateCondition(step: "fetch", success: true, failure: false)])
        #expect(machine.conditionEvaluated("fetch", result: false, reason: "if: x is false") == [
            .skipStep(step: "fetch", reason: "if: x is false"), .skipStep(step: "after", reason: "needs 'fetch' was skipped"), .runFinished(.succeeded),
        ])
    }

    @Test func cancelStopsStartingWorkAndCancelsWhatRuns() {
        var machine = SchedulerStateMachine(
            steps: [S(id: "a"), S(id: "b", retry: RetryPolicy(attempts: 3, backoff: 10)), S(id: "c", needs: ["a"])], concurrency: 8)
        _ = machine.start()
        _ = machine.stepFinished("b", outcome: .failed)  // b now waits to retry
        let actions = machine.cancel()
        #expect(actions == [
            .cancelStep(step: "b", reason: "the run was cancelled while this step waited to retry"),
            .cancelStep(step: "c", reason: "the run was cancelled before this step started"),
            .cancelRunning(steps: ["a"]),
        ])
        #expect(machine.retryDelayElapsed("b") == [])
        #expect(machine.stepFinished("a", outcome: .cancelled) == [.runFinished(.cancelled)])
        #expect(machine.cancel() == [])
    }

    @Test func jitterStaysWithinHalfAndFullDelay() {
        let policy = RetryPolicy(attempts: 5, backoff: 2, maxBackoff: 5)
        #expect(policy.baseDelay(beforeAttempt: 2) == 2)
        #expect(policy.baseDelay(beforeAttempt: 3) == 4)
        #expect(policy.baseDelay(beforeAttempt: 4) == 5)  // capped
        #expect(policy.delay(beforeAttempt: 3, random: 0) == 2)
        #expect(policy.delay(beforeAttempt: 3, random: 1) == 4)
        #expect(policy.delay(beforeAttempt: 3, random: 0.5) == 3)
    }
}
