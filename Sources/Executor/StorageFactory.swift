import Foundation
import Workflow
import Storage
import Credentials
import S3

/// Turns a `storage:` declaration into a provider.
enum StorageFactory {
    static let accessKeyNames = ["aws_access_key_id", "access_key_id", "key_id", "accesskeyid", "access_key"]
    static let secretKeyNames = ["aws_secret_access_key", "secret_access_key", "application_key", "secretaccesskey", "secret_key"]
    static let tokenNames = ["aws_session_token", "session_token"]

    /// `STATE/uploads/`: the unfinished multipart uploads of this machine's runs.
    static func uploadJournal(environment: [String: String]) -> UploadJournal {
        UploadJournal(directory: StateDirectory.resolve(environment: environment).appendingPathComponent("uploads"))
    }

    static func make(_ spec: StorageSpec, workflow: Workflow, context: EvaluationContext, credentials: CredentialSet?, environment: [String: String]) throws -> any ObjectStorage {
        func setting(_ key: String) throws -> String? {
            guard let value = spec.setting(key) else { return nil }
            do {
                return try Evaluator.resolve(value, in: context).description
            } catch {
                throw StepError(code: .invalidStorage, message: "storage \"\(spec.name)\": `\(key)`: \(error)")
            }
        }
        switch spec.provider {
        case .local:
            guard let root = try setting("root"), !root.isEmpty else {
                throw StepError(code: .invalidStorage, message: "storage \"\(spec.name)\" has no `root`")
            }
            return LocalStorage(root: URL(fileURLWithPath: root, relativeTo: workflow.directory).standardizedFileURL)
        case .s3:
            if let step = spec.credentials, credentials == nil {
                throw StepError(code: .credentialsUnavailable, message: "storage \"\(spec.name)\" needs the credentials loaded by step \"\(step)\", which has not succeeded")
            }
            guard let credentials else {
                throw StepError(code: .credentialsUnavailable, message: "storage \"\(spec.name)\" has no `credentials`; add a load-credentials step and name it in `credentials:`")
            }
            func first(_ names: [String]) -> String? {
                for name in names { if let value = credentials[name]?.revealed, !value.isEmpty { return value } }
                return nil
            }
            guard let accessKey = first(accessKeyNames), let secretKey = first(secretKeyNames) else {
                throw StepError(code: .credentialsError, message: "credentials from \(credentials.source) (keys: \(credentials.keys.joined(separator: ", "))) have no access key / secret pair for storage \"\(spec.name)\"; provide key_id and application_key (Backblaze) or aws_access_key_id and aws_secret_access_key. Configure your credentials.")
            }
            let region = try setting("region") ?? "us-east-1"
            let endpoint: URL
            if let text = try setting("endpoint") {
                guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                    throw StepError(code: .invalidStorage, message: "storage \"\(spec.name)\": endpoint \"\(text)\" is not an http(s) URL")
                }
                endpoint = url
            } else {
                do {
                    endpoint = try S3Configuration.endpoint(forPreset: try setting("preset") ?? "aws", region: region, account: try setting("account"))
                } catch {
                    throw StepError(code: .invalidStorage, message: "storage \"\(spec.name)\": \(error)")
                }
            }
            var configuration = S3Configuration(endpoint: endpoint, region: region, accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken: first(tokenNames))
            if let style = try setting("addressing"), let value = S3Configuration.AddressingStyle(rawValue: style) {
                configuration.addressingStyle = value
            } else if try setting("preset") == "minio" {
                configuration.addressingStyle = .path
            }
            if let insecure = try setting("allow-insecure-http") { configuration.allowInsecureHTTP = insecure == "true" }
            if let text = try setting("multipart-threshold"), let bytes = Units.bytes(text) { configuration.multipartThreshold = bytes }
            if let text = try setting("part-size"), let bytes = Units.bytes(text) { configuration.partSize = bytes }
            if let text = try setting("part-concurrency"), let n = Int(text), n > 0 { configuration.partConcurrency = n }
            if let text = try setting("max-attempts"), let n = Int(text), n > 0 { configuration.maxAttempts = n }
            if let text = try setting("keep-alive") { configuration.reuseConnections = text != "false" }
            // Multipart uploads are noted here until they end; the first
            // upload through this storage aborts those of killed runs.
            configuration.journal = uploadJournal(environment: environment)
            do {
                return try S3Storage(configuration: configuration, environment: environment)
            } catch let error as StorageError {
                throw StepError(code: ErrorCode(error.code), message: "storage \"\(spec.name)\": \(error)")
            }
        case .b2:
            throw StepError(code: .notSupported, message: "provider b2 (native API) is not available yet; use provider s3 with B2's S3 endpoint")
        }
    }
}
