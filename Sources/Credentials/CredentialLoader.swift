public import Foundation

/// Reads credentials from JSON files, AWS shared credentials files or the
/// environment.
public enum CredentialLoader {
    static let example = #"{"key_id": "...", "application_key": "..."}"#

    /// A flat JSON object of strings (numbers and booleans become strings),
    /// as in `{"key_id": "...", "application_key": "..."}`.
    public static func loadJSON(at url: URL, require: [String]) throws(CredentialError) -> CredentialSet {
        let data = try readPrivateFile(url)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CredentialError(.malformed, "\(url.path) is not valid JSON\(jsonPosition(error)); it must look like \(example). Configure your credentials.")
        }
        guard let dictionary = object as? [String: Any] else {
            throw CredentialError(.malformed, "\(url.path) must hold a JSON object like \(example), not a list or a single value. Configure your credentials.")
        }
        var values: [String: Secret] = [:]
        for (key, value) in dictionary {
            switch value {
            case let s as String: values[key] = Secret(s)
            case let n as NSNumber: values[key] = Secret(n.stringValue)
            case is NSNull: continue
            default:
                throw CredentialError(.malformed, "\(url.path): the value of \"\(key)\" must be a string, not a nested object or list. Configure your credentials.")
            }
        }
        return try check(CredentialSet(source: url.path, values: values), require: require)
    }

    /// An AWS shared credentials (or config) file: `[profile]` sections of
    /// `key = value` lines; keys are lower-cased.
    public static func loadAWSShared(at url: URL, profile: String, require: [String]) throws(CredentialError) -> CredentialSet {
        let data = try readPrivateFile(url)
        let text = String(decoding: data, as: UTF8.self)
        var sections: [String: [String: Secret]] = [:]
        var order: [String] = []
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces) }
                current = name
                if sections[name] == nil { sections[name] = [:]; order.append(name) }
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[section]?[key] = Secret(value)
        }
        guard let values = sections[profile] else {
            let available = order.isEmpty ? "none" : order.joined(separator: ", ")
            throw CredentialError(.profileNotFound, "\(url.path) has no profile \"\(profile)\" (profiles: \(available)). Configure your credentials or set `profile:`.")
        }
        return try check(CredentialSet(source: "\(url.path) [\(profile)]", values: values), require: require)
    }

    /// Every variable starting with `prefix`; `B2_KEY_ID` with prefix `B2_`
    /// becomes `key_id`.
    public static func loadEnvironment(prefix: String, environment: [String: String], require: [String]) throws(CredentialError) -> CredentialSet {
        var values: [String: Secret] = [:]
        for (name, value) in environment where name.hasPrefix(prefix) && name.count > prefix.count {
            values[String(name.dropFirst(prefix.count)).lowercased()] = Secret(value)
        }
        let missing = require.filter { values[$0] == nil }.sorted()
        if !missing.isEmpty {
            let names = missing.map { prefix + $0.uppercased() }.joined(separator: ", ")
            throw CredentialError(.environmentMissing, "environment variables missing: \(names). Configure your credentials: export them before the run.")
        }
        return CredentialSet(source: "environment (\(prefix)*)", values: values)
    }

    static func check(_ set: CredentialSet, require: [String]) throws(CredentialError) -> CredentialSet {
        let missing = require.filter { ($0 as String).isEmpty == false && (set[$0]?.revealed.isEmpty ?? true) }.sorted()
        if !missing.isEmpty {
            throw CredentialError(.missingKeys, "\(set.source) is missing required keys: \(missing.joined(separator: ", ")). Configure your credentials: the file needs \(require.sorted().joined(separator: ", ")).")
        }
        return set
    }

    /// Reads a credentials file, refusing one that group or others may
    /// access (as ssh refuses a loose private key).
    static func readPrivateFile(_ url: URL) throws(CredentialError) -> Data {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            if errno == ENOENT {
                throw CredentialError(.notFound, "credentials file \(url.path) not found; create it with \(example) and chmod 600 \(url.path). Configure your credentials.")
            }
            throw CredentialError(.unreadable, "cannot read credentials file \(url.path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CredentialError(.unreadable, "credentials file \(url.path) is not a regular file")
        }
        let permissions = info.st_mode & 0o777
        if permissions & 0o077 != 0 {
            throw CredentialError(.tooOpen, "permissions \(String(format: "%04o", permissions)) for '\(url.path)' are too open: credentials must not be readable by group or others; run chmod 600 \(url.path)")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw CredentialError(.unreadable, "cannot read credentials file \(url.path): \(error.localizedDescription)")
        }
    }

    /// "(at character N)" from a JSONSerialization error, without content.
    static func jsonPosition(_ error: any Error) -> String {
        let info = (error as NSError).userInfo
        if let index = info["NSJSONSerializationErrorIndex"] as? Int { return " (at character \(index))" }
        return ""
    }
}
