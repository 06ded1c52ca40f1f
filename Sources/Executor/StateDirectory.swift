public import Foundation

/// Where bucketflow keeps run history and locks.
///
/// `$BUCKETFLOW_STATE_DIR`, else `$XDG_STATE_HOME/bucketflow`, else
/// `~/.local/state/bucketflow` (the XDG base-directory default for state that
/// should survive reboots but is not worth backing up).
public enum StateDirectory {
    public static func resolve(environment: [String: String]) -> URL {
        if let dir = environment["BUCKETFLOW_STATE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("bucketflow")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/state/bucketflow")
    }

    /// A file-system-safe directory name for a workflow: its name plus a
    /// short hash of its absolute path, so two files with the same `name:`
    /// never share history or a lock.
    public static func slug(workflowName: String, absolutePath: String) -> String {
        let safe = String(workflowName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(60))
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in absolutePath.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return "\(safe)-\(String(hash, radix: 16).prefix(8))"
    }
}
