import Foundation
import Testing

/// The S3 example workflows, run by the real binary against the local S3
/// servers of scripts/s3-test-servers, with the endpoint overridden by --var.
@Suite(.serialized) struct S3WorkflowTests {
    struct Server: Sendable, CustomStringConvertible {
        var name: String
        var endpoint: String
        var accessKey: String
        var secretKey: String
        var description: String { name }
    }

    static let servers: [Server] = {
        let env = ProcessInfo.processInfo.environment
        guard let names = env["BUCKETFLOW_TEST_S3_SERVERS"], !names.isEmpty else {
            print("S3 workflow tests SKIPPED: no S3 server configured; run `scripts/s3-test-servers start && eval \"$(scripts/s3-test-servers env)\"` (CI does).")
            return []
        }
        return names.split(separator: ",").compactMap { name in
            let prefix = "BUCKETFLOW_TEST_S3_\(name.uppercased())_"
            guard let endpoint = env[prefix + "ENDPOINT"], let access = env[prefix + "ACCESS_KEY"], let secret = env[prefix + "SECRET_KEY"] else { return nil }
            return Server(name: String(name), endpoint: endpoint, accessKey: access, secretKey: secret)
        }
    }()

    /// In CI the servers must be there: a missing server is a failure, not a silent pass.
    @Test func serversAreConfiguredInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(!Self.servers.isEmpty, "CI must run the S3 workflow tests: scripts/test starts the servers")
        }
    }

    static func bucketName() -> String { "bf-wf-\(UUID().uuidString.lowercased().prefix(12))" }

    @Test(.enabled(if: !servers.isEmpty, "no S3 server: run scripts/s3-test-servers start"), arguments: servers)
    func backblazeOriginWorkflowRunsAgainstALocalS3Server(server: Server) throws {
        let tree = try ExampleTree()
        try tree.prepareDataArea()
        // The B2-style credentials file holds this server's key pair.
        let credentials = tree.url("data/tester/BackblazeCredentials/credentials.json")
        try Data(#"{"key_id": "\#(server.accessKey)", "application_key": "\#(server.secretKey)"}"#.utf8).write(to: credentials)
        let bucket = Self.bucketName()
        let result = try CLI.run(["run", "workflows/backblaze-s3.yaml", "--data-dir", "data", "--report", "r.json",
                                  "--var", "endpoint=\(server.endpoint)", "--var", "region=us-east-1", "--var", "bucket=\(bucket)"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stdout + result.stderr))
        #expect(try Data(contentsOf: tree.url("var/out/remotefile.png")) == Data(contentsOf: tree.url("samples/data/somecollection/somefile.png")))
        let report = try String(contentsOf: tree.url("r.json"), encoding: .utf8)
        for text in [result.stdout, result.stderr, report] { #expect(!text.contains(server.secretKey)) }
        let json = try tree.report("r.json")
        ExampleWorkflowTests.checkSchema(json)
        let upload = (json["steps"] as! [[String: Any]]).first { $0["id"] as? String == "upload" }!
        let transfers = upload["transfers"] as! [[String: Any]]
        #expect((transfers.first?["checksums"] as? [String: String])?["md5"]?.count == 32)
    }

    @Test(.enabled(if: !servers.isEmpty, "no S3 server: run scripts/s3-test-servers start"), arguments: servers)
    func s3SampleIsIdempotentAndItsPlanWritesNothing(server: Server) throws {
        let tree = try ExampleTree()
        let credentials = tree.url("aws-credentials")
        try Data("[default]\naws_access_key_id = \(server.accessKey)\naws_secret_access_key = \(server.secretKey)\n".utf8).write(to: credentials)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials.path)
        let bucket = Self.bucketName()
        let vars = ["--var", "endpoint=\(server.endpoint)", "--var", "bucket=\(bucket)", "--var", "credentials-file=\(credentials.path)"]
        let first = try CLI.run(["run", "workflows/s3-sample.yaml", "--report", "r1.json"] + vars, in: tree.root)
        #expect(first.status == 0, Comment(rawValue: first.stdout + first.stderr))
        let second = try CLI.run(["run", "workflows/s3-sample.yaml", "--report", "r2.json"] + vars, in: tree.root)
        #expect(second.status == 0, Comment(rawValue: second.stdout + second.stderr))
        let upload = (try tree.report("r2.json")["steps"] as! [[String: Any]]).first { $0["id"] as? String == "upload" }!
        #expect((upload["counts"] as? [String: Any])?["transferred"] as? Int == 0)
        #expect((upload["counts"] as? [String: Any])?["unchanged"] as? Int == 4)

        // A plan reads the bucket but writes nothing to it.
        let listing = { () throws -> String in
            let result = try CLI.run(["plan", "--json", "workflows/s3-sample.yaml"] + vars, in: tree.root)
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            let step = (json["steps"] as! [[String: Any]]).first { $0["id"] as? String == "listing" }!
            return "\(step["plan"] ?? "")"
        }
        let before = try listing()
        let plan = try CLI.run(["plan", "workflows/s3-sample.yaml", "--detailed-exitcode"] + vars, in: tree.root)
        #expect(plan.status == 2, Comment(rawValue: plan.stdout + plan.stderr))
        #expect(plan.stdout.contains("4 unchanged"))
        #expect(try listing() == before)
        #expect(before.contains("4 objects"))
        for text in [first.stdout, first.stderr, second.stdout, plan.stdout, plan.stderr] { #expect(!text.contains(server.secretKey)) }
    }

    @Test(.enabled(if: !servers.isEmpty, "no S3 server: run scripts/s3-test-servers start"), arguments: servers)
    func aWrongSecretFailsTheStepWithGuidance(server: Server) throws {
        let tree = try ExampleTree()
        let credentials = tree.url("aws-credentials")
        let wrong = "wrong-secret-\(UUID().uuidString)"
        try Data("[default]\naws_access_key_id = \(server.accessKey)\naws_secret_access_key = \(wrong)\n".utf8).write(to: credentials)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials.path)
        let result = try CLI.run(["run", "workflows/s3-sample.yaml", "--report", "r.json", "--var", "endpoint=\(server.endpoint)",
                                  "--var", "bucket=\(Self.bucketName())", "--var", "credentials-file=\(credentials.path)"], in: tree.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("FAILED   bucket [create-bucket]"))
        // A plan with rejected credentials is an error, not "unknown" or "changes pending".
        let plan = try CLI.run(["plan", "--detailed-exitcode", "workflows/s3-sample.yaml", "--var", "endpoint=\(server.endpoint)",
                                "--var", "bucket=\(Self.bucketName())", "--var", "credentials-file=\(credentials.path)"], in: tree.root)
        #expect(plan.status == 1, Comment(rawValue: plan.stdout + plan.stderr))
        #expect(plan.stdout.contains("ERROR: "))
        #expect(!plan.stdout.contains(wrong) && !plan.stderr.contains(wrong))
        #expect(result.stderr.contains("SignatureDoesNotMatch") || result.stderr.contains("AccessDenied") || result.stderr.contains("InvalidAccessKeyId"), Comment(rawValue: result.stderr))
        let report = try String(contentsOf: tree.url("r.json"), encoding: .utf8)
        for text in [result.stdout, result.stderr, report] { #expect(!text.contains(wrong)) }
    }
}

/// A prefix download from a bucket other people write into: an object whose
/// key cannot be saved safely is refused and recorded, the rest arrive, the
/// step fails, and nothing is written outside the destination.
@Suite(.serialized) struct UnsafeKeyTests {
    static var moto: S3WorkflowTests.Server? { S3WorkflowTests.servers.first { $0.name == "moto" } }

    @Test(.enabled(if: moto != nil, "no moto server: run scripts/s3-test-servers start"))
    func anUnsafeKeyIsRefusedAndTheRestDownloads() throws {
        let server = try #require(Self.moto)
        let tree = try ExampleTree()
        let bucket = S3WorkflowTests.bucketName()
        // Keys written by someone else, straight through the S3 API.
        let script = """
            import boto3, sys
            s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name="us-east-1")
            s3.create_bucket(Bucket=sys.argv[4])
            for key in ["in/ok1.txt", "in/sub//empty-segment.txt", "in/ok2.txt"]:
                s3.put_object(Bucket=sys.argv[4], Key=key, Body=key.encode())
            print(sorted(o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[4])["Contents"]))
            """
        let put = try CLI.run(["/usr/bin/env", "python3", "-c", script, server.endpoint, server.accessKey, server.secretKey, bucket], in: tree.root,
                              environment: ["AWS_CA_BUNDLE": ""], viaShell: true)
        try #require(put.status == 0, Comment(rawValue: put.stderr))
        #expect(put.stdout.contains("in/sub//empty-segment.txt"), Comment(rawValue: put.stdout))
        let credentials = tree.url("aws-credentials")
        try Data("[default]\naws_access_key_id = \(server.accessKey)\naws_secret_access_key = \(server.secretKey)\n".utf8).write(to: credentials)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials.path)
        try Data("""
            version: 1
            name: hostile-names
            storage:
              remote: {provider: s3, endpoint: "\(server.endpoint)", credentials: creds}
            steps:
              creds: {action: load-credentials, from: aws-credentials}
              fetch: {action: download, needs: [creds], from: "remote://\(bucket)/in/", to: out/}
            """.utf8).write(to: tree.url("hostile.yaml"))
        let result = try CLI.run(["run", "hostile.yaml", "--report", "r.json"], in: tree.root)
        #expect(result.status == 1, Comment(rawValue: result.stdout + result.stderr))
        #expect(FileManager.default.fileExists(atPath: tree.url("out/ok1.txt").path))
        #expect(FileManager.default.fileExists(atPath: tree.url("out/ok2.txt").path))
        let fetch = (try tree.report("r.json")["steps"] as! [[String: Any]]).first { $0["id"] as? String == "fetch" }!
        let refused = (fetch["transfers"] as! [[String: Any]]).filter { $0["outcome"] as? String == "refused" }
        #expect(refused.count == 1)
        #expect((refused.first?["error"] as? [String: Any])?["code"] as? String == "UnsafeKey")
        #expect((refused.first?["source"] as? String)?.hasSuffix("in/sub//empty-segment.txt") == true)
        #expect((fetch["error"] as? [String: Any])?["code"] as? String == "UnsafeKey")
    }
}
