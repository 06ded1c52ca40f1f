import Foundation
import Testing

@Suite struct VersionAndCompletionTests {
    @Test func versionShowsVersionCommitAndSwift() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["--version"], in: tree.root)
        #expect(result.status == 0)
        let line = result.stdout.trimmingCharacters(in: .newlines)
        let match = try #require(try Regex(#"^([0-9]+\.[0-9]+\.[0-9]+) \(commit (unknown|[0-9a-f]{7,40}(-dirty)?), Swift ([0-9]+\.[0-9]+(\.[0-9]+)?( or later)?)\)$"#).wholeMatch(in: line), "\(line)")
        #expect(match.output[1].substring == "0.2.0" || match.output[1].substring?.isEmpty == false)
    }

    @Test(arguments: ["bash", "zsh", "fish"]) func completionScriptsKnowTheNewCommands(_ shell: String) throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["--generate-completion-script", shell], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        for command in ["run", "plan", "report", "graph", "init"] {
            #expect(result.stdout.contains(command), "\(shell) completions lack \(command)")
        }
        // The option values of the new commands complete too.
        #expect(result.stdout.contains("mermaid"))
        #expect(result.stdout.contains("always"))
    }
}
