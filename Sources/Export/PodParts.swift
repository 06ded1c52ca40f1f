import Workflow

/// Resource names, labels, the ConfigMap and the pod pieces both exporters share.
struct PodParts {
    let workflow: Workflow
    let options: ExportOptions
    /// The ConfigMap key and the file name under /workflows/.
    let fileKey: String
    /// DNS label all resource names derive from.
    let baseName: String
    let configMapName: String
    /// Volumes for the ConfigMap, the state (when `withState`), Secret files
    /// and claims.
    let withState: Bool

    init(workflow: Workflow, fileName: String, options: ExportOptions, withState: Bool, baseMaxLength: Int) throws(ExportError) {
        self.workflow = workflow
        self.options = options
        self.withState = withState
        let last = fileName.split(separator: "/").last.map(String.init) ?? fileName
        guard KubernetesNames.isConfigKey(last) else {
            throw ExportError("the workflow file name \"\(last)\" cannot be a ConfigMap key; rename it to letters, digits, '-', '_' and '.'")
        }
        fileKey = last
        baseName = KubernetesNames.label(options.name ?? workflow.name, maxLength: baseMaxLength)
        configMapName = KubernetesNames.label("bucketflow-" + baseName, maxLength: 63)
        if let namespace = options.namespace, !KubernetesNames.isDNSSubdomain(namespace) || namespace.count > 63 {
            throw ExportError("--namespace \(namespace): not a valid namespace name (lowercase letters, digits and '-')")
        }
        for secret in options.envSecrets where !KubernetesNames.isDNSSubdomain(secret) {
            throw ExportError("--secret \(secret): not a valid Secret name (lowercase letters, digits, '-' and '.')")
        }
        if let parallelism = options.parallelism, parallelism < 1 {
            throw ExportError("--parallelism must be at least 1, found \(parallelism)")
        }
        if options.deadlineGrace < 0 {
            throw ExportError("--deadline-grace must be 0 or more seconds, found \(options.deadlineGrace)")
        }
        if let account = options.serviceAccount, !KubernetesNames.isDNSSubdomain(account) {
            throw ExportError("--service-account \(account): not a valid ServiceAccount name")
        }
        if withState, stateIsLocal, !KubernetesNames.isDNSSubdomain(options.stateClaim) {
            throw ExportError("--state-claim \(options.stateClaim): not a valid PersistentVolumeClaim name")
        }
        if withState, !stateIsLocal, !options.state.contains("://") {
            throw ExportError("--state \(options.state): expected an absolute path inside the pods (on a shared volume) or a storage location such as s3store://bucket/runs/")
        }
        if withState, !stateIsLocal, let range = options.state.firstRange(of: "://"),
           case let name = String(options.state[..<range.lowerBound]), workflow.storage(name) == nil {
            throw ExportError("--state \(options.state): the workflow declares no storage \"\(name)\"\(workflow.storages.isEmpty ? "" : "; declared: \(workflow.storages.map(\.name).joined(separator: ", "))")")
        }
    }

    var workflowPath: String { ExportOptions.workflowDirectory + "/" + fileKey }
    var stateIsLocal: Bool { options.state.hasPrefix("/") }

    var labels: YAMLValue {
        .object([
            ("app.kubernetes.io/managed-by", .string("bucketflow")),
            ("bucketflow.dev/workflow", .string(KubernetesNames.labelValue(workflow.name))),
        ])
    }

    var annotations: YAMLValue {
        .object([
            ("bucketflow.dev/workflow-name", .string(Self.inert(workflow.name))),
            ("bucketflow.dev/workflow-file", .string(fileKey)),
            ("bucketflow.dev/workflow-sha256", .string(workflow.sha256)),
        ])
    }

    /// Text Argo will not take for a template variable: Argo substitutes
    /// `{{...}}` in every string of a workflow (annotations included) and
    /// rejects the ones it cannot resolve, so `{{` and `}}` get a space.
    static func inert(_ text: String) -> String {
        var out = ""
        var previous: Character?
        for c in text {
            if (c == "{" || c == "}") && previous == c { out.append(" ") }
            out.append(c)
            previous = c
        }
        return out
    }

    func metadata(name: String? = nil, generateName: String? = nil, annotated: Bool = true) -> YAMLValue {
        var pairs: [(String, YAMLValue)] = []
        if let name { pairs.append(("name", .string(name))) }
        if let generateName { pairs.append(("generateName", .string(generateName))) }
        if let namespace = options.namespace { pairs.append(("namespace", .string(namespace))) }
        pairs.append(("labels", labels))
        if annotated { pairs.append(("annotations", annotations)) }
        return .object(pairs)
    }

    /// Kubernetes stores at most 1 MiB per ConfigMap, metadata included.
    static let configMapLimit = 1_000_000

