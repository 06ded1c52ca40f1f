import Foundation
import Testing

/// Issue 7 through the built binary: exit codes that tell the truth (plans
/// fail closed, usage errors exit 2), cron lines that work under cron's bare
/// environment, and a cancelled run's report that matches the server.
@Suite(.serialized) struct TruthfulRunTests {
    static let commands: [[String]] = [["run"], ["plan"], ["validate"], ["history"], ["schedule"], ["cron"], ["export", "argo"], ["export", "cronjob"]]

    @Test(arguments: commands)
    func usageErrorsExit2(command: [String]) throws {
        let tree = try ExampleTree()
        let unknownOption = try CLI.run(command + ["workflows/daily-exports.yaml", "--no-such-option"], in: tree.root)
        #expect(unknownOption.status == 2, Comment(rawValue: unknownOption.stderr))
        #expect(unknownOption.stderr.contains("--no-such-option"))
        let missingArgument = try CLI.run(command, in: tree.root)
        #expect(missingArgument.status == 2, Comment(rawValue: missingArgument.stderr))
    }

    @Test func anUnknownCommandAndABadNumberExit2() throws {
        let tree = try ExampleTree()
        #expect(try CLI.run(["no-such-command"], in: tree.root).status == 2)
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--concurrency", "lots"], in: tree.root).status == 2)
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--concurrency", "0"], in: tree.root).status == 2)
        #expect(try CLI.run(["--help"], in: tree.root).status == 0)
    }

    /// Terraform's contract: 0 nothing to do, 1 any error, 2 changes pending.
    @Test func planDetailedExitCodeIsTerraforms() throws {
        let tree = try ExampleTree()
        try Data("version: 1\nname: x\nsteps:\n  a:\n    acton: list\n".utf8).write(to: tree.url("bad.yaml"))
        let unreachable = """
            version: 1
            name: unreachable
            storage:
              remote: {provider: s3, endpoint: "http://127.0.0.1:1", credentials: creds, max-attempts: 1}
            steps:
              creds: {action: load-credentials, env-prefix: "T_", require: [key_id, application_key]}
              bucket: {action: create-bucket, bucket: "remote://some-bucket", if-exists: ok}
            """
        try Data(unreachable.utf8).write(to: tree.url("unreachable.yaml"))
        let env = ["T_KEY_ID": "AKIAEXAMPLEKEY", "T_APPLICATION_KEY": "example-secret-value-1234"]
        func code(_ arguments: [String]) throws -> Int32 { try CLI.run(arguments, in: tree.root, environment: env).status }

        // Errors: 1 with --detailed-exitcode; without it, invalid input is 2 and a failed plan 1.
        #expect(try code(["plan", "--detailed-exitcode", "bad.yaml"]) == 1)
        #expect(try code(["plan", "bad.yaml"]) == 2)
        #expect(try code(["plan", "--detailed-exitcode", "missing.yaml"]) == 1)
        #expect(try code(["plan", "missing.yaml"]) == 2)
        #expect(try code(["plan", "--detailed-exitcode", "workflows/daily-exports.yaml", "--var", "nope=1"]) == 1)
        #expect(try code(["plan", "workflows/daily-exports.yaml", "--var", "nope=1"]) == 2)
        #expect(try code(["plan", "--detailed-exitcode", "--no-such-option", "workflows/daily-exports.yaml"]) == 1)
        #expect(try code(["plan", "--detailed-exitcode", "unreachable.yaml"]) == 1)
        #expect(try code(["plan", "unreachable.yaml"]) == 1)
        // Changes pending, then nothing to do.
        #expect(try code(["plan", "--detailed-exitcode", "workflows/daily-exports.yaml"]) == 2)
        #expect(try code(["plan", "workflows/daily-exports.yaml"]) == 0)
        #expect(try code(["run", "workflows/daily-exports.yaml"]) == 0)
        #expect(try code(["plan", "--detailed-exitcode", "workflows/daily-exports.yaml"]) == 0)
    }

    @Test func anUnreadableRemoteIsAPlanErrorInJSON() throws {
        let tree = try ExampleTree()
        try Data("""
            version: 1
            name: unreachable
            storage:
              remote: {provider: s3, endpoint: "http://127.0.0.1:1", credentials: creds, max-attempts: 1}
            steps:
              creds: {action: load-credentials, env-prefix: "T_", require: [key_id, application_key]}
              listing: {action: list, at: "remote://some-bucket/"}
            """.utf8).write(to: tree.url("unreachable.yaml"))
        let result = try CLI.run(["plan", "--json", "unreachable.yaml"], in: tree.root, environment: ["T_KEY_ID": "AKIAEXAMPLEKEY", "T_APPLICATION_KEY": "example-secret-value-1234"])
        #expect(result.status == 1)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let run = report["run"] as! [String: Any]
        #expect(run["status"] as? String == "failed")
        #expect(run["exitCode"] as? Int == 1)
        let listing = (report["steps"] as! [[String: Any]]).first { $0["id"] as? String == "listing" }!
        #expect(listing["status"] as? String == "failed")
        let error = listing["error"] as! [String: Any]
        #expect(error["code"] as? String == "Transient")
        #expect((error["message"] as? String)?.contains("connection refused (errno 111)") == true, Comment(rawValue: "\(error)"))
        let summary = report["summary"] as! [String: Any]
        #expect(summary["errors"] as? Int == 1)
        #expect(summary["changesPending"] as? Bool == false)
        #expect(!result.stdout.contains("example-secret-value-1234"))
    }

