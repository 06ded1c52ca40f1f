/// The sections of an AWS shared credentials or config file.
///
/// Follows the AWS CLI's reading: `[default]` and `[name]` sections, and in
/// config files `[profile name]`; `key = value` lines with keys
/// case-insensitive; full-line `#` and `;` comments; indented lines under a
/// key with no value are nested settings (`s3 =` then `  max_concurrent_requests = 10`)
/// and are skipped. Values are not unquoted, as the CLI does not either.
enum AWSSharedFile {
    struct Section {
        var name: String
        var values: [String: Secret] = [:]
    }

    /// - Throws: ``CredentialError`` `.malformed` naming the line number
    ///   (never its content, which may be a secret).
    static func parse(_ text: String, path: String) throws(CredentialError) -> [Section] {
        var sections: [Section] = []
        var current: Int?
        var nested = false
        var number = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            number += 1
            let isIndented = rawLine.first == " " || rawLine.first == "\t"
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if isIndented && nested { continue }
            nested = false
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw malformed(path, number, "opens a section without closing it with ']'")
                }
                var name = line.dropFirst().dropLast().trimmingWhitespace()
                if name.hasPrefix("profile ") || name.hasPrefix("profile\t") { name = name.dropFirst("profile".count).trimmingWhitespace() }
                guard !name.isEmpty else { throw malformed(path, number, "is a section without a name") }
                if let index = sections.firstIndex(where: { $0.name == name }) {
                    current = index
                } else {
                    sections.append(Section(name: name))
                    current = sections.count - 1
                }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw malformed(path, number, "is neither a [section] nor key = value")
            }
            guard let section = current else {
                throw malformed(path, number, "comes before any [profile] section")
            }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            guard !key.isEmpty else { throw malformed(path, number, "has no key before '='") }
            if value.isEmpty { nested = true }
            sections[section].values[key] = Secret(value)
        }
        return sections
    }

    static func malformed(_ path: String, _ line: Int, _ problem: String) -> CredentialError {
        CredentialError(.malformed, "\(path) line \(line) \(problem). Configure your credentials: write [profile] sections of key = value lines.")
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
