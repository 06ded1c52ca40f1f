import Foundation
import Providers
import XCTest
@testable import Export
import Workflow

final class ArgoExportTests: XCTestCase {
    /// Checks the DAG against the workflow: every step has its task(s), each
    /// task runs its step with --only, and the edges are exactly the
    /// dependency graph (every shard of a need before every shard of a step).
    func assertGraph(_ document: ArgoDocument, _ workflow: Workflow, fileKey: String, state: String = "/state", file: StaticString = #filePath, line: UInt = #line) {
        let stepOfTask = document.stepOfTask
        XCTAssertEqual(stepOfTask.count, document.tasks.count, "every task's template names its step", file: file, line: line)
        XCTAssertEqual(Set(stepOfTask.values), Set(workflow.steps.map(\.id)), "one or more tasks per step", file: file, line: line)
        var expected: Set<[String]> = []
        for (task, stepID) in stepOfTask {
            for need in workflow.step(stepID)!.dependencies {
                for (other, otherStep) in stepOfTask where otherStep == need { expected.insert([other, task]) }
            }
        }
        XCTAssertEqual(document.edges, expected, "DAG edges", file: file, line: line)
        for task in document.tasks {
            let name = task["name"]!.string!
            let template = document.template(task["template"]!.string!)!
            let args = template["container"]!["args"]!.list.compactMap(\.string)
            XCTAssertEqual(Array(args.prefix(8)), ["run", "/workflows/\(fileKey)", "--only", stepOfTask[name]!, "--state", state, "--run-id", "{{workflow.name}}"], file: file, line: line)
            XCTAssertEqual(template["container"]!["command"]!.list, [.string("bucketflow")], file: file, line: line)
        }
        XCTAssertEqual(document.dag?["failFast"], .bool(false), file: file, line: line)
    }

    func testEveryExampleWorkflowExportsValidArgo() throws {
        let files = ExportFixtures.workflowFiles
        XCTAssertFalse(files.isEmpty)
        for url in files {
            let source = try String(contentsOf: url, encoding: .utf8)
            let workflow = try WorkflowLoader.load(path: url.path, registry: BuiltInProviders.registry)
            let stream = try ArgoExporter.export(workflow, source: source, fileName: "workflows/" + url.lastPathComponent)
            let result = try ArgoValidator.validate(stream)
            let kinds = result.documents.compactMap { $0["kind"]?.string }
            XCTAssertEqual(kinds.first, "ConfigMap", url.lastPathComponent)
            XCTAssertEqual(result.documents[0]["data"]?[url.lastPathComponent]?.string, source, "the ConfigMap holds the file verbatim")
            if workflow.schedules.isEmpty {
                XCTAssertEqual(kinds, ["ConfigMap", "Workflow"], url.lastPathComponent)
            } else {
                XCTAssertEqual(Array(kinds.dropFirst()), Array(repeating: "CronWorkflow", count: Set(workflow.schedules.map(\.timeZone)).count))
            }
            for tree in result.documents.dropFirst() {
                assertGraph(ArgoDocument(tree: tree), workflow, fileKey: url.lastPathComponent)
            }
        }
    }

