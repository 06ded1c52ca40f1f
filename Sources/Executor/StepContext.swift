import Foundation
import Workflow
import Storage

/// A resolved `NAME://bucket/key`.
struct RemoteTarget: Sendable {
    var storageName: String
    var storage: any ObjectStorage
    var bucket: String
    var key: String

    var display: String { "\(storageName)://\(bucket)\(key.isEmpty ? "" : "/" + key)" }
    func display(key: String) -> String { "\(storageName)://\(bucket)/\(key)" }
    /// Whether the location names a prefix ("folder/" or the whole bucket).
    var isPrefix: Bool { key.isEmpty || key.hasSuffix("/") }
}

/// What one step attempt sees: its parameters resolved against the outputs
/// available now, the shared run state, and whether this is a dry run.
struct StepContext: Sendable {
    let step: Step
    let state: RunState
    let evaluation: EvaluationContext
    let dryRun: Bool
    let workflow: Workflow
    let options: RunOptions

    func value(_ name: String) throws -> ExpressionValue? {
        guard let value = step.parameter(name) else { return nil }
        do {
            return try Evaluator.resolve(value, in: evaluation)
        } catch let error as EvaluationError {
            throw Self.stepError(error, parameter: name)
        }
    }

    static func stepError(_ error: EvaluationError, parameter: String) -> StepError {
        switch error {
        case .unresolved(let reference, _):
            return StepError(code: "Unresolved", message: "`\(parameter)`: \(reference) is known only at run time")
        case .failed(let message, _):
            return StepError(code: "ExpressionError", message: "`\(parameter)`: \(message)")
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = try value(name) else { return nil }
        if case .null = value { return nil }
        return value.description
    }

    func requiredString(_ name: String) throws -> String {
        guard let text = try string(name), !text.isEmpty else {
            throw StepError.invalid("`\(name)` is empty")
        }
        return text
    }

    func bool(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let value = try value(name) else { return defaultValue }
        switch value {
        case .bool(let b): return b
        case .string(let s) where s == "true" || s == "false": return s == "true"
        default: return value.isTruthy
        }
    }

    func int(_ name: String) throws -> Int? {
        guard let value = try value(name) else { return nil }
        guard let n = value.number, n.rounded() == n else { throw StepError.invalid("`\(name)` must be a whole number, found \"\(value)\"") }
        return Int(n)
    }

    func stringList(_ name: String) throws -> [String] {
        guard let value = try value(name) else { return [] }
        switch value {
        case .list(let items): return items.flatMap { item -> [String] in
            if case .list(let inner) = item { return inner.map(\.description) }
            return [item.description]
        }
        case .null: return []
        default: return [value.description]
        }
    }

    func stringMap(_ name: String) throws -> [String: String] {
        guard let value = try value(name) else { return [:] }
        guard case .object(let object) = value else { return [:] }
        return object.mapValues(\.description)
    }

    /// Resolves a parameter that must name a declared storage.
    func remote(_ name: String) async throws -> RemoteTarget {
        let text = try requiredString(name)
        let location: Location
        do { location = try Location.parse(text) } catch { throw StepError.invalid("`\(name)`: \(error.message)") }
        guard case .remote(let storageName, let bucket, let key) = location else {
            throw StepError.invalid("`\(name)` must be a storage location like NAME://bucket/key, found \"\(text)\"")
        }
        let storage = try await state.storage(named: storageName)
        return RemoteTarget(storageName: storageName, storage: storage, bucket: bucket, key: key)
    }

    /// Resolves a parameter that is a local path or a `data://` path.
    func localPath(_ name: String) async throws -> (url: URL, text: String) {
        let text = try requiredString(name)
        return (try await resolveLocal(text, parameter: name), text)
    }

    func resolveLocal(_ text: String, parameter: String) async throws -> URL {
        let location: Location
        do { location = try Location.parse(text) } catch { throw StepError.invalid("`\(parameter)`: \(error.message)") }
        switch location {
        case .data(let path):
            do {
                return try state.dataArea.resolve(path)
            } catch {
                throw StepError(code: error.code.rawValue, message: "`\(parameter)`: \(error)")
            }
        case .local(let path):
            var expanded = path
            if expanded == "~" || expanded.hasPrefix("~/") {
                let home = options.environment["HOME"] ?? NSHomeDirectory()
                expanded = home + expanded.dropFirst()
            }
            let url = URL(fileURLWithPath: expanded, relativeTo: workflow.directory).standardizedFileURL
            // Keep a trailing slash: it means "into this directory".
            if text.hasSuffix("/") && !url.path.hasSuffix("/") { return URL(fileURLWithPath: url.path + "/") }
            return url
        case .remote:
            throw StepError.invalid("`\(parameter)` must be a local path or data:// path, found the storage location \"\(text)\"")
        }
    }

    func emit(_ event: RunEvent) { state.events.emit(event) }

    /// Runs `body` holding one slot of the run's transfer budget.
    func withTransferSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await state.budget.withPermit(body)
    }
}

/// What a step attempt produced.
struct StepResult: Sendable {
    var outputs: [String: ExpressionValue] = [:]
    var bytes: Int64 = 0
    var objects = 0
    var transferred = 0
    var skippedUnchanged = 0
    var failedObjects = 0
    var transfers: [RunReport.Transfer] = []
    /// Dry runs: what the step would do.
    var plan: [String] = []
    /// One line for the console.
    var summary: String?
}

/// A step's work. Each action is one type in `Actions/`.
protocol StepAction {
    static func run(_ context: StepContext) async throws -> StepResult
}
