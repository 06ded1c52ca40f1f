import Foundation
import Testing

/// Issue 8 through the binary: a loaded secret never reaches any output,
/// whatever route the workflow gives it; `--report` never replaces anything
/// but a regular file and is checked before the run starts.
@Suite(.serialized) struct LeakAndReportPathTests {
    static let secret = "Zq8-leak-canary-7f3e91c2"

    /// The secret is loaded, then routed into an object key, a variable, an
    /// output and a message: stdout, stderr, JSON logs, plan text and JSON,
    /// the report and history all mask it.
    @Test func aSecretRoutedEverywhereIsMaskedEverywhere() throws {
        let tree = try ExampleTree()
        try Data(#"{"key_id": "id-1", "application_key": "\#(Self.secret)"}"#.utf8).write(to: tree.url("creds.json"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tree.url("creds.json").path)
        try FileManager.default.createDirectory(at: tree.url("files"), withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: tree.url("files/a.txt"))
        try Data("""
            version: 1
            name: leaky
            vars:
              name: \(Self.secret)
            storage:
              disk: {provider: local, root: var/buckets}
            steps:
              creds: {action: load-credentials, from: creds.json}
              bucket: {action: create-bucket, needs: [creds], bucket: "disk://leak-bucket", if-exists: ok}
              up: {action: upload, needs: [bucket], from: files/a.txt, to: "disk://leak-bucket/${{ vars.name }}/a.txt"}
              check: {action: inspect, needs: [up], at: "disk://leak-bucket/${{ vars.name }}/missing.txt"}
            """.utf8).write(to: tree.url("leaky.yaml"))
        var outputs: [String] = []
        for arguments in [["run", "leaky.yaml", "-v", "--report", "r.json"], ["run", "leaky.yaml", "--log-format", "json"],
                          ["plan", "leaky.yaml"], ["plan", "leaky.yaml", "--json"], ["history", "leaky.yaml"], ["history", "leaky.yaml", "--json"],
                          ["report", "r.json"]] {
            let result = try CLI.run(arguments, in: tree.root)
            outputs += [result.stdout, result.stderr]
        }
        outputs.append(try String(contentsOf: tree.url("r.json"), encoding: .utf8))
        for name in try FileManager.default.subpathsOfDirectory(atPath: tree.url("state").path) where name.hasSuffix(".json") {
            outputs.append((try? String(contentsOf: tree.url("state").appendingPathComponent(name), encoding: .utf8)) ?? "")
        }
        for (index, text) in outputs.enumerated() {
            #expect(!text.contains(Self.secret), "output \(index) shows the secret: \(text.prefix(400))")
        }
        #expect(outputs.joined().contains("[REDACTED]"))
    }

    @Test(arguments: ["/dev/null", "dir", "link"])
    func reportRefusesAnythingButARegularFile(kind: String) throws {
        let tree = try ExampleTree()
        var path = kind
        if kind == "dir" { try FileManager.default.createDirectory(at: tree.url("dir"), withIntermediateDirectories: true) }
        if kind == "link" { try FileManager.default.createSymbolicLink(atPath: tree.url("link").path, withDestinationPath: tree.url("elsewhere.json").path) }
        if kind == "/dev/null" { path = "/dev/null" }
        let before = tree.snapshot()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--report", path], in: tree.root)
        #expect(result.status == 2, Comment(rawValue: result.stderr))
        #expect(result.stderr.contains("--report"))
        #expect(tree.snapshot() == before, "the run started although its report could not be written")
        var st = stat()
        #expect(lstat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func reportInAnUnwritableDirectoryIsRefusedBeforeTheRun() throws {
        guard getuid() != 0 else {
            // root writes anywhere: use a path under a file instead (cannot be a directory).
            let tree = try ExampleTree()
            try Data("x".utf8).write(to: tree.url("plain"))
            let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--report", "plain/r.json"], in: tree.root)
            #expect(result.status == 2, Comment(rawValue: result.stderr))
            #expect(!FileManager.default.fileExists(atPath: tree.url("var").path))
            return
        }
        let tree = try ExampleTree()
        try FileManager.default.createDirectory(at: tree.url("ro"), withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: tree.url("ro").path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: tree.url("ro").path) }
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--report", "ro/r.json"], in: tree.root)
        #expect(result.status == 2, Comment(rawValue: result.stderr))
        #expect(!FileManager.default.fileExists(atPath: tree.url("var").path))
    }
}
