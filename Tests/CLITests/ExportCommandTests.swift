import Foundation
import Testing

/// `bucketflow export argo|cronjob`: stdout is the YAML stream, problems go
/// to stderr with exit 2.
@Suite struct ExportCommandTests {
    @Test func argoPrintsConfigMapAndWorkflow() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["export", "argo", "workflows/origin-local.yaml", "--image", "registry.example/bucketflow:1", "--namespace", "batch",
                                  "--secret", "b2-env", "--state", "/runs"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("kind: ConfigMap\n"))
        #expect(result.stdout.contains("kind: Workflow\n"))
        #expect(result.stdout.contains("  namespace: batch\n"))
        #expect(result.stdout.contains("image: registry.example/bucketflow:1\n"))
        #expect(result.stdout.contains("- \"{{workflow.name}}\"\n"))
        #expect(result.stdout.contains("name: b2-env\n"))
        #expect(result.stdout.contains("mountPath: /runs\n"))
    }

    @Test func invalidWorkflowExits2WithFileLineColumn() throws {
        let tree = try ExampleTree()
        try Data("version: 1\nname: x\nsteps:\n  a:\n    action: lsit\n".utf8).write(to: tree.url("bad.yaml"))
        for kind in ["argo", "cronjob"] {
            let result = try CLI.run(["export", kind, "bad.yaml"], in: tree.root)
            #expect(result.status == 2)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "bad.yaml:5:13: unknown action \"lsit\" in step \"a\" (did you mean \"list\"?)\n")
        }
    }

    @Test func cronjobNeedsASchedule() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["export", "cronjob", "workflows/origin-local.yaml"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("has no `schedule:`"))
        let scheduled = try CLI.run(["export", "cronjob", "workflows/daily-exports.yaml"], in: tree.root)
        #expect(scheduled.status == 0, "\(scheduled.stderr)")
        #expect(scheduled.stdout.contains("kind: CronJob\n"))
        #expect(scheduled.stdout.contains("schedule: \"30 2 * * *\"\n"))
    }

    @Test func badOptionsExit2() throws {
        let tree = try ExampleTree()
        for arguments in [["--shards", "check"], ["--shards", "check=2"], ["--secret-file", "Bad=/x"], ["--volume", "claim"], ["--state", "relative"]] {
            let result = try CLI.run(["export", "argo", "workflows/origin-local.yaml"] + arguments, in: tree.root)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("bucketflow export: "), "\(result.stderr)")
        }
    }
}