    @Test func planJSONSummaryCountsWhatWouldChange() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["plan", "--json", "workflows/daily-exports.yaml"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let summary = report["summary"] as! [String: Any]
        #expect(summary["bucketsToCreate"] as? Int == 1)
        #expect(summary["uploads"] as? Int == 4)
        #expect(summary["uploadBytes"] as? Int == 521)
        #expect(summary["changesPending"] as? Bool == true)
        #expect(summary["errors"] as? Int == 0)
    }

    /// The README's recipe, run as written: it runs only when changes are pending.
    @Test func theReadmePlanThenRunRecipeWorks() throws {
        let tree = try ExampleTree()
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "rc=0; bucketflow plan --detailed-exitcode"))
        let end = try #require(readme[start.lowerBound...].range(of: "\n```"))
        let recipe = String(readme[start.lowerBound..<end.lowerBound])
            .replacingOccurrences(of: "bucketflow ", with: "\(CLI.binary.path) ")
        let first = try CLI.run(["/bin/sh", "-c", recipe], in: tree.root, viaShell: true)
        #expect(first.status == 0, Comment(rawValue: first.stdout + first.stderr))
        #expect(first.stdout.contains("Run succeeded"))
        let second = try CLI.run(["/bin/sh", "-c", recipe], in: tree.root, viaShell: true)
        #expect(second.status == 0, Comment(rawValue: second.stdout + second.stderr))
        #expect(!second.stdout.contains("Run succeeded"), "ran although nothing was pending")
    }

    /// The printed crontab line, run the way cron runs it (a bare
    /// environment, another HOME), reads the same credentials and lands in
    /// the history `bucketflow history` shows here.
    @Test func cronLinesWorkUnderCronsBareEnvironment() throws {
        let tree = try ExampleTree()
        try tree.prepareDataArea()
        try Data("""
            version: 1
            name: nightly-origin
            schedule:
              - cron: "30 2 * * *"
                timezone: Asia/Tokyo
            storage:
              disk: {provider: local, root: ../var/buckets}
            steps:
              creds:
                action: load-credentials
                from: data://.my/BackblazeCredentials/credentials.json
                require: [key_id, application_key]
              bucket: {action: create-bucket, needs: [creds], bucket: "disk://nightly", if-exists: ok}
              upload: {action: upload, needs: [bucket], from: data://.my/somecollection/somefile.png, to: "disk://nightly/somefile.png"}
            """.utf8).write(to: tree.url("workflows/nightly.yaml"))
        let printed = try CLI.run(["cron", "workflows/nightly.yaml"], in: tree.root)
        #expect(printed.status == 0, Comment(rawValue: printed.stderr))
        let lines = printed.stdout.split(separator: "\n").map(String.init)
        // The zone applies to this entry only.
        let entryIndex = try #require(lines.firstIndex { $0.hasPrefix("30 2 * * * ") })
        #expect(lines[entryIndex - 1] == "CRON_TZ=Asia/Tokyo")
        #expect(entryIndex + 1 < lines.count && lines[entryIndex + 1].hasPrefix("CRON_TZ=") && lines[entryIndex + 1] != "CRON_TZ=Asia/Tokyo")
        let command = String(lines[entryIndex].dropFirst("30 2 * * * ".count))
        try FileManager.default.createDirectory(at: tree.url("state/logs"), withIntermediateDirectories: true)
        let other = tree.url("other-home")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        // cron: env -i, a minimal PATH, another HOME, sh -c, another directory.
        let cron = try CLI.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=\(other.path)", "SHELL=/bin/sh", "/bin/sh", "-c", command],
                               in: other, viaShell: true, clearEnvironment: true)
        #expect(cron.status == 0, Comment(rawValue: cron.stdout + cron.stderr + ((try? String(contentsOf: tree.url("state/logs").appendingPathComponent(FileManager.default.contentsOfDirectory(atPath: tree.url("state/logs").path).first ?? "x"), encoding: .utf8)) ?? "")))
        #expect(FileManager.default.fileExists(atPath: tree.url("var/buckets/nightly/somefile.png").path))
        let history = try CLI.run(["history", "--json", "workflows/nightly.yaml"], in: tree.root)
        let runs = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as! [[String: Any]]
        #expect(runs.count == 1)
        #expect(runs.first?["status"] as? String == "succeeded")
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent(".local").path), "the cron run wrote under the other HOME")
    }

    // MARK: A cancelled run against a deliberately slow S3 server

    static var rclone: URL { CLI.packageRoot.appendingPathComponent(".venv-s3/bin/rclone") }
    static var haveRclone: Bool { FileManager.default.isExecutableFile(atPath: rclone.path) }

    @Test func rcloneIsThereInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(Self.haveRclone, "CI must run the slow-server test: scripts/s3-test-servers start installs rclone into .venv-s3")
        }
    }

    /// `rclone serve s3 --bwlimit` on loopback; SIGINT in the middle of a
    /// 12-object upload: exit 130, and the report's transferred objects are
    /// exactly the objects on the server, nothing else is there, and the
    /// cleanup step (`if: cancelled()`) ran.
    @Test(.enabled(if: haveRclone, "no rclone in .venv-s3: run scripts/s3-test-servers start once"))
    func aCancelledRunsReportMatchesTheServer() throws {
        let tree = try ExampleTree()
        let serverRoot = tree.url("rclone-data")
        try FileManager.default.createDirectory(at: serverRoot.appendingPathComponent("slow-bucket"), withIntermediateDirectories: true)
        let port = try Self.freePort()
        let server = Process()
        server.executableURL = Self.rclone
        server.arguments = ["serve", "s3", "--addr", "127.0.0.1:\(port)", "--auth-key", "slowkey,slowsecret-0123456789", "--bwlimit", "2M", serverRoot.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        try Self.waitForPort(port)

        let files = tree.url("payload")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for i in 0..<12 {
            try Data(repeating: UInt8(i), count: 512 << 10).write(to: files.appendingPathComponent(String(format: "part%02d.bin", i)))
        }
        try Data("""
            version: 1
            name: slow-upload
            storage:
              slow: {provider: s3, endpoint: "http://127.0.0.1:\(port)", credentials: creds}
              disk: {provider: local, root: var/buckets}
            steps:
              creds: {action: load-credentials, env-prefix: "SLOW_", require: [key_id, application_key]}
              push: {action: upload, needs: [creds], from: payload/, to: "slow://slow-bucket/in/"}
              after: {action: list, needs: [push], at: "slow://slow-bucket/"}
              marker: {action: create-bucket, needs: [push], if: cancelled(), bucket: "disk://cancelled-marker"}
            """.utf8).write(to: tree.url("slow.yaml"))
        let (process, out, err) = try CLI.start(["run", "slow.yaml", "--transfers", "2", "--report", "report.json"], in: tree.root,
                                                environment: ["SLOW_KEY_ID": "slowkey", "SLOW_APPLICATION_KEY": "slowsecret-0123456789"])
        // Interrupt once a few objects have arrived on the server.
        let inbox = serverRoot.appendingPathComponent("slow-bucket/in")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path))?.filter { !$0.hasPrefix(".") }.count ?? 0) < 3 {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGINT)
        let result = CLI.finish(process, out, err)
        #expect(result.status == 130, Comment(rawValue: result.stdout + result.stderr))
        let report = try tree.report("report.json")
        ExampleWorkflowTests.checkSchema(report)
        #expect((report["run"] as? [String: Any])?["status"] as? String == "cancelled")
        let push = (report["steps"] as! [[String: Any]]).first { $0["id"] as? String == "push" }!
        #expect(push["status"] as? String == "cancelled")
        let records = push["transfers"] as? [[String: Any]] ?? []
        let transferred = Set(records.filter { $0["outcome"] as? String == "transferred" }.compactMap { ($0["target"] as? String)?.components(separatedBy: "/").last })
        let onServer = Set(try FileManager.default.contentsOfDirectory(atPath: inbox.path).filter { !$0.hasPrefix(".") })
        #expect(transferred.count >= 3)
        #expect(transferred.count < 12, "the run finished before it was interrupted")
        let sizes = onServer.sorted().map { name in "\(name)=\(((try? FileManager.default.attributesOfItem(atPath: inbox.appendingPathComponent(name).path))?[.size] as? Int) ?? -1)" }
        #expect(transferred == onServer, "report: \(transferred.sorted()), server: \(sizes), records: \(records.map { "\($0["target"] ?? "")=\($0["outcome"] ?? "")" })")
        // Objects in flight at the interrupt are "cancelled" unless the server
        // committed them anyway (then "transferred": the report says what is there).
        #expect(records.allSatisfy { ["transferred", "cancelled"].contains($0["outcome"] as? String ?? "") })
        #expect((report["totals"] as? [String: Any])?["objects"] as? Int == transferred.count)
        let marker = (report["steps"] as! [[String: Any]]).first { $0["id"] as? String == "marker" }!
        #expect(marker["status"] as? String == "succeeded")
        #expect(FileManager.default.fileExists(atPath: tree.url("var/buckets/cancelled-marker").path))
        #expect(!result.stdout.contains("slowsecret-0123456789") && !result.stderr.contains("slowsecret-0123456789"))
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitForPort(_ port: Int) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if connected == 0 { return }
            usleep(50_000)
        }
        Issue.record("the server on port \(port) did not come up")
    }
}
