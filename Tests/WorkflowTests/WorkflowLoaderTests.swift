import Foundation
import Providers
import Testing
import YAML
@testable import Workflow

/// Validation messages are part of the contract: each test pins the exact
/// `file:line:col: message` a user sees.
struct WorkflowLoaderTests {
    static let directory = URL(fileURLWithPath: "/tmp")

    func diagnostics(_ source: String) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: source, file: "wf.yaml", directory: Self.directory, registry: BuiltInProviders.registry)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    func load(_ source: String) throws -> Workflow {
        try WorkflowLoader.load(source: source, file: "wf.yaml", directory: Self.directory, registry: BuiltInProviders.registry)
    }

    static let valid = """
        version: 1
        name: demo
        vars:
          bucket: b1
        storage:
          disk:
            provider: local
            root: ./buckets
        steps:
          make:
            action: create-bucket
            bucket: disk://${{ vars.bucket }}
            if-exists: ok
          up:
            action: upload
            needs: [make]
            from: ./files/*.csv
            to: disk://${{ vars.bucket }}/in/
          look:
            action: inspect
            at: disk://${{ vars.bucket }}/in/${{ steps.up.outputs.keys }}
        """

    @Test func loadsAValidWorkflowWithImplicitDependencies() throws {
        let workflow = try load(Self.valid)
        #expect(workflow.name == "demo")
        #expect(workflow.steps.map(\.id) == ["make", "up", "look"])
        #expect(workflow.step("up")?.dependencies == ["make"])
        #expect(workflow.step("look")?.dependencies == ["up"])
        #expect(workflow.storage("disk")?.provider == .local)
        #expect(workflow.vars.map(\.name) == ["bucket"])
    }

    @Test func credentialsOfAStorageImplyADependency() throws {
        let workflow = try load("""
            version: 1
            name: x
            storage:
              b2:
                provider: s3
                endpoint: https://s3.us-west-004.backblazeb2.com
                credentials: creds
            steps:
              creds:
                action: load-credentials
                from: data://.my/creds.json
              list:
                action: list
                at: b2://bucket/
            """)
        #expect(workflow.step("list")?.dependencies == ["creds"])
    }

    @Test func reportsASyntaxErrorAtItsPosition() {
        let result = diagnostics("version: 1\nname: x\nsteps:\n  a: b: c\n")
        #expect(result.count == 1)
        #expect(result.first?.hasPrefix("wf.yaml:4:") == true)
    }

    @Test func reportsDuplicateKeys() {
        let result = diagnostics("version: 1\nname: x\nname: y\nsteps: {}\n")
        #expect(result.contains("wf.yaml:3:1: duplicate key \"name\" (first defined at 2:1)"))
    }

    @Test func unknownKeysGetADidYouMeanHint() {
        let result = diagnostics("""
            version: 1
            name: x
            steps:
              a:
                action: list
                at: disk://bkt/
                neds: [b]
            storage:
              disk: {provider: local, root: .}
            """)
        #expect(result == ["wf.yaml:7:5: unknown key \"neds\" in step \"a\" (action list) (did you mean \"needs\"?)"])
    }

    @Test func unknownTopLevelKeyAndAction() {
        let result = diagnostics("""
            version: 1
            name: x
            stepz: {}
            steps:
              a:
                action: uplaod
            """)
        #expect(result == [
            "wf.yaml:3:1: unknown key \"stepz\" at the top level (did you mean \"steps\"?)",
            "wf.yaml:6:13: unknown action \"uplaod\" in step \"a\" (did you mean \"upload\"?)",
        ])
    }

    @Test func unknownNeedsNamesTheStepAndSuggests() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              disk: {provider: local, root: .}
            steps:
              fetch:
                action: list
                at: disk://bkt/
              use:
                action: list
                at: disk://bkt/
                needs: [fetc]
            """)
        #expect(result == ["wf.yaml:12:13: step \"use\" needs unknown step \"fetc\" (did you mean \"fetch\"?)"])
    }

    @Test func cyclesNameTheStepsOnTheCycle() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              disk: {provider: local, root: .}
            steps:
              a:
                action: list
                at: disk://bkt/
                needs: [c]
              b:
                action: list
                at: disk://bkt/
                needs: [a]
              c:
                action: list
                at: disk://bkt/
                needs: [b]
              d:
                action: list
                at: disk://bkt/
            """)
        #expect(result == ["wf.yaml:6:3: dependency cycle: \"a\" needs \"c\" needs \"b\" needs \"a\""])
    }

    @Test func badExpressionsPointInsideTheString() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              disk: {provider: local, root: .}
            steps:
              a:
                action: list
                at: disk://${{ vars.bucket + }}/
            """)
        #expect(result == ["wf.yaml:8:32: invalid expression 'vars.bucket +': unexpected character '+' in expression"])
    }

    @Test func unknownReferencesAreCaught() {
        let result = diagnostics("""
            version: 1
            name: x
            vars:
              bucket: b
            storage:
              disk: {provider: local, root: .}
            steps:
              a:
                action: list
                at: disk://${{ vars.buckt }}/
              b:
                action: list
                at: disk://${{ steps.a.outputs.cont }}/
              c:
                action: list
                at: disk://${{ steps.zz.outputs.count }}/${{ run.dat }}
            """)
        #expect(result == [
            "wf.yaml:10:20: unknown variable \"buckt\" (did you mean \"bucket\"?)",
            "wf.yaml:13:20: step \"a\" (list) has no output \"cont\" (did you mean \"count\"?); it has keys, count, bytes, prefixes",
            "wf.yaml:16:20: unknown step \"zz\"",
            "wf.yaml:16:50: unknown run field \"dat\" (did you mean \"date\"?); available: id, date, time, timestamp, started-at, workflow",
        ])
    }

    @Test func unknownStorageAndMissingRequiredKeys() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              disk: {provider: local, root: .}
            steps:
              a:
                action: upload
                to: dsk://bucket/
            """)
        #expect(result == [
            "wf.yaml:6:3: step \"a\" (action upload) is missing required key \"from\"",
            "wf.yaml:8:9: unknown storage \"dsk\" in `to` of step \"a\" (did you mean \"disk\"?)",
        ])
    }

    @Test func everyErrorOfAFileInOnePass() {
        let result = diagnostics("""
            version: 2
            name: x
            steps:
              a:
                action: list
                at: nowhere
                timeout: soon
                retry: {attempts: 0}
            """)
        #expect(result == [
            "wf.yaml:1:10: unsupported version 2; this bucketflow reads `version: 1`",
            "wf.yaml:6:9: `at` of step \"a\" must be a storage location like NAME://bucket/key, found \"nowhere\"",
            "wf.yaml:7:14: `timeout` must be a duration such as 30s, 5m or 1h, found \"soon\"",
            "wf.yaml:8:23: `attempts` must be a whole number from 1 to 100, found \"0\"",
        ])
    }

    @Test func statusFunctionsOnlyInIf() throws {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              disk: {provider: local, root: .}
            steps:
              a:
                action: list
                at: disk://${{ failure() }}/
              b:
                action: list
                at: disk://bkt/
                if: failure() || steps.a.outputs.count > 3
            """)
        #expect(result == ["wf.yaml:8:20: failure() can only be used in `if:`"])
    }

    @Test func conditionsAreParsedAndImplyDependencies() throws {
        let workflow = try load("""
            version: 1
            name: x
            storage:
              disk: {provider: local, root: .}
            steps:
              a:
                action: list
                at: disk://bkt/
              b:
                action: list
                at: disk://bkt/
                if: ${{ steps.a.outputs.count > 3 }}
            """)
        #expect(workflow.step("b")?.dependencies == ["a"])
        #expect(workflow.step("b")?.condition?.source == "steps.a.outputs.count > 3")
    }

    @Test func invalidCronAndTimeZone() throws {
        let result = diagnostics("""
            version: 1
            name: x
            schedule:
              - cron: "61 2 * * *"
              - {cron: "0 3 * * *", timezone: Europe/Berln}
            storage:
              disk: {provider: local, root: .}
            steps:
              a: {action: list, at: "disk://bkt/"}
            """)
        try #require(result.count == 2)
        #expect(result[0].hasPrefix("wf.yaml:4:12: invalid cron expression \"61 2 * * *\": "))
        #expect(result[1] == "wf.yaml:5:35: unknown time zone \"Europe/Berln\"; use an IANA name such as Europe/Berlin")

    }

    @Test func theB2NativeProviderIsAcceptedWithCredentials() {
        let result = diagnostics("""
            version: 1
            name: x
            storage:
              b2: {provider: b2}
            steps:
              a: {action: list, at: "b2://bucket/"}
            """)
        #expect(result == ["wf.yaml:4:3: storage \"b2\" (provider b2) is missing required key \"credentials\" (a load-credentials step with key_id and application_key)"])
    }

    @Test func emptyFile() {
        #expect(diagnostics("# nothing\n") == ["wf.yaml:1:1: the workflow file is empty; it needs at least `version: 1`, `name:` and `steps:`"])
    }
}
