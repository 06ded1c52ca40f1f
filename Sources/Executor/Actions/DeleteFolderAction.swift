import Workflow
import Storage

/// `delete-folder`: deletes every object under `prefix/`, the marker included.
enum DeleteFolderAction: StepAction {
    static func run(_ context: StepContext) async throws -> StepResult {
        var target = try await context.remote("at")
        guard !target.key.isEmpty else {
            throw StepError.invalid("`at` must name a folder inside the bucket; to empty a whole bucket use delete-bucket with force: true or delete with recursive: true")
        }
        if !target.key.hasSuffix("/") { target.key += "/" }
        let ifMissing = try context.string("if-missing") ?? "ok"
        return try await DeleteAction.deletePrefix(target, context: context, ifMissing: ifMissing, keysOutput: nil)
    }
}
