import Foundation
import Testing
import Credentials

/// `{"key_id": ..., "application_key": ...}` files.
struct JSONCredentialsTests {
    let fixture: CredentialsFixture
    var secret: String { CredentialsFixture.secret }

    init() throws { fixture = try CredentialsFixture() }

    /// Runs `body`, expecting a CredentialError, and checks no secret leaked into it.
    func failure(_ body: () throws(CredentialError) -> CredentialSet) -> CredentialError? {
        do {
            _ = try body()
            Issue.record("expected a CredentialError")
            return nil
        } catch {
            #expect(!error.description.contains(secret), "a secret leaked: \(error.description)")
            #expect(!String(reflecting: error).contains(secret))
            #expect(!"\(error)".contains(secret))
            return error
        }
    }

    @Test func loadsTheOriginDocumentsShape() throws {
        let url = try fixture.write("credentials.json", #"{"key_id": "\#(CredentialsFixture.keyID)", "application_key": "\#(secret)"}"#)
        let set = try CredentialLoader.loadJSON(at: url, require: ["key_id", "application_key"])
        #expect(set.keys == ["application_key", "key_id"])
        #expect(set["application_key"]?.revealed == secret)
        #expect(set["key_id"]?.revealed == CredentialsFixture.keyID)
        #expect(set["missing"] == nil)
        #expect(set.source == url.path)
        #expect(!"\(set)".contains(secret) && !String(reflecting: set).contains(secret))
        #expect("\(set)" == "credentials from \(url.path) (keys: application_key, key_id)")
    }

    @Test func numbersAndBooleansBecomeStringsAndNullIsAbsent() throws {
        let url = try fixture.write("c.json", #"{"account": 12345678901234567890, "ratio": 1.5, "enabled": true, "off": false, "one": 1, "gone": null}"#)
        let set = try CredentialLoader.loadJSON(at: url, require: [])
        #expect(set["account"]?.revealed == "12345678901234567890")
        #expect(set["ratio"]?.revealed == "1.5")
        #expect(set["enabled"]?.revealed == "true")
        #expect(set["off"]?.revealed == "false")
        #expect(set["one"]?.revealed == "1")
        #expect(set.keys == ["account", "enabled", "off", "one", "ratio"])
    }

    @Test func aMissingFileSaysHowToCreateIt() throws {
        let missing = fixture.directory.appendingPathComponent("none.json")
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: missing, require: ["key_id", "application_key"]) }
        #expect(error == CredentialError(.notFound, "credentials file \(missing.path) not found; create it with {\"key_id\": ..., \"application_key\": ...} and chmod 600 \(missing.path)"))
        let other = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: missing, require: ["token"]) }
        #expect(other?.message == "credentials file \(missing.path) not found; create it with {\"token\": ...} and chmod 600 \(missing.path)")
        let noRequire = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: missing, require: []) }
        #expect(noRequire?.message == "credentials file \(missing.path) not found; create it with {\"key_id\": ..., \"application_key\": ...} and chmod 600 \(missing.path)")
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o601, 0o610, 0o777])
    func aFileOthersCanAccessIsRefused(mode: Int) throws {
        let url = try fixture.write("loose.json", #"{"key_id": "a", "application_key": "\#(CredentialsFixture.secret)"}"#, mode: mode)
        let octal = "0" + String(mode, radix: 8)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: url, require: []) }
        #expect(error == CredentialError(.tooOpen, "permissions \(octal) for '\(url.path)' are too open: credentials must not be readable by group or others; run chmod 600 \(url.path)"))
    }

    @Test(arguments: [0o600, 0o400, 0o700])
    func aPrivateFileIsAccepted(mode: Int) throws {
        let url = try fixture.write("private.json", #"{"key_id": "a"}"#, mode: mode)
        #expect(try CredentialLoader.loadJSON(at: url, require: ["key_id"]).keys == ["key_id"])
    }

    @Test func missingKeysAreNamedButNoValue() throws {
        let url = try fixture.write("partial.json", #"{"key_id": "\#(secret)"}"#)
        let one = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: url, require: ["key_id", "application_key"]) }
        #expect(one == CredentialError(.missingKeys, "\(url.path) is missing required keys: application_key. Configure your credentials: add it with non-empty values."))
        let empty = try fixture.write("empty.json", "{}")
        let both = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: empty, require: ["key_id", "application_key"]) }
        #expect(both == CredentialError(.missingKeys, "\(empty.path) is missing required keys: application_key, key_id. Configure your credentials: add them with non-empty values."))
        let blank = try fixture.write("blank.json", #"{"key_id": "", "application_key": "\#(secret)"}"#)
        let blankError = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: blank, require: ["key_id", "application_key"]) }
        #expect(blankError?.message == "\(blank.path) is missing required keys: key_id. Configure your credentials: add it with non-empty values.")
    }

    @Test func malformedJSONGivesAPositionButNoContent() throws {
        let bad = try fixture.write("bad.json", "{\n  \"key_id\": \"a\",\n  \"application_key\" \"\(secret)\"}")
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: bad, require: []) }
        #expect(error == CredentialError(.malformed, "\(bad.path) is not valid JSON (line 3, column 21). Configure your credentials: the file must hold an object like {\"key_id\": ..., \"application_key\": ...}."))
        let cut = try fixture.write("cut.json", #"{"key_id": "\#(secret)""#)
        let cutError = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: cut, require: ["key_id"]) }
        #expect(cutError == CredentialError(.malformed, "\(cut.path) is not valid JSON (it ends too early). Configure your credentials: the file must hold an object like {\"key_id\": ...}."))
    }

    @Test(arguments: [
        (#"["K000c1ab70e8f7c67cf9d59128e3a3c"]"#, "a list"),
        (#""K000c1ab70e8f7c67cf9d59128e3a3c""#, "a string"),
        ("42", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ])
    func anythingButAnObjectIsRefused(text: String, kind: String) throws {
        let url = try fixture.write("shape.json", text)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: url, require: []) }
        #expect(error == CredentialError(.notAnObject, "\(url.path) holds \(kind), not an object of strings. Configure your credentials: the file must hold an object like {\"key_id\": ..., \"application_key\": ...}."))
    }

    @Test(arguments: [(#"{"x": "\#(CredentialsFixture.secret)"}"#, "an object"), (#"["\#(CredentialsFixture.secret)"]"#, "a list")])
    func nestedValuesAreRefusedByKey(nested: String, kind: String) throws {
        let url = try fixture.write("nested.json", #"{"key_id": "a", "application_key": \#(nested)}"#)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: url, require: []) }
        #expect(error == CredentialError(.notAnObject, "\(url.path): the value of \"application_key\" is \(kind); credential values must be strings. Configure your credentials."))
    }

    @Test func aDirectoryIsNotACredentialsFile() throws {
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadJSON(at: fixture.directory, require: []) }
        #expect(error == CredentialError(.unreadable, "credentials file \(fixture.directory.path) is not a regular file; point `from:` at the file itself"))
    }
}
