import Foundation
import Testing
import Scheduler
import Workflow
@testable import Executor

/// Every action, end to end on the local provider and the real file system.
struct LocalActionsTests {
    static let header = """
        version: 1
        name: actions
        storage:
          disk:
            provider: local
            root: buckets
        """

    @Test func everyActionOnTheLocalProvider() async throws {
        let ws = try TestWorkspace()
        try ws.write("data/tester/creds/credentials.json", #"{"key_id": "kid", "application_key": "k-secret-value-123"}"#, mode: 0o600)
        try ws.write("files/a.csv", "x,y\n1,2\n")
        try ws.write("files/sub/b.csv", "x,y\n3,4\n")
        try ws.write("files/meta.json", #"{"ok": true, "rows": {"n": 2}}"#)
        let report = try await ws.run(Self.header + """

            steps:
              creds:
                action: load-credentials
                from: data://.my/creds/credentials.json
                require: [key_id, application_key]
              bucket:
                action: create-bucket
                bucket: disk://alpha
              again:
                action: create-bucket
                needs: [bucket]
                bucket: disk://alpha
                if-exists: ok
              folder:
                action: create-folder
                needs: [bucket]
                at: disk://alpha/empty
              up:
                action: upload
                needs: [bucket]
                from: files/
                to: disk://alpha/in/
              listing:
                action: list
                at: disk://alpha/in/
                needs: [up]
              shallow:
                action: list
                at: disk://alpha/
                recursive: false
                needs: [up, folder]
              look:
                action: inspect
                needs: [up]
                at: disk://alpha/in/meta.json
                expect: {min-size: 5, content-type: application/json, json: {ok: true, rows.n: 2}}
              dup:
                action: copy
                needs: [up, shallow]
                from: disk://alpha/in/
                to: disk://alpha/copy/
              fetch:
                action: download
                needs: [dup]
                from: disk://alpha/copy/
                to: out/
              one:
                action: download
                needs: [up]
                from: disk://alpha/in/a.csv
                to: single/a-copy.csv
              rm:
                action: delete
                needs: [fetch]
                at: disk://alpha/copy/a.csv
              rmdir:
                action: delete-folder
                needs: [fetch, rm]
                at: disk://alpha/copy/
              beta:
                action: create-bucket
                bucket: disk://beta
              drop:
                action: delete-bucket
                needs: [beta]
                bucket: disk://beta
              drop-full:
                action: delete-bucket
                needs: [rmdir, shallow, look, one, listing, again]
                bucket: disk://alpha
                force: true
            """)
        for step in report.steps {
            #expect(step.status == .succeeded, "\(step.id): \(step.error?.message ?? "")")
        }
        #expect(report.run.status == .succeeded)
        #expect(report.step("creds").outputs["keys"] == .list([.string("application_key"), .string("key_id")]))
        #expect(report.step("again").outputs["created"] == .bool(false))
        #expect(report.step("up").objects == 3)
        #expect(report.step("up").outputs["keys"] == .list(["in/a.csv", "in/meta.json", "in/sub/b.csv"].map(ExpressionValue.string)))
        // Local to local, the kernel copies the bytes and nothing is hashed (no checksum is needed).
        #expect(report.step("up").transfers.allSatisfy { ($0.checksums ?? [:]).isEmpty })
        #expect(report.step("listing").outputs["count"] == .number(3))
        #expect(report.step("shallow").outputs["prefixes"] == .list([.string("empty/"), .string("in/")]))
        #expect(report.step("look").outputs["json"] == .object(["ok": .bool(true), "rows": .object(["n": .number(2)])]))
        #expect(report.step("dup").objects == 3)
        #expect(try ws.read("out/sub/b.csv") == "x,y\n3,4\n")
        #expect(try ws.read("single/a-copy.csv") == "x,y\n1,2\n")
        #expect(report.step("rmdir").outputs["count"] == .number(2))
        #expect(report.step("drop-full").outputs["objects-deleted"] == .number(4))
        #expect(!ws.exists("buckets/alpha"))
        #expect(!ws.exists("buckets/beta"))
        #expect(ws.temporaryFiles().isEmpty)
    }

    @Test func inspectExpectationsFailWithEveryReason() async throws {
        let ws = try TestWorkspace()
        try ws.write("files/summary.txt", "")
        let report = try await ws.run(Self.header + """

            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1"}
              up: {action: upload, needs: [bucket], from: files/summary.txt, to: "disk://bk1/summary.txt"}
              check:
                action: inspect
                needs: [up]
                at: disk://bk1/summary.txt
                expect: {min-size: 1, content-type: text/csv}
              after: {action: list, needs: [check], at: "disk://bk1/"}
            """)
        #expect(report.run.status == .failed)
        let check = report.step("check")
        #expect(check.status == .failed)
        #expect(check.error?.code.rawValue == "ExpectationFailed")
        #expect(check.error?.message == "disk://bk1/summary.txt: expected size >= 1 bytes, found 0; expected content-type text/csv, found text/plain")
        #expect(report.step("after").status == .skipped)
        #expect(report.step("after").skipReason == "needs 'check' failed")
    }

    @Test func skipUnchangedMovesNothingOnARerun() async throws {
        let ws = try TestWorkspace()
        try ws.write("files/a.csv", "1\n")
        try ws.write("files/b.csv", "2\n")
        let yaml = Self.header + """

            steps:
              bucket: {action: create-bucket, bucket: "disk://bk1", if-exists: ok}
              up: {action: upload, needs: [bucket], from: "files/*.csv", to: "disk://bk1/x/", skip-unchanged: true}
              down: {action: download, needs: [up], from: "disk://bk1/x/", to: out/, skip-unchanged: true}
            """
        let first = try await ws.run(yaml)
        #expect(first.step("up").counts.transferred == 2)
        #expect(first.step("down").counts.transferred == 2)
        try ws.write("files/b.csv", "changed\n")
        let second = try await ws.run(yaml)
        #expect(second.step("up").counts.transferred == 1)
        #expect(second.step("up").counts.unchanged == 1)
        #expect(second.step("down").counts.transferred == 1)
        #expect(second.step("down").counts.unchanged == 1)
        #expect(try ws.read("out/b.csv") == "changed\n")
        let third = try await ws.run(yaml)
        #expect(third.step("up").counts.transferred == 0)
        #expect(third.step("up").counts.unchanged == 2)
        #expect(third.step("down").counts.unchanged == 2)
    }

    @Test func uploadErrorsAreClear() async throws {
        let ws = try TestWorkspace()
        try ws.write("files/a.csv", "1\n")
        try ws.write("files/b.csv", "2\n")
        let report = try await ws.run(Self.header + """

            steps:
              nothing: {action: upload, from: "files/*.txt", to: "disk://bk1/x/"}
              several: {action: upload, from: "files/*.csv", to: "disk://bk1/x"}
              nobucket: {action: upload, from: "files/a.csv", to: "disk://missing-bucket/a.csv"}
            """)
        #expect(report.step("nothing").error?.message == "no files match files/*.txt (resolved to \(ws.root.path)/files/*.txt); check the path, which is relative to the workflow file")
        #expect(report.step("several").error?.message == "`to` must end with \"/\" when uploading several files (2 match files/*.csv); write disk://bk1/x/")
        #expect(report.step("nobucket").error?.code.rawValue == "NoSuchBucket")
    }

    @Test func credentialsThatOthersCanReadAreRefused() async throws {
        let ws = try TestWorkspace()
        let file = try ws.write("data/tester/c.json", #"{"key_id": "kid", "application_key": "super-secret-value-42"}"#, mode: 0o644)
        let report = try await ws.run(Self.header + """

            steps:
              creds: {action: load-credentials, from: "data://.my/c.json", require: [key_id]}
            """)
        let step = report.step("creds")
        #expect(step.status == .failed)
        #expect(step.error?.code.rawValue == "CredentialsError")
        #expect(step.error?.message.contains(file.path) == true)
        #expect(step.error?.message.contains("chmod 600") == true)
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(!json.contains("super-secret-value-42"))
    }

    @Test func missingRequiredKeysAreNamedButValuesNever() async throws {
        let ws = try TestWorkspace()
        try ws.write("data/tester/c.json", #"{"key_id": "visible-id-but-secret-too"}"#, mode: 0o600)
        let report = try await ws.run(Self.header + """

            steps:
              creds: {action: load-credentials, from: "data://.my/c.json", require: [key_id, application_key]}
            """)
        let message = report.step("creds").error?.message ?? ""
        #expect(message.contains("application_key"))
        #expect(!message.contains("visible-id-but-secret-too"))
    }
}

