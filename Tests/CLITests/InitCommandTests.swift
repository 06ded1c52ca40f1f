import Foundation
import Testing

@Suite struct InitCommandTests {
    static let credentials = ["local": nil, "s3": "data/tester/S3Credentials/credentials.json", "b2": "data/tester/BackblazeCredentials/credentials.json"]

    func mode(_ url: URL) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1
    }

    @Test(arguments: ["local", "s3", "b2"]) func writesAStarterThatValidates(_ kind: String) throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["init", kind, "starter"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Wrote starter/workflow.yaml (\(kind) starter)"))
        let workflow = try String(contentsOf: tree.url("starter/workflow.yaml"), encoding: .utf8)
        #expect(workflow.hasPrefix("# "))
        #expect(workflow.components(separatedBy: "\n#").count > 5, "the starter should explain itself")
        #expect(FileManager.default.fileExists(atPath: tree.url("starter/exports/hello.csv").path))

        if let path = Self.credentials[kind]! {
            let url = tree.url(path)
            #expect(try mode(url) == 0o600)
            #expect(try mode(url.deletingLastPathComponent()) == 0o700)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: String]
            #expect(json?.keys.sorted() == (kind == "s3" ? ["aws_access_key_id", "aws_secret_access_key"] : ["application_key", "key_id"]))
            #expect(result.stdout.contains("Wrote \(url.path) (mode 600)"))
            #expect(workflow.contains("from: data://.my/" + path.split(separator: "/").dropFirst(2).joined(separator: "/")))
        }

        let validate = try CLI.run(["validate", "starter/workflow.yaml"], in: tree.root)
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.hasPrefix("starter/workflow.yaml: valid ("))
        let graph = try CLI.run(["graph", "starter/workflow.yaml"], in: tree.root)
        #expect(graph.status == 0)
        if kind != "local" { #expect(graph.stdout.contains("creds -> make-bucket (credentials)")) }
    }

    @Test func localStarterRunsOnAFreshDirectory() throws {
        let tree = try ExampleTree()
        #expect(try CLI.run(["init"], in: tree.root).status == 0)
        let run = try CLI.run(["run", "workflow.yaml"], in: tree.root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("Run succeeded"))
        let date = String(run.stdout.split(separator: "\n").first { $0.contains("ok       listing") } ?? "")
        #expect(!date.isEmpty)
        let buckets = try FileManager.default.contentsOfDirectory(atPath: tree.url("var/buckets/exports/daily").path)
        #expect(buckets.count == 1)
    }

    @Test func refusesToOverwriteAndWritesNothing() throws {
        let tree = try ExampleTree()
        #expect(try CLI.run(["init", "s3", "starter"], in: tree.root).status == 0)
        let workflow = tree.url("starter/workflow.yaml")
        try Data("mine\n".utf8).write(to: workflow)
        let credentials = tree.url("data/tester/S3Credentials/credentials.json")
        try Data("{\"aws_access_key_id\": \"real\"}".utf8).write(to: credentials)
        try FileManager.default.removeItem(at: tree.url("starter/exports/hello.csv"))

        let again = try CLI.run(["init", "s3", "starter"], in: tree.root)
        #expect(again.status == 2)
        #expect(again.stdout.isEmpty)
        #expect(again.stderr.hasPrefix("bucketflow: init: not overwriting \(workflow.path), \(credentials.path); remove them"))
        #expect(try String(contentsOf: workflow, encoding: .utf8) == "mine\n")
        #expect(try String(contentsOf: credentials, encoding: .utf8) == "{\"aws_access_key_id\": \"real\"}")
        // Nothing at all was written, not even the missing sample file.
        #expect(!FileManager.default.fileExists(atPath: tree.url("starter/exports/hello.csv").path))

        let b2 = try CLI.run(["init", "b2", "starter"], in: tree.root)
        #expect(b2.status == 2)
        #expect(b2.stderr.contains("not overwriting \(workflow.path); remove it"))
        #expect(!FileManager.default.fileExists(atPath: tree.url("data/tester/BackblazeCredentials/credentials.json").path))
    }

    @Test func unknownKindIsAUsageError() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["init", "ftp"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("ftp"))
    }
}

/// The s3 and b2 starters, keys filled in, against the local S3 servers
/// (scripts/s3-test-servers; skipped without them, as the other S3 workflow tests).
@Suite(.serialized) struct InitStarterS3Tests {
    @Test(.enabled(if: B2NativeWorkflowTests.server != nil, "no B2 test server: run scripts/b2-test-server start"))
    func theB2StarterRunsOnB2sNativeAPI() throws {
        let server = try #require(B2NativeWorkflowTests.server)
        let tree = try ExampleTree()
        #expect(try CLI.run(["init", "b2", "starter"], in: tree.root).status == 0)
        let credentials = tree.url("data/tester/BackblazeCredentials/credentials.json")
        let text = try String(contentsOf: credentials, encoding: .utf8)
            .replacingOccurrences(of: "REPLACE-WITH-YOUR-KEY-ID", with: server.keyID)
            .replacingOccurrences(of: "REPLACE-WITH-YOUR-APPLICATION-KEY", with: server.applicationKey)
        try Data(text.utf8).write(to: credentials)
        let bucket = "bf-init-\(UUID().uuidString.lowercased().prefix(12))"
        let run = try CLI.run(["run", "starter/workflow.yaml", "--var", "endpoint=\(server.endpoint)", "--var", "bucket=\(bucket)"], in: tree.root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ok       check [inspect]"))
        #expect(!run.stdout.contains(server.applicationKey) && !run.stderr.contains(server.applicationKey))
    }

    @Test(.enabled(if: !S3WorkflowTests.servers.isEmpty, "no S3 server: run scripts/s3-test-servers start"), arguments: S3WorkflowTests.servers)
    func theS3StarterRunsWithItsKeysFilledIn(server: S3WorkflowTests.Server) throws {
        for kind in ["s3"] {
            let tree = try ExampleTree()
            let init_ = try CLI.run(["init", kind, "starter"], in: tree.root)
            #expect(init_.status == 0, "\(init_.stderr)")
            let credentials = tree.url(kind == "s3" ? "data/tester/S3Credentials/credentials.json" : "data/tester/BackblazeCredentials/credentials.json")
            var text = try String(contentsOf: credentials, encoding: .utf8)
            text = text.replacingOccurrences(of: "REPLACE-WITH-YOUR-ACCESS-KEY-ID", with: server.accessKey)
                .replacingOccurrences(of: "REPLACE-WITH-YOUR-SECRET-ACCESS-KEY", with: server.secretKey)
                .replacingOccurrences(of: "REPLACE-WITH-YOUR-KEY-ID", with: server.accessKey)
                .replacingOccurrences(of: "REPLACE-WITH-YOUR-APPLICATION-KEY", with: server.secretKey)
            try Data(text.utf8).write(to: credentials)
            let bucket = S3WorkflowTests.bucketName()
            let run = try CLI.run(["run", "starter/workflow.yaml", "--var", "endpoint=\(server.endpoint)", "--var", "region=us-east-1", "--var", "bucket=\(bucket)"], in: tree.root)
            #expect(run.status == 0, "\(kind): \(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("ok       check [inspect]"))
            #expect(!run.stdout.contains(server.secretKey) && !run.stderr.contains(server.secretKey))
        }
    }
}
