/// A step that failed after doing part of its work (some objects moved,
/// some failed); the report keeps what was done.
struct StepFailure: Error, Sendable {
    var error: StepError
    var partial: StepResult
}
