import Foundation
import Testing

/// `validate`, `plan` and `run` stay linear in the number of steps: 20,000
/// create-folder steps (chains of ten, each step also needing the one ten
/// before, half of them naming an earlier step's output) in a debug build.
/// The quadratic engine took 5+ minutes to plan here; the limit is generous
/// so a loaded machine does not make the test flaky. The steps share 100
/// folders: creating (and removing) 20,000 directories costs a busy disk
/// more than the engine's work, and is not what this measures.
@Suite(.serialized) struct ManyStepsTests {
    static let count = 20_000

    /// The issue's benchmark shape, with every other step using
    /// `${{ endsWith(steps.PREVIOUS.outputs.key, '/') }}` (a folder `true/`)
    /// so references and evaluation contexts are exercised too.
    static func workflow(root: URL) -> String {
        var text = "version: 1\nname: many-steps\nstorage:\n  disk:\n    provider: local\n    root: \(root.path)\nsteps:\n"
        text.reserveCapacity(count * 110)
        for i in 0..<count {
            var needs: [String] = []
            if i % 10 != 0 { needs.append("s\(i - 1)") }
            if i >= 10 { needs.append("s\(i - 10)") }
            text += "  s\(i):\n    action: create-folder\n"
            if i % 2 == 1 {
                text += "    at: disk://bench/d\(i % 100)/${{ endsWith(steps.s\(i - 1).outputs.key, '/') }}\n"
            } else {
                text += "    at: disk://bench/d\(i % 100)/\n"
            }
            if !needs.isEmpty { text += "    needs: [\(needs.joined(separator: ", "))]\n" }
        }
        return text
    }

    final class Tree {
        let root: URL
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-many-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("buckets/bench"), withIntermediateDirectories: true)
            try Data(ManyStepsTests.workflow(root: root.appendingPathComponent("buckets")).utf8).write(to: root.appendingPathComponent("many.yaml"))
        }
        deinit { try? FileManager.default.removeItem(at: root) }
    }

    @Test(.timeLimit(.minutes(2))) func validateIsLinear() async throws {
        let tree = try Tree()
        let result = try await CLI.runOffPool(["validate", "many.yaml"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "many.yaml: valid (20000 steps)\n")
    }

    @Test(.timeLimit(.minutes(2))) func planIsLinear() async throws {
        let tree = try Tree()
        let result = try await CLI.runOffPool(["plan", "many.yaml"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wave 1:\n  s0 [create-folder]\n    create folder disk://bench/d0/\n"))
        #expect(result.stdout.contains("wave 2009:\n  s19999 [create-folder] (after s19998, s19989)\n    folder disk://bench/d99/true/ exists already (nothing to do)\n"))
        #expect(result.stdout.hasSuffix("Plan: 0 buckets to create, 100 folders to create, 0 objects (0 B) to upload, 19900 unchanged, 0 to delete\n"))
    }

    @Test(.timeLimit(.minutes(2))) func runIsLinear() async throws {
        let tree = try Tree()
        let result = try await CLI.runOffPool(["run", "many.yaml"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Run succeeded in "))
        #expect(result.stdout.contains(": 20000 succeeded, 0 failed, 0 skipped; 20000 objects transferred (0 B)."))
        let bench = tree.root.appendingPathComponent("buckets/bench")
        #expect(FileManager.default.fileExists(atPath: bench.appendingPathComponent("d99/true").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: bench.path).count == 100)
    }
}
