import Foundation
import Testing
@testable import Credentials

final class CredentialLoaderTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-creds-\(UUID().uuidString)")
    static let secret = "K000c1ab70e8f7c67cf9d59128e3a3c"

    init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url
    }

    @Test func loadsTheOriginDocumentsJSONShape() throws {
        let url = try write("credentials.json", #"{"key_id": "000af74d6bf3db30000000001", "application_key": "\#(Self.secret)"}"#)
        let set = try CredentialLoader.loadJSON(at: url, require: ["key_id", "application_key"])
        #expect(set.keys == ["application_key", "key_id"])
        #expect(set["application_key"]?.revealed == Self.secret)
        #expect(set.source == url.path)
    }

    @Test func refusesFilesOthersCanRead() throws {
        let url = try write("loose.json", #"{"key_id": "a"}"#, mode: 0o644)
        #expect(throws: CredentialError(.tooOpen, "permissions 0644 for '\(url.path)' are too open: credentials must not be readable by group or others; run chmod 600 \(url.path)")) {
            try CredentialLoader.loadJSON(at: url, require: [])
        }
        let group = try write("group.json", #"{"key_id": "a"}"#, mode: 0o640)
        #expect(throws: CredentialError.self) { try CredentialLoader.loadJSON(at: group, require: []) }
    }

    @Test func missingKeysAreNamedAndValuesNeverShown() throws {
        let url = try write("partial.json", #"{"key_id": "\#(Self.secret)"}"#)
        do {
            _ = try CredentialLoader.loadJSON(at: url, require: ["key_id", "application_key"])
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "\(url.path) is missing required keys: application_key. Configure your credentials: the file needs application_key, key_id.")
            #expect(!error.description.contains(Self.secret))
        }
    }

    @Test func malformedAndMissingFiles() throws {
        let bad = try write("bad.json", #"{"key_id": "\#(Self.secret)""#)
        do { _ = try CredentialLoader.loadJSON(at: bad, require: []); Issue.record("expected an error") } catch {
            #expect(error.code == .malformed)
            #expect(error.message.hasPrefix("\(bad.path) is not valid JSON"))
            #expect(!error.message.contains(Self.secret))
        }
        let nested = try write("nested.json", #"{"key_id": {"x": 1}}"#)
        #expect(throws: CredentialError(.malformed, "\(nested.path): the value of \"key_id\" must be a string, not a nested object or list. Configure your credentials.")) {
            try CredentialLoader.loadJSON(at: nested, require: [])
        }
        let missing = directory.appendingPathComponent("none.json")
        #expect(throws: CredentialError(.notFound, "credentials file \(missing.path) not found; create it with {\"key_id\": \"...\", \"application_key\": \"...\"} and chmod 600 \(missing.path). Configure your credentials.")) {
            try CredentialLoader.loadJSON(at: missing, require: [])
        }
    }

    @Test func awsSharedCredentialsWithProfiles() throws {
        let url = try write("credentials", """
            # comment
            [default]
            aws_access_key_id = AKIDEXAMPLE
            aws_secret_access_key = \(Self.secret)

            [profile backblaze]
            AWS_ACCESS_KEY_ID=b2id
            aws_secret_access_key=b2secret
            """)
        #expect(try CredentialLoader.loadAWSShared(at: url, profile: "default", require: ["aws_access_key_id"])["aws_secret_access_key"]?.revealed == Self.secret)
        #expect(try CredentialLoader.loadAWSShared(at: url, profile: "backblaze", require: [])["aws_access_key_id"]?.revealed == "b2id")
        #expect(throws: CredentialError(.profileNotFound, "\(url.path) has no profile \"prod\" (profiles: default, backblaze). Configure your credentials or set `profile:`.")) {
            try CredentialLoader.loadAWSShared(at: url, profile: "prod", require: [])
        }
    }

    @Test func environmentVariablesByPrefix() throws {
        let set = try CredentialLoader.loadEnvironment(prefix: "B2_", environment: ["B2_KEY_ID": "id", "B2_APPLICATION_KEY": Self.secret, "HOME": "/"], require: ["key_id"])
        #expect(set.keys == ["application_key", "key_id"])
        #expect(throws: CredentialError(.environmentMissing, "environment variables missing: B2_APPLICATION_KEY. Configure your credentials: export them before the run.")) {
            try CredentialLoader.loadEnvironment(prefix: "B2_", environment: ["B2_KEY_ID": "id"], require: ["key_id", "application_key"])
        }
    }

    @Test func secretsNeverPrint() throws {
        let secret = Secret(Self.secret)
        #expect("\(secret)" == "[REDACTED]")
        #expect(String(reflecting: secret) == "[REDACTED]")
        let json = String(decoding: try JSONEncoder().encode(["k": secret]), as: UTF8.self)
        #expect(json == #"{"k":"[REDACTED]"}"#)
        #expect(Redactor(secrets: [Self.secret, "abc"]).redact("auth \(Self.secret) abc") == "auth [REDACTED] abc")
    }
}
