public import YAML

/// One problem in a workflow file, at a position.
///
/// Printed as `path/to/file.yaml:LINE:COL: message`, the form editors and CI
/// log viewers turn into links.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var mark: YAMLMark
    public var message: String

    public init(file: String, mark: YAMLMark, message: String) {
        self.file = file
        self.mark = mark
        self.message = message
    }

    public var description: String { "\(file):\(mark.line):\(mark.column): \(message)" }
}

/// A workflow that cannot run, with every problem found in one pass.
public struct WorkflowError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.sorted { ($0.mark.line, $0.mark.column) < ($1.mark.line, $1.mark.column) }
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