    func testRetryTimeoutAndContinueOnError() throws {
        let workflow = try ExportFixtures.load("""
            version: 1
            name: knobs
            storage:
              disk: { provider: local, root: buckets }
            concurrency: 3
            steps:
              make:
                action: create-bucket
                bucket: disk://bkt
                retry: { attempts: 3, backoff: 500ms, max-backoff: 1m }
                timeout: 90s
              optional:
                action: inspect
                needs: make
                at: disk://bkt/x
                continue-on-error: true
              after:
                action: list
                needs: [optional]
                at: disk://bkt
                retry: 2
            """)
        var options = ExportOptions()
        options.serviceAccount = "bucketflow-runner"
        options.deadlineGrace = 10
        options.volumes = [try VolumeClaim(parsing: "buckets:/workflows-data")]
        options.image = "registry.example.com:5000/bucketflow@sha256:0123"
        let stream = try ArgoExporter.export(workflow, source: "x", fileName: "knobs.yaml", options: options)
        let result = try ArgoValidator.validate(stream)
        let document = ArgoDocument(tree: result.documents[1])
        assertGraph(document, workflow, fileKey: "knobs.yaml")
        XCTAssertEqual(document.spec["serviceAccountName"], .string("bucketflow-runner"))
        XCTAssertEqual(document.template("step-make")?["container"]?["image"], .string("registry.example.com:5000/bucketflow@sha256:0123"))
        XCTAssertTrue(document.template("step-make")?["container"]?["volumeMounts"]?.list.contains(.map(["name": .string("claim-buckets"), "mountPath": .string("/workflows-data")])) ?? false)
        XCTAssertEqual(document.spec["parallelism"], .number(3))
        options.parallelism = 8
        let overridden = try ExportFixtures.parse(try ArgoExporter.export(workflow, source: "x", fileName: "knobs.yaml", options: options))
        XCTAssertEqual(ArgoDocument(tree: overridden[1]).spec["parallelism"], .number(3), "the file's concurrency: wins")
        let unset = try ExportFixtures.load("version: 1\nname: u\nsteps:\n  a: { action: load-credentials, env-prefix: X_ }\n")
        let withParallelism = try ExportFixtures.parse(try ArgoExporter.export(unset, source: "x", fileName: "u.yaml", options: options))
        XCTAssertEqual(ArgoDocument(tree: withParallelism[1]).spec["parallelism"], .number(8))
        options.parallelism = 0
        XCTAssertThrowsError(try ArgoExporter.export(unset, source: "x", fileName: "u.yaml", options: options))
        options.parallelism = nil
        let make = document.template("step-make")!
        XCTAssertEqual(make["retryStrategy"]?["limit"], .string("2"))
        XCTAssertEqual(make["retryStrategy"]?["backoff"]?["duration"], .string("500ms"))
        XCTAssertEqual(make["retryStrategy"]?["backoff"]?["factor"], .string("2"))
        XCTAssertEqual(make["retryStrategy"]?["backoff"]?["cap"], .string("60s"))
        XCTAssertEqual(make["activeDeadlineSeconds"], .string("100"), "90s timeout + 10s grace")
        XCTAssertEqual(document.template("step-after")!["retryStrategy"]?["limit"], .string("1"))
        XCTAssertNil(document.template("step-optional")!["retryStrategy"])
        XCTAssertNil(document.template("step-optional")!["activeDeadlineSeconds"])
        // No status-sensitive `if:`: plain dependencies, and continueOn for continue-on-error.
        XCTAssertEqual(document.task("optional")?["continueOn"]?["failed"], .bool(true))
        XCTAssertNil(document.task("make")?["continueOn"])
        XCTAssertEqual(document.task("after")?["dependencies"]?.list, [.string("optional")])
        XCTAssertNil(document.task("after")?["depends"])
        XCTAssertTrue(stream.contains("# continue-on-error: true"))
    }

    func testStatusConditionsUseDependsAndRunUpstreamRegardless() throws {
        let workflow = try ExportFixtures.load("""
            version: 1
            name: conditions
            storage:
              disk: { provider: local, root: buckets }
            steps:
              a:
                action: create-bucket
                bucket: disk://bkt
              b:
                action: list
                needs: a
                at: disk://bkt
                continue-on-error: true
              c:
                action: list
                needs: b
                at: disk://bkt
              cleanup:
                action: delete-folder
                needs: c
                at: disk://bkt/tmp/
                if: failure()
              report:
                action: list
                needs: [b]
                at: disk://bkt
                if: always()
              unrelated:
                action: list
                at: disk://bkt
              tail:
                action: list
                needs: [unrelated, b]
                at: disk://bkt
                if: steps.b.outputs.count > 0
            """)
        let graph = try StepGraph(workflow: workflow)
        XCTAssertEqual(graph.statusSensitive, ["cleanup", "report"])
        XCTAssertEqual(graph.runsRegardless, ["cleanup", "report", "c", "b", "a"])
        let stream = try ArgoExporter.export(workflow, source: "x", fileName: "c.yaml")
        let result = try ArgoValidator.validate(stream)
        let document = ArgoDocument(tree: result.documents[1])
        assertGraph(document, workflow, fileKey: "c.yaml")
        for task in document.tasks {
            XCTAssertNil(task["dependencies"], "depends and dependencies cannot be mixed")
            XCTAssertNil(task["continueOn"], "continueOn is not allowed with depends")
        }
        XCTAssertNil(document.task("a")?["depends"])
        XCTAssertEqual(document.task("b")?["depends"], .string("(a.Succeeded || a.Failed || a.Errored)"))
        XCTAssertEqual(document.task("c")?["depends"], .string("(b.Succeeded || b.Failed || b.Errored)"))
        XCTAssertEqual(document.task("cleanup")?["depends"], .string("(c.Succeeded || c.Failed || c.Errored)"))
        // Not upstream of a status-sensitive step: waits for success, or failure of a continue-on-error need.
        XCTAssertEqual(document.task("tail")?["depends"], .string("unrelated.Succeeded && (b.Succeeded || b.Failed)"))
        XCTAssertEqual(document.template("step-cleanup")?["metadata"]?["annotations"]?["bucketflow.dev/if"], .string("failure()"))
        XCTAssertTrue(stream.contains("# if: failure()"))
        XCTAssertTrue(stream.contains("evaluates this `if:` itself"))
    }

