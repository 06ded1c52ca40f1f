import Foundation
import Workflow
import Storage
import Credentials

/// Turns a `storage:` declaration into a provider, through the registry in
/// use (``StorageRegistry/standard``, scoped to `RunOptions.storageRegistry`
/// by ``RunState``). No provider is named here.
enum StorageFactory {
    static func make(_ spec: StorageSpec, workflow: Workflow, context: EvaluationContext, credentials: CredentialSet?, environment: [String: String], memoryBudget: MemoryBudget) throws -> any ObjectStorage {
        let registry = StorageRegistry.standard
        guard let provider = registry.provider(named: spec.provider.rawValue) else {
            throw StepError(code: .notSupported, message: "storage \"\(spec.name)\": provider \"\(spec.provider.rawValue)\" is not available in this build (known: \(registry.names.joined(separator: ", ")))")
        }
        var values: [String: ProviderSettingValue] = [:]
        for setting in provider.settings {
            guard let value = spec.setting(setting.key) else { continue }
            let text: String
            do {
                text = try Evaluator.resolve(value, in: context).description
            } catch {
                throw StepError(code: .invalidStorage, message: "storage \"\(spec.name)\": `\(setting.key)`: \(error)")
            }
            values[setting.key] = try typed(text, setting, storage: spec.name)
        }
        if let step = spec.credentials, credentials == nil {
            throw StepError(code: .credentialsUnavailable, message: "storage \"\(spec.name)\" needs the credentials loaded by step \"\(step)\", which has not succeeded")
        }
        if provider.requiresCredentials, credentials == nil {
            throw StepError(code: .credentialsUnavailable, message: "storage \"\(spec.name)\" has no `credentials`; add a load-credentials step and name it in `credentials:`")
        }
        let providerCredentials = credentials.map { set in
            ProviderCredentials(source: set.source, values: Dictionary(set.keys.compactMap { key in set[key].map { (key, $0.revealed) } }, uniquingKeysWith: { a, _ in a }))
        }
        do {
            return try provider.make(
                settings: ProviderSettings(storageName: spec.name, values: values),
                credentials: providerCredentials,
                context: ProviderContext(workflowDirectory: workflow.directory, environment: environment,
                                         // Multipart uploads are noted here until they end; the first upload
                                         // through a storage aborts those of killed runs.
                                         uploadJournal: UploadJournal(directory: StateDirectory.resolve(environment: environment).appendingPathComponent("uploads")),
                                         memoryBudget: memoryBudget))
        } catch let error as ProviderCredentialsError {
            throw StepError(code: .credentialsError, message: error.message)
        } catch let error as StorageError {
            let text = "\(error)"
            throw StepError(code: ErrorCode(error.code), message: text.contains("storage \"\(spec.name)\"") ? text : "storage \"\(spec.name)\": \(text)")
        }
    }

    /// A resolved setting as its declared type.
    static func typed(_ text: String, _ setting: ProviderSetting, storage: String) throws -> ProviderSettingValue {
        func invalid(_ what: String) -> StepError {
            StepError(code: .invalidStorage, message: "storage \"\(storage)\": `\(setting.key)` must be \(what), found \"\(text.prefix(80))\"")
        }
        switch setting.kind {
        case .string, .url:
            return .string(text)
        case .choice(let words):
            guard words.contains(text) else { throw invalid("one of \(words.joined(separator: ", "))") }
            return .string(text)
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "on": return .bool(true)
            case "false", "no", "off": return .bool(false)
            default: throw invalid("true or false")
            }
        case .bytes(let range):
            guard let bytes = Units.bytes(text), range.contains(bytes) else {
                throw invalid("a size from \(Units.describe(bytes: range.lowerBound)) to \(Units.describe(bytes: range.upperBound))")
            }
            return .number(bytes)
        case .int(let range):
            guard let n = Int64(text.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw invalid("a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return .number(n)
        }
    }
}
