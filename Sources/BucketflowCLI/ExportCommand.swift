import ArgumentParser
import Export
import Foundation
import Workflow

/// `bucketflow export argo|cronjob FILE`: the workflow as Kubernetes resources.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print a workflow as Argo Workflows or Kubernetes CronJob resources.",
        discussion: """
            Prints one multi-document YAML stream to stdout, starting with a ConfigMap that \
            holds the workflow file (mounted at /workflows/ in every pod). Credentials come \
            from Kubernetes Secrets named with --secret (environment variables) or \
            --secret-file (files where load-credentials reads them); their values are never \
            written out. docs/argo.md describes what translates and what does not.
            """,
        subcommands: [ExportArgoCommand.self, ExportCronJobCommand.self])
}

/// Options both exports share.
struct ExportCommonOptions: ParsableArguments {
    @Argument(help: "The workflow file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(help: "Container image with bucketflow on its PATH.")
    var image: String = "bucketflow:latest"

    @Option(help: "Namespace of every resource (default: none, so kubectl -n decides).")
    var namespace: String?

    @Option(name: .customLong("secret"), help: ArgumentHelp("A Secret whose keys become environment variables (envFrom; repeatable).", valueName: "name"))
    var secrets: [String] = []

    @Option(name: .customLong("secret-file"), help: ArgumentHelp("Mount a Secret key as a file, e.g. b2-creds=data://.my/BackblazeCredentials/credentials.json; KEY defaults to the file name (repeatable).", valueName: "secret[/key]=path"))
    var secretFiles: [String] = []

    @Option(name: .customLong("volume"), help: ArgumentHelp("Mount a PersistentVolumeClaim (repeatable).", valueName: "claim:path"))
    var volumes: [String] = []

    @Option(name: .customLong("service-account"), help: "ServiceAccount the pods run as.")
    var serviceAccount: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Root of the data area (data://) inside the pods.", valueName: "dir"))
    var dataDirectory: String = "/data"

    @Option(help: "Base name of the resources (default: from the workflow's name:).")
    var name: String?

    /// The workflow and its text, or diagnostics on stderr and exit 2.
    func load() throws -> (Workflow, String) {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(path: file) } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
        // The loader has just read the same bytes as UTF-8.
        guard let data = FileManager.default.contents(atPath: file), let source = String(data: data, encoding: .utf8) else {
            Console.error("\(file):1:1: cannot read the workflow file")
            throw ExitCodes.invalid
        }
        return (workflow, source)
    }

    func options() throws -> ExportOptions {
        var options = ExportOptions()
        options.image = image
        options.namespace = namespace
        options.envSecrets = secrets
        options.serviceAccount = serviceAccount
        options.dataDirectory = dataDirectory
        options.name = name
        do {
            options.secretFiles = try secretFiles.map { text throws(ExportError) in try SecretFile(parsing: text, dataDirectory: dataDirectory) }
            options.volumes = try volumes.map { text throws(ExportError) in try VolumeClaim(parsing: text) }
        } catch {
            Console.error("bucketflow export: \(error.message)")
            throw ExitCodes.invalid
        }
        return options
    }

    func write(_ export: () throws(ExportError) -> String) throws {
        let text: String
        do { text = try export() } catch {
            Console.error("bucketflow export: \(error.message)")
            throw ExitCodes.invalid
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

struct ExportArgoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "argo",
        abstract: "Print an Argo CronWorkflow (file with schedule:) or Workflow running one pod per step.",
        discussion: """
            Each task runs `bucketflow run /workflows/FILE --only STEP --state STATE \
            --run-id {{workflow.name}}`; the steps share outcomes and outputs through STATE.
            """)

    @OptionGroup var common: ExportCommonOptions

    @Option(help: ArgumentHelp("Where the steps of a run share their outcomes: an absolute path on a shared volume (see --state-claim) or a storage location such as s3store://bucket/runs/.", valueName: "location"))
    var state: String = "/state"

    @Option(name: .customLong("state-claim"), help: ArgumentHelp("PersistentVolumeClaim mounted at --state when it is a path (ReadWriteMany when pods land on several nodes).", valueName: "claim"))
    var stateClaim: String = "bucketflow-state"

    @Option(name: .customLong("shards"), help: ArgumentHelp("Split a step into N tasks by object key, for steps whose file has no shards: (repeatable).", valueName: "step=n"))
    var shards: [String] = []

    @Option(help: ArgumentHelp("Pods at once when the file has no concurrency: (Argo parallelism; default: Argo's own limits).", valueName: "n"))
    var parallelism: Int?

    @Option(name: .customLong("deadline-grace"), help: ArgumentHelp("Seconds added to a step's timeout: for the pod's activeDeadlineSeconds.", valueName: "seconds"))
    var deadlineGrace: Int = 60

    func run() throws {
        var options = try common.options()
        options.state = state
        options.stateClaim = stateClaim
        options.deadlineGrace = deadlineGrace
        options.parallelism = parallelism
        for entry in shards {
            guard let equals = entry.firstIndex(of: "="), let count = Int(entry[entry.index(after: equals)...]) else {
                Console.error("bucketflow export: --shards \(entry): expected STEP=N")
                throw ExitCodes.invalid
            }
            options.shards[String(entry[..<equals])] = count
        }
        let (workflow, source) = try common.load()
        let file = common.file
        try common.write { () throws(ExportError) in
            try ArgoExporter.export(workflow, source: source, fileName: file, options: options)
        }
    }
}

struct ExportCronJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cronjob",
        abstract: "Print Kubernetes CronJobs running the whole workflow in one pod at its schedule: times.")

    @OptionGroup var common: ExportCommonOptions

    func run() throws {
        let options = try common.options()
        let (workflow, source) = try common.load()
        let file = common.file
        try common.write { () throws(ExportError) in
            try CronJobExporter.export(workflow, source: source, fileName: file, options: options)
        }
    }
}
