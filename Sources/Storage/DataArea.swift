public import Foundation

/// The hosted data area behind `data://NAMESPACE/path`: a directory whose
/// sub-directories are namespaces; `.my` is the current user's.
public struct DataArea: Sendable {
    public let root: URL
    public let userName: String

    public init(root: URL, userName: String) {
        self.root = root.standardizedFileURL
        self.userName = userName
    }

    /// `NAMESPACE/rest` (the part after `data://`) as a local file URL.
    public func resolve(_ path: String) throws(StorageError) -> URL {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let namespace = segments.first else {
            throw StorageError(.invalidKey, "data://\(path) names no namespace", hint: "write data://.my/folder/file")
        }
        if segments.contains("..") || segments.contains(".") && segments.first != "." {
            throw StorageError(.invalidKey, "data://\(path) may not contain '..' segments")
        }
        segments[0] = namespace == ".my" ? userName : namespace
        var url = root
        for segment in segments { url.appendPathComponent(segment) }
        if path.hasSuffix("/") { url = URL(fileURLWithPath: url.path + "/") }
        return url
    }

    /// `$BUCKETFLOW_DATA_DIR`, else `$XDG_DATA_HOME/bucketflow/data`, else
    /// `~/.local/share/bucketflow/data`.
    public static func defaultRoot(environment: [String: String]) -> URL {
        if let dir = environment["BUCKETFLOW_DATA_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("bucketflow/data")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/bucketflow/data")
    }

    /// `$USER`, else the password database's name for this uid, else "user".
    public static func currentUserName(environment: [String: String]) -> String {
        if let user = environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "user"
    }
}