    func testSchedulesTimeZonesAndOverlap() throws {
        for (overlap, policy) in [("forbid", "Forbid"), ("allow", "Allow"), ("queue", "Allow")] {
            let workflow = try ExportFixtures.load("""
                version: 1
                name: Nightly Export ü
                overlap: \(overlap)
                schedule:
                  - { cron: "30 2 * * *", timezone: Europe/Berlin }
                  - { cron: "0 12 * * 1-5", timezone: Europe/Berlin }
                  - { cron: "0 6 * * 5-7", timezone: America/New_York }
                storage:
                  disk: { provider: local, root: buckets }
                steps:
                  a: { action: create-bucket, bucket: "disk://bkt" }
                """)
            let stream = try ArgoExporter.export(workflow, source: "x", fileName: "n.yaml", options: { var o = ExportOptions(); o.namespace = "batch"; return o }())
            let result = try ArgoValidator.validate(stream)
            XCTAssertEqual(result.documents.count, 3)
            let berlin = result.documents[1], newYork = result.documents[2]
            XCTAssertEqual(berlin["metadata"]?["name"], .string("nightly-export-1"))
            XCTAssertEqual(newYork["metadata"]?["name"], .string("nightly-export-2"))
            XCTAssertEqual(berlin["metadata"]?["namespace"], .string("batch"))
            XCTAssertEqual(berlin["spec"]?["timezone"], .string("Europe/Berlin"))
            XCTAssertEqual(berlin["spec"]?["schedules"], .list([.string("30 2 * * *"), .string("0 12 * * 1-5")]))
            XCTAssertEqual(newYork["spec"]?["schedules"], .list([.string("0 6 * * 5-6,0")]), "Vixie's 7 for Sunday is 0 for Argo")
            XCTAssertEqual(newYork["spec"]?["timezone"], .string("America/New_York"))
            XCTAssertEqual(berlin["spec"]?["concurrencyPolicy"], .string(policy), overlap)
            let mutex = berlin["spec"]?["workflowSpec"]?["synchronization"]?["mutexes"]?.list.first?["name"]
            XCTAssertEqual(mutex, overlap == "queue" ? .string("bucketflow-nightly-export") : nil, overlap)
            if overlap == "queue" { XCTAssertTrue(stream.contains("has no queue")) }
        }
    }

    func testShardedStepBecomesOneTaskPerShard() throws {
        var workflow = try ExportFixtures.load("""
            version: 1
            name: sharded
            storage:
              disk: { provider: local, root: buckets }
            steps:
              make: { action: create-bucket, bucket: "disk://bkt" }
              push:
                action: upload
                needs: make
                from: files/
                to: disk://bkt/in/
              mirror:
                action: copy
                needs: push
                from: disk://bkt/in/
                to: disk://bkt/out/
              done:
                action: list
                needs: mirror
                at: disk://bkt/out/
            """)
        // The file's own `shards:` (read from the step's parameters) ...
        let index = workflow.steps.firstIndex { $0.id == "push" }!
        workflow.steps[index].parameters["shards"] = Value(kind: .number(3), mark: workflow.steps[index].mark)
        // ... and one given on the command line.
        var options = ExportOptions()
        options.shards = ["mirror": 2]
        options.state = "disk://bkt/runs/"
        let stream = try ArgoExporter.export(workflow, source: "x", fileName: "s.yaml", options: options)
        let result = try ArgoValidator.validate(stream)
        let document = ArgoDocument(tree: result.documents[1])
        assertGraph(document, workflow, fileKey: "s.yaml", state: "disk://bkt/runs/")
        XCTAssertEqual(document.tasks.compactMap { $0["name"]?.string },
                       ["make", "push-shard-1", "push-shard-2", "push-shard-3", "mirror-shard-1", "mirror-shard-2", "done"])
        XCTAssertEqual(document.task("push-shard-2")?["arguments"]?["parameters"]?.list.first?["value"], .string("2/3"))
        XCTAssertEqual(document.task("mirror-shard-1")?["dependencies"]?.list, ["push-shard-1", "push-shard-2", "push-shard-3"].map(Tree.string))
        XCTAssertEqual(document.task("done")?["dependencies"]?.list, ["mirror-shard-1", "mirror-shard-2"].map(Tree.string))
        let args = document.template("step-push")?["container"]?["args"]?.list.compactMap(\.string)
        XCTAssertEqual(args?.suffix(2), ["--shard", "{{inputs.parameters.shard}}"])
        XCTAssertNil(document.spec["volumes"]?.list.first { $0["name"] == .string("state") }, "a storage location needs no state volume")

        options.shards = ["done": 2]
        XCTAssertThrowsError(try ArgoExporter.export(workflow, source: "x", fileName: "s.yaml", options: options)) { error in
            XCTAssertTrue("\(error)".contains("cannot be sharded"), "\(error)")
        }
        options.shards = ["nope": 2]
        XCTAssertThrowsError(try ArgoExporter.export(workflow, source: "x", fileName: "s.yaml", options: options))
        options.shards = [:]
        options.state = "other://bkt/runs/"
        XCTAssertThrowsError(try ArgoExporter.export(workflow, source: "x", fileName: "s.yaml", options: options)) { error in
            XCTAssertTrue("\(error)".contains("no storage \"other\""), "\(error)")
        }
    }

