public import Foundation

/// Reads credentials from JSON files, AWS shared credentials files or the
/// environment, and checks that the required keys are there.
///
/// Files must be private to their owner (`chmod 600`), as ssh insists for a
/// private key: a credentials file others can read is refused before it is
/// read. Errors say what to do and never contain a value.
public enum CredentialLoader {
    /// A flat JSON object, as in `{"key_id": "...", "application_key": "..."}`.
    ///
    /// String values are taken as they are, numbers and booleans become
    /// strings, `null` counts as absent; nested objects and lists are refused.
    ///
    /// - Parameters:
    ///   - url: The file.
    ///   - require: Keys that must be present and non-empty.
    /// - Throws: ``CredentialError``.
    public static func loadJSON(at url: URL, require: [String]) throws(CredentialError) -> CredentialSet {
        let path = url.path
        let data = try readPrivateFile(path, example: jsonExample(require))
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw CredentialError(
                .malformed,
                "\(path) is not valid JSON\(jsonPosition(error, in: data)). Configure your credentials: the file must hold an object like \(jsonExample(require)).")
        }
        guard let dictionary = object as? [String: Any] else {
            throw CredentialError(
                .notAnObject,
                "\(path) holds \(jsonKind(object)), not an object of strings. Configure your credentials: the file must hold an object like \(jsonExample(require)).")
        }
        var values: [String: Secret] = [:]
        for (key, value) in dictionary {
            switch value {
            case let text as String:
                values[key] = Secret(text)
            case is NSNull:
                continue
            case let number as NSNumber:
                values[key] = Secret(isBoolean(number) ? (number.boolValue ? "true" : "false") : number.stringValue)
            default:
                throw CredentialError(
                    .notAnObject,
                    "\(path): the value of \"\(key)\" is \(jsonKind(value)); credential values must be strings. Configure your credentials.")
            }
        }
        return try check(CredentialSet(source: path, values: values), require: require, in: path)
    }

    /// An AWS shared credentials or config file: `[name]` (or config-style
    /// `[profile name]`) sections of `key = value` lines, `#` and `;`
    /// comments. Keys are lower-cased (`aws_access_key_id`,
    /// `aws_secret_access_key`, `aws_session_token`).
    ///
    /// - Throws: ``CredentialError``, `.profileNotFound` listing the profiles
    ///   the file has (their names are not secret).
    public static func loadAWSShared(at url: URL, profile: String, require: [String]) throws(CredentialError) -> CredentialSet {
        let path = url.path
        let data = try readPrivateFile(path, example: awsExample(profile: profile, require: require))
        let sections = try AWSSharedFile.parse(String(decoding: data, as: UTF8.self), path: path)
        guard let values = sections.first(where: { $0.name == profile })?.values else {
            let names = sections.map(\.name)
            let available = names.isEmpty ? "the file has no profiles" : "profiles: " + names.joined(separator: ", ")
            throw CredentialError(.profileNotFound, "\(path) has no profile \"\(profile)\" (\(available)). Configure your credentials or set `profile:`.")
        }
        return try check(CredentialSet(source: path, values: values), require: require, in: "\(path) profile \"\(profile)\"")
    }

    /// Every variable whose name starts with `prefix`, keyed by the rest of
    /// the name in lower case: `B2_KEY_ID` with prefix `B2_` is `key_id`.
    ///
    /// With an empty prefix only the required variables are taken
    /// (`aws_access_key_id` is `$AWS_ACCESS_KEY_ID`), not the whole
    /// environment, which would make every variable a secret.
    ///
    /// - Throws: ``CredentialError`` `.environmentMissing` naming the unset
    ///   or empty variables.
    public static func loadEnvironment(prefix: String, environment: [String: String], require: [String]) throws(CredentialError) -> CredentialSet {
        var values: [String: Secret] = [:]
        if prefix.isEmpty {
            for key in require {
                if let value = environment[key.uppercased()] { values[key] = Secret(value) }
            }
        } else {
            for (name, value) in environment where name.hasPrefix(prefix) && name.count > prefix.count {
                values[String(name.dropFirst(prefix.count)).lowercased()] = Secret(value)
            }
        }
        let missing = missingKeys(values, require: require)
        if !missing.isEmpty {
            let names = missing.map { prefix + $0.uppercased() }.joined(separator: ", ")
            throw CredentialError(.environmentMissing, "environment variables missing: \(names). Configure your credentials: export them before the run.")
        }
        return CredentialSet(source: "environment", values: values)
    }

    // MARK: Checks

    /// Required keys that are absent or empty, sorted.
    static func missingKeys(_ values: [String: Secret], require: [String]) -> [String] {
        Set(require.filter { values[$0]?.revealed.isEmpty ?? true }).sorted()
    }

    static func check(_ set: CredentialSet, require: [String], in place: String) throws(CredentialError) -> CredentialSet {
        let missing = missingKeys(set.values, require: require)
        if !missing.isEmpty {
            throw CredentialError(
                .missingKeys,
                "\(place) is missing required keys: \(missing.joined(separator: ", ")). Configure your credentials: add \(missing.count == 1 ? "it" : "them") with non-empty values.")
        }
        return set
    }

    /// Reads a credentials file, refusing one that group or others may
    /// access (as ssh refuses a loose private key).
    static func readPrivateFile(_ path: String, example: String) throws(CredentialError) -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let failure = errno
            if failure == ENOENT || failure == ENOTDIR {
                throw CredentialError(.notFound, "credentials file \(path) not found; create it with \(example) and chmod 600 \(path)")
            }
            throw CredentialError(.unreadable, "cannot read credentials file \(path): \(String(cString: strerror(failure)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CredentialError(.unreadable, "credentials file \(path) is not a regular file; point `from:` at the file itself")
        }
        let permissions = info.st_mode & 0o777
        if permissions & 0o077 != 0 {
            throw CredentialError(
                .tooOpen,
                "permissions \(octal(permissions)) for '\(path)' are too open: credentials must not be readable by group or others; run chmod 600 \(path)")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CredentialError(.unreadable, "cannot read credentials file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw CredentialError(.unreadable, "cannot read credentials file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            if data.count > 1 << 20 {
                throw CredentialError(.unreadable, "credentials file \(path) is larger than 1 MiB; point `from:` at the credentials file itself")
            }
        }
        return data
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Examples for messages

    /// `{"key_id": ..., "application_key": ...}` with the required keys.
    static func jsonExample(_ require: [String]) -> String {
        let keys = require.isEmpty ? ["key_id", "application_key"] : require
        return "{" + keys.map { "\"\($0)\": ..." }.joined(separator: ", ") + "}"
    }

    static func awsExample(profile: String, require: [String]) -> String {
        let keys = require.isEmpty ? ["aws_access_key_id", "aws_secret_access_key"] : require
        return "a [\(profile)] section of " + keys.map { "\($0) = ..." }.joined(separator: ", ") + " lines"
    }

    // MARK: JSON details

    /// NSNumber hides booleans; corelibs gives them their own class.
    static func isBoolean(_ number: NSNumber) -> Bool {
        type(of: number) == type(of: NSNumber(value: true))
    }

    static func jsonKind(_ value: Any) -> String {
        switch value {
        case is [Any]: "a list"
        case is [String: Any]: "an object"
        case is String: "a string"
        case let number as NSNumber: isBoolean(number) ? "a boolean" : "a number"
        case is NSNull: "null"
        default: "an unexpected value"
        }
    }

    /// " (line L, column C)" for a parse error, from the parser's character
    /// offset; the parser's own text is not used, as it may quote content.
    static func jsonPosition(_ error: any Error, in data: Data) -> String {
        let info = (error as NSError).userInfo
        var offset = info["NSJSONSerializationErrorIndex"] as? Int
        if offset == nil, let text = info[NSDebugDescriptionErrorKey] as? String,
           let range = text.range(of: #"around character (\d+)"#, options: .regularExpression) {
            offset = Int(text[range].split(separator: " ").last ?? "")
        }
        if offset == nil, let text = info[NSDebugDescriptionErrorKey] as? String, text.contains("end of file") {
            return " (it ends too early)"
        }
        guard let offset, offset >= 0, offset <= data.count else { return "" }
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return " (line \(line), column \(column))"
    }
}
