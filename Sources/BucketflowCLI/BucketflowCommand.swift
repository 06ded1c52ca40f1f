public import ArgumentParser
import Foundation

/// `bucketflow`: runs declarative YAML workflows against object storage.
public struct BucketflowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bucketflow",
        abstract: "Run declarative YAML workflows against object storage.",
        discussion: """
            A workflow names its storages (local directories, S3-compatible services) and \
            its steps (load credentials, create buckets, upload, download, copy, list, \
            inspect, delete). Steps run as a dependency graph with concurrent transfers, \
            and every run writes a JSON report.

            Exit codes: 0 success, 1 a step failed, 2 invalid workflow or usage, \
            3 another run of the same workflow holds its lock, 130 interrupted.
            """,
        version: BucketflowVersion.current,
        subcommands: [RunCommand.self, PlanCommand.self, ValidateCommand.self, HistoryCommand.self, ScheduleCommand.self, CronCommand.self, ExportCommand.self]
    )

    public init() {}
}

public enum BucketflowVersion {
    public static let current = "0.1.0"
}

/// The executable's entry point, so the executable itself stays one line.
public enum BucketflowMain {
    public static func main() async {
        await BucketflowCommand.main()
        // Exit explicitly: with Dispatch signal sources in play, returning
        // from an async main can leave the process parked in Dispatch's
        // main-thread loop instead of exiting.
        exit(EXIT_SUCCESS)
    }
}
