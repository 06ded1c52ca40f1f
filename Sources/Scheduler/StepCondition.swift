/// When a step runs once all of its needs have finished (its `if:`).
public enum StepCondition: Sendable, Hashable {
    /// Default: every need succeeded (a need that failed with
    /// `continue-on-error` counts as succeeded).
    case success
    /// Some step upstream (transitively) failed.
    case failure
    /// Regardless of how the needs ended (but not once the run is cancelled).
    case always
    /// An expression the driver evaluates; the state machine asks for it with
    /// ``SchedulerAction/evaluateCondition(step:success:failure:)``.
    case expression
}
