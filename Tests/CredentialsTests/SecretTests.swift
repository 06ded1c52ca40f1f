import Foundation
import Testing
import Credentials

/// Secrets never print, and the redactor catches what slips through.
struct SecretTests {
    let secret = Secret(CredentialsFixture.secret)

    @Test func aSecretPrintsAsRedacted() {
        #expect(secret.description == "[REDACTED]")
        #expect(secret.debugDescription == "[REDACTED]")
        #expect("\(secret)" == "[REDACTED]")
        #expect(String(reflecting: secret) == "[REDACTED]")
        #expect("\([secret])" == "[[REDACTED]]")
        #expect("\(["k": secret])" == "[\"k\": [REDACTED]]")
        #expect(secret.revealed == CredentialsFixture.secret)
    }

    @Test func reflectionCannotReachTheValue() {
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains(CredentialsFixture.secret))
        #expect(Mirror(reflecting: secret).children.isEmpty)
        var dumpedSet = ""
        dump(CredentialSet(source: "/p", values: ["k": secret]), to: &dumpedSet)
        #expect(!dumpedSet.contains(CredentialsFixture.secret))
    }

    @Test func aSecretEncodesAsRedacted() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(["k": secret]), as: UTF8.self)
        #expect(json == #"{"k":"[REDACTED]"}"#)
        #expect(String(decoding: try encoder.encode(secret), as: UTF8.self) == #""[REDACTED]""#)
    }

    @Test func secretsCompareByValue() {
        #expect(Secret("a") == Secret("a"))
        #expect(Secret("a") != Secret("b"))
        #expect(Set([Secret("a"), Secret("a")]).count == 1)
    }

    @Test func theRedactorReplacesEveryOccurrence() {
        let redactor = Redactor(secrets: [CredentialsFixture.secret, "abc", "hunter2"])
        #expect(redactor.redact("auth \(CredentialsFixture.secret) abc \(CredentialsFixture.secret)") == "auth [REDACTED] abc [REDACTED]")
        #expect(redactor.redact("password=hunter2&x") == "password=[REDACTED]&x")
        #expect(redactor.redact("nothing here") == "nothing here")
        #expect(redactor.redact("") == "")
    }

    @Test func theRedactorPrefersTheLongestSecretAndNeverRedactsItsMarker() {
        let redactor = Redactor(secrets: ["abcd", "abcdefgh", "DACT", "EDAC"])
        #expect(redactor.redact("xabcdefghx abcd") == "x[REDACTED]x [REDACTED]")
        #expect(redactor.redact("abcdabcd") == "[REDACTED][REDACTED]")
    }

    @Test func theRedactorMatchesBytesNotCharacters() {
        // A combining accent right after the secret makes a different last
        // character, but the secret's bytes are still there.
        let redactor = Redactor(secrets: ["s3cr3t"])
        #expect(redactor.redact("s3cr3t\u{301}!") == "[REDACTED]\u{301}!")
        #expect(Redactor(secrets: ["clé-secrète"]).redact("k=clé-secrète;") == "k=[REDACTED];")
    }

    @Test func theRedactorIgnoresValuesTooShortToMean() {
        #expect(Redactor(secrets: ["abc", "", "a"]).redact("abc a") == "abc a")
        #expect(Redactor(secrets: []).redact("abc") == "abc")
    }
}
