import ArgumentParser
import Workflow
import Executor

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workflow files without running them.",
        discussion: "Prints every problem as FILE:LINE:COL: message and exits 2 if any file is invalid.")

    @Argument(help: "Workflow files.", completion: .file(extensions: ["yaml", "yml"]))
    var files: [String]

    func run() throws {
        var invalid = false
        for file in files {
            do {
                let workflow = try WorkflowLoader.load(path: file)
                Console.out("\(file): valid (\(plural(workflow.steps.count, "step")))")
            } catch {
                Console.error(error.description)
                invalid = true
            }
        }
        if invalid { throw ExitCodes.invalid }
    }
}
