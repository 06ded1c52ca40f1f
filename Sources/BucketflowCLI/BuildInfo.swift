import CBuildInfo
import Executor

/// What `bucketflow --version` prints: version, git commit, Swift version.
enum BuildInfo {
    /// The commit scripts/install embedded (`BUCKETFLOW_GIT_COMMIT`), or "unknown".
    static let commit = String(cString: bucketflow_git_commit())

    /// The compiler that built this binary.
    static let swiftVersion: String = {
        #if compiler(>=6.5)
        return "6.5 or later"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    /// `bucketflow 0.2.0 (commit 828b0f25e012, Swift 6.3)`.
    static var versionLine: String {
        "\(BucketflowInfo.version) (commit \(commit), Swift \(swiftVersion))"
    }
}
