/// What an export needs beyond the workflow itself.
public struct ExportOptions: Sendable, Hashable {
    /// The container image with `bucketflow` on its PATH.
    public var image: String = "bucketflow:latest"
    /// `metadata.namespace` of every resource; nil leaves it to `kubectl -n`.
    public var namespace: String?
    /// Where `--only` runs share step outcomes (Argo export only): a local
    /// path inside the pods (a shared volume, see ``stateClaim``) or a storage
    /// location such as `s3store://bucket/runs/`.
    public var state: String = "/state"
    /// The PersistentVolumeClaim mounted at ``state`` when it is a local path.
    /// It must be ReadWriteMany when steps run on different nodes.
    public var stateClaim: String = "bucketflow-state"
    /// Secrets whose keys become environment variables (`envFrom`), for
    /// `load-credentials` with `format: env` / `env-prefix` and `env.NAME`.
    public var envSecrets: [String] = []
    /// Secret keys mounted as files where `load-credentials` reads them.
    public var secretFiles: [SecretFile] = []
    /// Other PersistentVolumeClaims to mount (local-provider roots, local
    /// files to upload, download targets).
    public var volumes: [VolumeClaim] = []
    /// `serviceAccountName` of the pods.
    public var serviceAccount: String?
    /// The hosted data area's root inside the pods (`data://` paths and
    /// `BUCKETFLOW_DATA_DIR`).
    public var dataDirectory: String = "/data"
    /// Seconds added to a step's `timeout:` for the pod's
    /// `activeDeadlineSeconds`, so bucketflow's own timeout fires first and
    /// is recorded; the pod deadline is only the backstop (it also counts
    /// image pulls).
    public var deadlineGrace: Int = 60
    /// `shards:` per step id, for steps whose file does not say it (the
    /// workflow file's own `shards:` wins when present).
    public var shards: [String: Int] = [:]
    /// Pods at once (Argo `parallelism`) when the file has no `concurrency:`
    /// (the file's value wins, as on the command line of `run`).
    public var parallelism: Int?
    /// Base name of the resources; default: from the workflow's `name:`.
    public var name: String?

    public init() {}

    /// Where the workflow file is mounted in every pod.
    public static let workflowDirectory = "/workflows"
}

/// A key of a Kubernetes Secret mounted as one file (`subPath`).
public struct SecretFile: Sendable, Hashable {
    public var secret: String
    public var key: String
    /// Absolute path inside the pod.
    public var path: String

    public init(secret: String, key: String, path: String) {
        self.secret = secret
        self.key = key
        self.path = path
    }

    /// `SECRET=PATH` or `SECRET/KEY=PATH`; PATH is absolute or `data://...`
    /// (resolved under `dataDirectory`); KEY defaults to PATH's file name.
    public init(parsing text: String, dataDirectory: String) throws(ExportError) {
        guard let equals = text.firstIndex(of: "=") else {
            throw ExportError("--secret-file \(text): expected SECRET=PATH or SECRET/KEY=PATH")
        }
        var secret = String(text[..<equals])
        var path = String(text[text.index(after: equals)...])
        if path.hasPrefix("data://") {
            path = dataDirectory.trimmingTrailingSlashes + "/" + path.dropFirst("data://".count)
        }
        guard path.hasPrefix("/"), !path.hasSuffix("/") else {
            throw ExportError("--secret-file \(text): PATH must be an absolute file path or data://NAMESPACE/file")
        }
        var key = String(path[path.index(after: path.lastIndex(of: "/")!)...])
        if let slash = secret.firstIndex(of: "/") {
            key = String(secret[secret.index(after: slash)...])
            secret = String(secret[..<slash])
        }
        guard KubernetesNames.isDNSSubdomain(secret) else {
            throw ExportError("--secret-file \(text): \"\(secret)\" is not a valid Secret name (lowercase letters, digits, '-' and '.')")
        }
        guard KubernetesNames.isConfigKey(key) else {
            throw ExportError("--secret-file \(text): \"\(key)\" is not a valid Secret key (letters, digits, '-', '_' and '.')")
        }
        self.init(secret: secret, key: key, path: path)
    }
}

/// A PersistentVolumeClaim mounted at a path.
public struct VolumeClaim: Sendable, Hashable {
    public var claim: String
    public var mountPath: String

    public init(claim: String, mountPath: String) {
        self.claim = claim
        self.mountPath = mountPath
    }

    /// `CLAIM:PATH`.
    public init(parsing text: String) throws(ExportError) {
        guard let colon = text.firstIndex(of: ":") else { throw ExportError("--volume \(text): expected CLAIM:PATH") }
        let claim = String(text[..<colon])
        let path = String(text[text.index(after: colon)...])
        guard KubernetesNames.isDNSSubdomain(claim) else {
            throw ExportError("--volume \(text): \"\(claim)\" is not a valid PersistentVolumeClaim name")
        }
        guard path.hasPrefix("/") else { throw ExportError("--volume \(text): PATH must be absolute") }
        self.init(claim: claim, mountPath: path)
    }
}

/// Why a workflow cannot be exported as asked.
public struct ExportError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    var trimmingTrailingSlashes: String {
        var s = Substring(self)
        while s.count > 1, s.hasSuffix("/") { s.removeLast() }
        return String(s)
    }
}