    /// The ConfigMap holding the workflow file verbatim.
    func configMap(source: String) throws(ExportError) -> (comment: String?, value: YAMLValue) {
        guard source.utf8.count <= Self.configMapLimit else {
            throw ExportError("the workflow file is \(source.utf8.count) bytes; a ConfigMap holds at most about 1 MB")
        }
        let comment = """
            The workflow file, mounted read-only at \(ExportOptions.workflowDirectory)/ in every pod.
            Paths in it are relative to that directory.
            """
        return (comment, .object([
            ("apiVersion", .string("v1")),
            ("kind", .string("ConfigMap")),
            ("metadata", metadata(name: configMapName)),
            ("data", .object([(fileKey, .string(source))])),
        ]))
    }

    func volumeName(_ kind: String, _ name: String) -> String {
        KubernetesNames.label(kind + "-" + name, maxLength: 63)
    }

    var volumes: [YAMLValue] {
        var result: [YAMLValue] = [
            .object([("name", .string("workflow-file")), ("configMap", .object([("name", .string(configMapName))]))]),
        ]
        if withState, stateIsLocal {
            result.append(.object([
                ("name", .string("state")),
                ("persistentVolumeClaim", .object([("claimName", .string(options.stateClaim))])),
            ]))
        }
        var seen: Set<String> = []
        for file in options.secretFiles where seen.insert(file.secret).inserted {
            result.append(.object([
                ("name", .string(volumeName("secret", file.secret))),
                // 0400: the credential loader refuses files readable by group or others.
                ("secret", .object([("secretName", .string(file.secret)), ("defaultMode", .int(0o400))])),
            ]))
        }
        seen = []
        for volume in options.volumes where seen.insert(volume.claim).inserted {
            result.append(.object([
                ("name", .string(volumeName("claim", volume.claim))),
                ("persistentVolumeClaim", .object([("claimName", .string(volume.claim))])),
            ]))
        }
        return result
    }

    var volumeMounts: [YAMLValue] {
        var result: [YAMLValue] = [
            .object([("name", .string("workflow-file")), ("mountPath", .string(ExportOptions.workflowDirectory)), ("readOnly", .bool(true))]),
        ]
        if withState, stateIsLocal {
            result.append(.object([("name", .string("state")), ("mountPath", .string(options.state.trimmingTrailingSlashes))]))
        }
        for file in options.secretFiles {
            result.append(.object([
                ("name", .string(volumeName("secret", file.secret))),
                ("mountPath", .string(file.path)),
                ("subPath", .string(file.key)),
                ("readOnly", .bool(true)),
            ]))
        }
        for volume in options.volumes {
            result.append(.object([("name", .string(volumeName("claim", volume.claim))), ("mountPath", .string(volume.mountPath))]))
        }
        return result
    }

    /// Environment: the data area's root; Secrets come in by reference only.
    func containerEnvironment() -> [(String, YAMLValue)] {
        var pairs: [(String, YAMLValue)] = [
            ("env", .list([.object([("name", .string("BUCKETFLOW_DATA_DIR")), ("value", .string(options.dataDirectory))])])),
        ]
        if !options.envSecrets.isEmpty {
            pairs.append(("envFrom", .list(options.envSecrets.map { .object([("secretRef", .object([("name", .string($0))]))]) })))
        }
        return pairs
    }
}

/// Cron expressions in the dialect Argo and Kubernetes understand
/// (robfig/cron: five fields or a macro, day-of-week 0-6).
enum PortableCron {
    static func convert(_ expression: String) throws(ExportError) -> String {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if fields.count == 1, fields[0].hasPrefix("@") { return fields[0].lowercased() }
        guard fields.count == 5 else { throw ExportError("schedule \"\(expression)\": expected five fields") }
        var items: [String] = []
        for item in fields[4].split(separator: ",").map(String.init) {
            // Vixie cron also accepts 7 for Sunday; robfig/cron stops at 6.
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            let range = parts.first ?? item
            let bounds = range.split(separator: "-").map(String.init)
            guard bounds.contains("7") else { items.append(item); continue }
            if parts.count == 2 {
                throw ExportError("schedule \"\(expression)\": day-of-week \"\(item)\" uses 7 for Sunday in a stepped range, which Argo and Kubernetes do not accept; write it with 0-6")
            }
            if bounds == ["7"] || bounds == ["7", "7"] {
                items.append("0")
            } else if bounds.count == 2, bounds[1] == "7", let low = Int(bounds[0]), low <= 6 {
                items.append(low == 6 ? "6" : "\(low)-6")
                items.append("0")
            } else {
                throw ExportError("schedule \"\(expression)\": day-of-week \"\(item)\" cannot be written for Argo and Kubernetes; use 0-6 (0 is Sunday)")
            }
        }
        var seen: Set<String> = []
        let dayOfWeek = items.filter { seen.insert($0).inserted }.joined(separator: ",")
        return (fields[0..<4] + [dayOfWeek]).joined(separator: " ")
    }
}

/// Go durations for Argo's backoff fields.
enum GoDuration {
    static func format(_ seconds: Double) -> String {
        if seconds.rounded() == seconds { return "\(Int(seconds))s" }
        return "\(Int((seconds * 1000).rounded()))ms"
    }
}
