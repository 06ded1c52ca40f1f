import Workflow
import Foundation
import Credentials

/// `load-credentials`: reads a JSON file, an AWS shared credentials file or
/// environment variables, checks `require`, and keeps the values for the
/// storages that name this step. Only key names ever leave this action.
enum LoadCredentialsAction: StepAction {
    static func run(_ context: StepContext) async throws -> StepResult {
        let require = try context.stringList("require")
        let prefix = try context.string("env-prefix")
        var format = try context.string("format")
        let set: CredentialSet
        do {
            if format == "env" || (format == nil && prefix != nil) {
                set = try CredentialLoader.loadEnvironment(prefix: prefix ?? "", environment: context.options.environment, require: require)
                format = "env"
            } else {
                let (url, _) = try await context.localPath("from")
                if format == nil {
                    format = url.pathExtension.lowercased() == "json" ? "json" : "aws"
                }
                if format == "json" {
                    set = try CredentialLoader.loadJSON(at: url, require: require)
                } else {
                    set = try CredentialLoader.loadAWSShared(at: url, profile: try context.string("profile") ?? "default", require: require)
                }
            }
        } catch let error as CredentialError {
            throw StepError(code: .credentialsError, message: error.description)
        }
        await context.state.store(credentials: set, for: context.step.id)
        var result = StepResult()
        result.outputs = ["keys": .list(set.keys.map(ExpressionValue.string)), "source": .string(set.source)]
        result.summary = "loaded \(plural(set.keys.count, "key")) from \(set.source)"
        result.plan = ["read credentials from \(set.source) (keys: \(set.keys.joined(separator: ", ")))"]
        return result
    }
}
