import Foundation
import Testing

/// workflows/backblaze-native.yaml, the origin script on B2's native API,
/// run by the binary against the B2 test server (scripts/b2-test-server).
@Suite(.serialized) struct B2NativeWorkflowTests {
    struct Server: Sendable {
        var endpoint: String
        var keyID: String
        var applicationKey: String
    }

    static let server: Server? = {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["BUCKETFLOW_TEST_B2_ENDPOINT"], !endpoint.isEmpty,
              let keyID = env["BUCKETFLOW_TEST_B2_KEY_ID"], let key = env["BUCKETFLOW_TEST_B2_APPLICATION_KEY"] else {
            print("B2 native workflow tests SKIPPED: run `scripts/b2-test-server start && eval \"$(scripts/b2-test-server env)\"` (CI does).")
            return nil
        }
        return Server(endpoint: endpoint, keyID: keyID, applicationKey: key)
    }()

    /// In CI the server must be there: a missing server is a failure, not a silent pass.
    @Test func serverIsConfiguredInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(Self.server != nil, "CI must run the B2 native workflow test: scripts/test starts scripts/b2-test-server")
        }
    }

    @Test(.enabled(if: server != nil, "no B2 test server: run scripts/b2-test-server start"))
    func originWorkflowRunsOnB2sNativeAPI() throws {
        let server = try #require(Self.server)
        let tree = try ExampleTree()
        try tree.prepareDataArea()
        let credentials = tree.url("data/tester/BackblazeCredentials/credentials.json")
        try Data(#"{"key_id": "\#(server.keyID)", "application_key": "\#(server.applicationKey)"}"#.utf8).write(to: credentials)
        let bucket = "bf-native-\(UUID().uuidString.lowercased().prefix(12))"
        let result = try CLI.run(["run", "workflows/backblaze-native.yaml", "--data-dir", "data", "--report", "r.json",
                                  "--var", "endpoint=\(server.endpoint)", "--var", "bucket=\(bucket)"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stdout + result.stderr))
        #expect(try Data(contentsOf: tree.url("var/out/remotefile.png")) == Data(contentsOf: tree.url("samples/data/somecollection/somefile.png")))

        let reportText = try String(contentsOf: tree.url("r.json"), encoding: .utf8)
        for text in [result.stdout, result.stderr, reportText] { #expect(!text.contains(server.applicationKey)) }
        let report = try tree.report("r.json")
        ExampleWorkflowTests.checkSchema(report)
        #expect((report["run"] as? [String: Any])?["status"] as? String == "succeeded")
        let steps = Dictionary(uniqueKeysWithValues: (report["steps"] as! [[String: Any]]).map { ($0["id"] as! String, $0) })
        for id in ["creds", "bucket", "upload", "check", "fetch"] {
            #expect(steps[id]?["status"] as? String == "succeeded", "step \(id)")
        }
        let upload = try #require(steps["upload"])
        let transfers = upload["transfers"] as? [[String: Any]] ?? []
        #expect(transfers.count == 1)
        #expect(transfers.first?["outcome"] as? String == "transferred")
        let png = try Data(contentsOf: tree.url("samples/data/somecollection/somefile.png"))
        #expect(transfers.first?["bytes"] as? Int == png.count)
        // The url output is B2's friendly download URL, as the origin script's new_file.url.
        let outputs = upload["outputs"] as? [String: Any] ?? [:]
        let url = try #require(outputs["url"] as? String)
        #expect(url.hasPrefix("http") && url.hasSuffix("/file/\(bucket)/remotefolder/remotefile.png"), Comment(rawValue: url))
        #expect(outputs["location"] as? String == "b2://\(bucket)/remotefolder/remotefile.png")
        // And it serves the bytes (the test bucket is private: the front wants the account's token,
        // so only check that the URL points at the server bucketflow was configured with).
        #expect(url.hasPrefix(server.endpoint) || url.contains("127.0.0.1"), Comment(rawValue: url))
    }
}
