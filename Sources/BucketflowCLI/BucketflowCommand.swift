public import ArgumentParser
import Foundation
import Executor
import Providers

/// `bucketflow`: runs declarative YAML workflows against object storage.
public struct BucketflowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bucketflow",
        abstract: "Run declarative YAML workflows against object storage.",
        discussion: """
            A workflow names its storages (local directories, S3-compatible services, \
            Backblaze B2's native API) and \
            its steps (load credentials, create buckets, upload, download, copy, list, \
            inspect, delete). Steps run as a dependency graph with concurrent transfers, \
            and every run writes a JSON report.

            Exit codes: 0 success, 1 a step failed, 2 invalid workflow or usage, \
            3 another run of the same workflow holds its lock, 130 interrupted; \
            `plan --detailed-exitcode`: 0 nothing to do, 1 error, 2 changes pending.
            """,
        version: BuildInfo.versionLine,
        subcommands: [RunCommand.self, PlanCommand.self, ValidateCommand.self, HistoryCommand.self, ScheduleCommand.self, CronCommand.self, ExportCommand.self, ReportCommand.self, GraphCommand.self, InitCommand.self, SchemaCommand.self]
    )

    public init() {}
}

public enum BucketflowVersion {
    public static let current = BucketflowInfo.version
}

/// The executable's entry point, so the executable itself stays one line.
public enum BucketflowMain {
    public static func main() async {
        await run(CommandLine.arguments.dropFirst().map { $0 })
        // Exit explicitly: with Dispatch signal sources in play, returning
        // from an async main can leave the process parked in Dispatch's
        // main-thread loop instead of exiting.
        exit(EXIT_SUCCESS)
    }

    /// Parses and runs, mapping argument-parser's usage errors (its exit code
    /// 64, EX_USAGE) to the documented 2, like invalid workflows. With
    /// `plan --detailed-exitcode`, a usage error is 1 (Terraform's "error").
    static func run(_ arguments: [String]) async {
        // The provider list every command validates and runs against.
        BuiltInProviders.install()
        do {
            var command = try BucketflowCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = BucketflowCommand.exitCode(for: error)
            if code == .validationFailure {
                // Print argument-parser's own message and usage, then exit 2.
                let message = BucketflowCommand.fullMessage(for: error)
                if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
                let detailed = arguments.first == "plan" && arguments.contains("--detailed-exitcode")
                exit(detailed ? 1 : 2)
            }
            BucketflowCommand.exit(withError: error)
        }
    }
}
