import ArgumentParser
import Workflow

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the workflow format, for editors.",
        discussion: """
            Generated from the same tables `bucketflow validate` uses, so it cannot drift. \
            Save it and point your editor at it, e.g. for the YAML language server put \
            `# yaml-language-server: $schema=./bucketflow.schema.json` on a workflow's first line \
            (see docs/workflow-format.md). The schema checks keys, types and ranges; \
            `bucketflow validate` also checks references, the step graph, cron expressions and bucket names.
            """)

    func run() throws {
        Console.out(WorkflowSchema.json())
    }
}
