import Foundation
import Testing
import Credentials

/// AWS shared credentials files and environment variables.
struct OtherCredentialSourcesTests {
    let fixture: CredentialsFixture
    var secret: String { CredentialsFixture.secret }

    init() throws { fixture = try CredentialsFixture() }

    func failure(_ body: () throws(CredentialError) -> CredentialSet) -> CredentialError? {
        do {
            _ = try body()
            Issue.record("expected a CredentialError")
            return nil
        } catch {
            #expect(!error.description.contains(secret), "a secret leaked: \(error.description)")
            return error
        }
    }

    var sharedFile: String {
        """
        # comment
        ; another comment
        [default]
        aws_access_key_id = AKIAIOSFODNN7EXAMPLE
        aws_secret_access_key = \(secret)
        aws_session_token=token/with=equals

        [profile backblaze]
        AWS_ACCESS_KEY_ID=b2id
          Aws_Secret_Access_Key =  b2secret\u{20}\u{20}
        s3 =
          max_concurrent_requests = 20
        region = us-west-004

        [empty]
        """
    }

    @Test func readsProfilesWithLowerCasedKeys() throws {
        let url = try fixture.write("credentials", sharedFile)
        let standard = try CredentialLoader.loadAWSShared(at: url, profile: "default", require: ["aws_access_key_id", "aws_secret_access_key"])
        #expect(standard.keys == ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"])
        #expect(standard["aws_secret_access_key"]?.revealed == secret)
        #expect(standard["aws_session_token"]?.revealed == "token/with=equals")
        #expect(standard.source == url.path)
        let b2 = try CredentialLoader.loadAWSShared(at: url, profile: "backblaze", require: ["aws_access_key_id"])
        #expect(b2.keys == ["aws_access_key_id", "aws_secret_access_key", "region", "s3"])
        #expect(b2["aws_access_key_id"]?.revealed == "b2id")
        #expect(b2["aws_secret_access_key"]?.revealed == "b2secret")
        #expect(b2["region"]?.revealed == "us-west-004")
    }

    @Test func windowsLineEndingsAreRead() throws {
        let url = try fixture.write("credentials", "[default]\r\naws_access_key_id = id\r\naws_secret_access_key = \(secret)\r\n")
        #expect(try CredentialLoader.loadAWSShared(at: url, profile: "default", require: [])["aws_secret_access_key"]?.revealed == secret)
    }

    @Test func anUnknownProfileListsTheKnownOnes() throws {
        let url = try fixture.write("credentials", sharedFile)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadAWSShared(at: url, profile: "prod", require: []) }
        #expect(error == CredentialError(.profileNotFound, "\(url.path) has no profile \"prod\" (profiles: default, backblaze, empty). Configure your credentials or set `profile:`."))
        let blank = try fixture.write("blank", "# nothing yet\n")
        let none = failure { () throws(CredentialError) in try CredentialLoader.loadAWSShared(at: blank, profile: "default", require: []) }
        #expect(none?.message == "\(blank.path) has no profile \"default\" (the file has no profiles). Configure your credentials or set `profile:`.")
    }

    @Test func missingKeysNameTheProfile() throws {
        let url = try fixture.write("credentials", sharedFile)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadAWSShared(at: url, profile: "empty", require: ["aws_secret_access_key", "aws_access_key_id"]) }
        #expect(error == CredentialError(.missingKeys, "\(url.path) profile \"empty\" is missing required keys: aws_access_key_id, aws_secret_access_key. Configure your credentials: add them with non-empty values."))
    }

    @Test(arguments: [
        ("[default]\nthis line is \(CredentialsFixture.secret)\n", 2, "is neither a [section] nor key = value"),
        ("aws_secret_access_key = \(CredentialsFixture.secret)\n[default]\n", 1, "comes before any [profile] section"),
        ("[default\naws_access_key_id = x\n", 1, "opens a section without closing it with ']'"),
        ("[default]\n= \(CredentialsFixture.secret)\n", 2, "has no key before '='"),
        ("[ ]\n", 1, "is a section without a name"),
    ])
    func malformedLinesAreNumberedNotQuoted(text: String, line: Int, problem: String) throws {
        let url = try fixture.write("credentials", text)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadAWSShared(at: url, profile: "default", require: []) }
        #expect(error == CredentialError(.malformed, "\(url.path) line \(line) \(problem). Configure your credentials: write [profile] sections of key = value lines."))
    }

    @Test func awsFilesAreCheckedLikeJSONFiles() throws {
        let loose = try fixture.write("credentials", sharedFile, mode: 0o644)
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadAWSShared(at: loose, profile: "default", require: []) }
        #expect(error == CredentialError(.tooOpen, "permissions 0644 for '\(loose.path)' are too open: credentials must not be readable by group or others; run chmod 600 \(loose.path)"))
        let missing = fixture.directory.appendingPathComponent("nope")
        let notFound = failure { () throws(CredentialError) in try CredentialLoader.loadAWSShared(at: missing, profile: "backblaze", require: []) }
        #expect(notFound == CredentialError(.notFound, "credentials file \(missing.path) not found; create it with a [backblaze] section of aws_access_key_id = ..., aws_secret_access_key = ... lines and chmod 600 \(missing.path)"))
    }

    @Test func environmentVariablesByPrefix() throws {
        let environment = ["B2_KEY_ID": "id", "B2_APPLICATION_KEY": secret, "B2_": "ignored", "HOME": "/root", "XB2_KEY_ID": "no"]
        let set = try CredentialLoader.loadEnvironment(prefix: "B2_", environment: environment, require: ["key_id", "application_key"])
        #expect(set.keys == ["application_key", "key_id"])
        #expect(set["application_key"]?.revealed == secret)
        #expect(set.source == "environment")
    }

    @Test func missingEnvironmentVariablesAreNamed() throws {
        let error = failure { () throws(CredentialError) in
            try CredentialLoader.loadEnvironment(prefix: "B2_", environment: ["B2_KEY_ID": "", "B2_OTHER": CredentialsFixture.secret], require: ["key_id", "application_key"])
        }
        #expect(error == CredentialError(.environmentMissing, "environment variables missing: B2_APPLICATION_KEY, B2_KEY_ID. Configure your credentials: export them before the run."))
    }

    @Test func anEmptyPrefixTakesOnlyTheRequiredVariables() throws {
        let environment = ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": secret, "HOME": "/root", "PATH": "/usr/bin"]
        let set = try CredentialLoader.loadEnvironment(prefix: "", environment: environment, require: ["aws_access_key_id", "aws_secret_access_key"])
        #expect(set.keys == ["aws_access_key_id", "aws_secret_access_key"])
        let error = failure { () throws(CredentialError) in try CredentialLoader.loadEnvironment(prefix: "", environment: ["HOME": "/root"], require: ["aws_access_key_id"]) }
        #expect(error?.message == "environment variables missing: AWS_ACCESS_KEY_ID. Configure your credentials: export them before the run.")
    }

    @Test func environmentFilesNeedNoPermissionCheck() throws {
        // Only files are checked; the environment has no mode.
        #expect(try CredentialLoader.loadEnvironment(prefix: "X_", environment: ["X_A": "1"], require: ["a"]).keys == ["a"])
    }
}
