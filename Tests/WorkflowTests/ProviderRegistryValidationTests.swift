import Foundation
import Testing
import Providers
import Storage
@testable import Workflow

/// Storage blocks are validated from the providers' own descriptions: a
/// provider the loader has never heard of plugs in through the registry.
struct ProviderRegistryValidationTests {
    /// A provider that exists only in this test.
    struct FakeProvider: StorageProvider {
        let name = "fake"
        let summary = "a test provider"
        let settings: [ProviderSetting] = [
            ProviderSetting("zone", .choice(["north", "south"]), required: true, doc: "where the fake lives"),
            ProviderSetting("chunk-size", .bytes(1024...4096), doc: "chunk size"),
            ProviderSetting("mirror", .url, example: "https://fake.example", doc: "mirror URL"),
        ]
        let requiresCredentials = false
        var bucketNaming: BucketNamingRule { BucketNamingRule(summary: "fake buckets start with f") { $0.hasPrefix("f") ? nil : "it does not start with f" } }
        let capabilities = ProviderCapabilities(multipart: false, serverSideCopy: false, rangedReads: false, skipUnchangedChecksums: [], keepsUserMetadata: false, folderMarkers: false)
        func make(settings: ProviderSettings, credentials: ProviderCredentials?, context: ProviderContext) throws -> any ObjectStorage {
            throw StorageError(.notSupported, "fake")
        }
    }

    static let withFake = StorageRegistry(BuiltInProviders.registry.providers + [FakeProvider()])

    func diagnostics(_ source: String, registry: StorageRegistry) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: source, file: "wf.yaml", directory: URL(fileURLWithPath: "/tmp"), registry: registry)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    static let fakeWorkflow = """
        version: 1
        name: t
        storage:
          f:
            provider: fake
            zone: nort
            chunk-size: 1MiB
            mirror: ftp://x
            chunk-sise: 2048
        steps:
          a: { action: list, at: "f://gbucket/" }
        """

    @Test func aRegisteredProvidersSettingsAreCheckedFromItsDescription() {
        #expect(diagnostics(Self.fakeWorkflow, registry: Self.withFake) == [
            "wf.yaml:6:11: unknown zone \"nort\" for storage \"f\"; use north or south (did you mean \"north\"?)",
            "wf.yaml:7:17: `chunk-size` of storage \"f\" must be a whole number of bytes from 1 KiB to 4 KiB, found \"1MiB\"",
            "wf.yaml:8:13: `mirror` of storage \"f\" must be an http(s) URL such as https://fake.example: it does not start with https:// or http://, found \"ftp://x\"",
            "wf.yaml:9:5: unknown key \"chunk-sise\" in storage \"f\" (provider fake) (did you mean \"chunk-size\"?)",
            "wf.yaml:11:26: invalid bucket name \"gbucket\" in `at` of step \"a\" for storage \"f\" (provider fake): it does not start with f; fake buckets start with f",
        ])
    }

    @Test func anUnregisteredProviderIsUnknownWithSuggestions() {
        let result = diagnostics(Self.fakeWorkflow.replacingOccurrences(of: "provider: fake", with: "provider: b3"), registry: BuiltInProviders.registry)
        #expect(result == [
            "wf.yaml:5:15: unknown provider \"b3\" for storage \"f\"; use local, s3 or b2 (did you mean \"s3\"?)",
            "wf.yaml:11:26: unknown storage \"f\" in `at` of step \"a\"; declare it under `storage:`",
        ])
    }

    @Test func requiredKeysComeFromTheDescription() {
        let source = Self.fakeWorkflow.replacingOccurrences(of: "    zone: nort\n", with: "")
        #expect(diagnostics(source, registry: Self.withFake).first == "wf.yaml:4:3: storage \"f\" (provider fake) is missing required key \"zone\" (where the fake lives)")
    }

    @Test func b2SettingsAreValidated() {
        let source = """
            version: 1
            name: t
            storage:
              bb:
                provider: b2
                credentials: creds
                part-sise: 5MB
                part-concurrency: 0
            steps:
              creds: { action: load-credentials, from: "/tmp/c.json" }
            """
        #expect(diagnostics(source, registry: BuiltInProviders.registry) == [
            "wf.yaml:7:5: unknown key \"part-sise\" in storage \"bb\" (provider b2) (did you mean \"part-size\"?)",
            "wf.yaml:8:23: `part-concurrency` of storage \"bb\" must be a whole number from 1 to 64, found 0",
        ])
    }
}
