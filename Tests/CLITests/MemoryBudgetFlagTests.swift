import Foundation
import Testing

/// `bucketflow run --memory-budget SIZE`: sizes as elsewhere, at least one
/// S3 part (5 MiB); anything else is a usage error.
@Suite(.serialized) struct MemoryBudgetFlagTests {
    @Test func aBudgetBelowOnePartIsAUsageError() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--memory-budget", "4MiB"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--memory-budget 4MiB is below 5 MiB, the size of one S3 part; give at least 5MiB"), Comment(rawValue: result.stderr))
        #expect(!FileManager.default.fileExists(atPath: tree.url("state").path))
    }

    @Test func aBudgetThatIsNotASizeIsAUsageError() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--memory-budget", "lots"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--memory-budget lots: expected a size such as 64MiB"), Comment(rawValue: result.stderr))
    }

    /// Sizes past the largest budget, up to ones no integer holds, are
    /// refused with the limit, not mistaken for text that is not a size.
    @Test(arguments: ["2TiB", "9223372036854775807", "99999999999999TiB", "1e300"])
    func aBudgetAboveTheLimitIsAUsageError(size: String) throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--memory-budget", size], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--memory-budget \(size) is above 1 TiB; give a size such as 64MiB"), Comment(rawValue: result.stderr))
        #expect(!FileManager.default.fileExists(atPath: tree.url("state").path))
    }

    @Test func aValidBudgetRuns() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--memory-budget", "5MiB"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
    }
}