    func testSecretsAreReferencedNeverInlined() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretValue = "K0035ecretValue-\(UUID().uuidString)"
        try Data("{\"key_id\": \"id\", \"application_key\": \"\(secretValue)\"}".utf8).write(to: directory.appendingPathComponent("credentials.json"))
        let source = """
            version: 1
            name: secrets
            storage:
              b2:
                provider: s3
                endpoint: https://s3.us-west-004.backblazeb2.com
                credentials: creds
            steps:
              creds:
                action: load-credentials
                from: credentials.json
                require: [key_id, application_key]
              env-creds:
                action: load-credentials
                env-prefix: B2_
              make:
                action: create-bucket
                bucket: b2://bucket
            """
        let file = directory.appendingPathComponent("secrets.yaml")
        try Data(source.utf8).write(to: file)
        let workflow = try WorkflowLoader.load(path: file.path, registry: BuiltInProviders.registry)
        var options = ExportOptions()
        options.envSecrets = ["b2-env"]
        options.secretFiles = [try SecretFile(parsing: "b2-file=/workflows-secrets/credentials.json", dataDirectory: "/data"),
                               try SecretFile(parsing: "other/key.json=data://.my/c.json", dataDirectory: "/data")]
        for stream in [try ArgoExporter.export(workflow, source: source, fileName: file.path, options: options)] {
            XCTAssertFalse(stream.contains(secretValue), "a secret value leaked into the export")
            XCTAssertFalse(stream.contains("application_key\":"), "credential file content leaked")
            let result = try ArgoValidator.validate(stream)
            let document = ArgoDocument(tree: result.documents[1])
            let container = document.template("step-creds")!["container"]!
            XCTAssertEqual(container["envFrom"]?.list, [.map(["secretRef": .map(["name": .string("b2-env")])])])
            XCTAssertEqual(container["env"]?.list, [.map(["name": .string("BUCKETFLOW_DATA_DIR"), "value": .string("/data")])], "no values besides the data dir")
            let mounts = container["volumeMounts"]!.list
            XCTAssertTrue(mounts.contains(.map(["name": .string("secret-b2-file"), "mountPath": .string("/workflows-secrets/credentials.json"), "subPath": .string("credentials.json"), "readOnly": .bool(true)])))
            XCTAssertTrue(mounts.contains(.map(["name": .string("secret-other"), "mountPath": .string("/data/.my/c.json"), "subPath": .string("key.json"), "readOnly": .bool(true)])))
            let volumes = document.spec["volumes"]!.list
            XCTAssertTrue(volumes.contains(.map(["name": .string("secret-b2-file"), "secret": .map(["secretName": .string("b2-file"), "defaultMode": .number(256)])])))
            XCTAssertTrue(volumes.contains(.map(["name": .string("state"), "persistentVolumeClaim": .map(["claimName": .string("bucketflow-state")])])))
        }
        XCTAssertThrowsError(try SecretFile(parsing: "Bad_Name=/x/y", dataDirectory: "/data"))
        XCTAssertThrowsError(try SecretFile(parsing: "ok=relative/path", dataDirectory: "/data"))
    }

    func testNamesAreSanitizedAndUnique() throws {
        let workflow = try ExportFixtures.load("""
            version: 1
            name: "  Ünïcode & Spaces: Export!  "
            storage:
              disk: { provider: local, root: buckets }
            steps:
              _private: { action: create-bucket, bucket: "disk://bkt" }
              a_b: { action: list, at: "disk://bkt", needs: _private }
              a-b: { action: list, at: "disk://bkt", needs: [a_b] }
              step-a-b: { action: list, at: "disk://bkt", needs: [a-b, a_b] }
            """)
        let stream = try ArgoExporter.export(workflow, source: "x", fileName: "n.yaml")
        let result = try ArgoValidator.validate(stream)
        let document = ArgoDocument(tree: result.documents[1])
        assertGraph(document, workflow, fileKey: "n.yaml")
        XCTAssertEqual(Set(document.tasks.compactMap { $0["name"]?.string }).count, 4)
        XCTAssertEqual(result.documents[1]["metadata"]?["generateName"], .string("n-code-spaces-export-"))
    }

    /// Argo substitutes `{{...}}` everywhere in a workflow; text from the
    /// file must not look like a template variable.
    func testFileTextCannotBecomeArgoVariables() throws {
        let workflow = try ExportFixtures.load("""
            version: 1
            name: "{{workflow.uid}} and {{ evil }}"
            storage:
              disk: { provider: local, root: buckets }
            steps:
              a: { action: list, at: "disk://bkt" }
              b:
                action: list
                needs: a
                at: disk://bkt
                if: ${{ format('{{0}}', steps.a.outputs.count) == '{{1}}' || always() }}
            """)
        let stream = try ArgoExporter.export(workflow, source: "{{kept verbatim}}", fileName: "v.yaml")
        let result = try ArgoValidator.validate(stream)
        XCTAssertEqual(result.documents[0]["data"]?["v.yaml"], .string("{{kept verbatim}}"), "the ConfigMap is not an Argo resource")
        let annotation = ArgoDocument(tree: result.documents[1]).template("step-b")?["metadata"]?["annotations"]?["bucketflow.dev/if"]?.string
        XCTAssertEqual(annotation, "format('{ {0} }', steps.a.outputs.count) == '{ {1} }' || always()")
    }

    /// The validator is not vacuous: it rejects what Argo would.
    func testValidatorRejectsBrokenDocuments() throws {
        let broken = """
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata: {generateName: x-}
            spec:
              entrypoint: main
              templates:
              - name: main
                dag:
                  tasks:
                  - {name: a, template: step-a}
                  - {name: b, template: step-a, dependencies: [a]}
                  - {name: c, template: step-a, depends: "a.Succeeded || b", continueOn: {failed: true}}
                  - {name: 1d, template: step-missing, depends: "ghost.Succeeded"}
              - name: step-a
                retryStrategy: {limit: 2, retryPolicy: Always, backof: {duration: 1s}}
                metadata: {annotations: {x: "{{steps.a.outputs.url}}"}}
                container: {image: x, args: [run, "{{inputs.parameters.shard}}"]}
            """
        let result = try ArgoValidator.run(broken)
        let errors = result.errors.map(\.error).joined(separator: "\n")
        for expected in ["limit: 2 is not of type 'string'", "backof: field not in Argo's schema", "'dependencies' in a DAG that uses 'depends'",
                         "'continueOn' in a DAG that uses 'depends'", "operands without a result", "task name '1d' invalid",
                         "template 'step-missing' does not exist", "unknown task 'ghost'", "is not an input parameter",
                         "{{steps.a.outputs.url}} is not a variable Argo can resolve"] {
            XCTAssertTrue(errors.contains(expected), "expected \"\(expected)\" in:\n\(errors)")
        }
    }

    func testConfigMapKeepsAwkwardSourceExactly() throws {
        let workflow = try ExportFixtures.load("version: 1\nname: x\nsteps:\n  a: { action: load-credentials, env-prefix: X_ }\n")
        for source in ["  indented first line\nsecond\n", "tabs\tand trailing spaces   \n\n\n", "no newline at end", "{{workflow.name}} # not a comment\n",
                       "---\n...\n- list: \"quoted\"\n", "bell\u{7}\r\nwindows\r\n", "\n\nleading blank lines\n", "ü 日本 \u{2028} line separator\n"] {
            let stream = try ArgoExporter.export(workflow, source: source, fileName: "x.yaml")
            let result = try ArgoValidator.validate(stream)
            XCTAssertEqual(result.documents.first?["data"]?["x.yaml"], .string(source), source.debugDescription)
        }
        XCTAssertThrowsError(try ArgoExporter.export(workflow, source: "", fileName: "bad name.yaml"))
    }
}
