public import Foundation

/// The hosted data area behind `data://NAMESPACE/path`: a directory whose
/// sub-directories are namespaces; `.my` is the current user's.
///
/// Credential files and shared inputs live here, so workflows name them the
/// same way on every machine (`data://.my/BackblazeCredentials/credentials.json`)
/// while the root moves with `--data-dir` or `$BUCKETFLOW_DATA_DIR`.
public struct DataArea: Sendable {
    public let root: URL
    public let userName: String

    public init(root: URL, userName: String) {
        self.root = root.standardizedFileURL
        self.userName = userName
    }

    /// `NAMESPACE/rest` (the part after `data://`) as a file URL under ``root``.
    ///
    /// A trailing `/` is kept (the URL is a directory URL then).
    ///
    /// - Throws: ``StorageError`` `.invalidKey` when the path names no
    ///   namespace or has a `..` segment (it could leave the area), and
    ///   `.invalidConfiguration` when `.my` is used with a user name that is
    ///   not a folder name.
    public func resolve(_ path: String) throws(StorageError) -> URL {
        // Bytes, not Characters: a combining mark after '/' must not hide a '..' segment.
        var segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        guard let namespace = segments.first, namespace != "." else {
            throw StorageError(.invalidKey, "data://\(path) names no namespace", hint: "write data://.my/folder/file for your own files or data://NAMESPACE/folder/file")
        }
        if segments.contains("..") {
            throw StorageError(.invalidKey, "data://\(path) may not contain '..' segments", hint: "name the file from its namespace down, e.g. data://.my/folder/file")
        }
        segments.removeAll { $0 == "." }
        if namespace == ".my" {
            guard !userName.isEmpty, userName != ".", userName != "..", !userName.utf8.contains(UInt8(ascii: "/")), !userName.utf8.contains(0) else {
                throw StorageError(.invalidConfiguration, "data://\(path) cannot be resolved: the user name \"\(userName)\" is not usable as a folder name", hint: "set $USER to your user name")
            }
            segments[0] = userName
        }
        let resolved = root.path + (root.path.hasSuffix("/") ? "" : "/") + segments.joined(separator: "/")
        return URL(fileURLWithPath: resolved, isDirectory: path.utf8.last == UInt8(ascii: "/"))
    }

    /// `$BUCKETFLOW_DATA_DIR`, else `$XDG_DATA_HOME/bucketflow/data`, else
    /// `~/.local/share/bucketflow/data` (the XDG default for user data).
    public static func defaultRoot(environment: [String: String]) -> URL {
        if let dir = environment["BUCKETFLOW_DATA_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir).standardizedFileURL }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("bucketflow/data").standardizedFileURL
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/bucketflow/data").standardizedFileURL
    }

    /// `$USER`, else the password database's name for this uid, else "user".
    public static func currentUserName(environment: [String: String]) -> String {
        if let user = environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name {
            let text = String(cString: name)
            if !text.isEmpty { return text }
        }
        return "user"
    }
}
