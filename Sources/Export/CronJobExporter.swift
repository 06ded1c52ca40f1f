public import Workflow

/// Exports a scheduled workflow as Kubernetes `batch/v1` CronJobs that run
/// the whole workflow in one pod (`bucketflow run /workflows/FILE`), plus the
/// ConfigMap holding the file.
public enum CronJobExporter {
    /// Kubernetes limits CronJob names to 52 characters.
    static let nameLimit = 52

    public static func export(_ workflow: Workflow, source: String, fileName: String, options: ExportOptions = ExportOptions()) throws(ExportError) -> String {
        YAMLEmitter.stream(try documents(workflow, source: source, fileName: fileName, options: options))
    }

    /// One CronJob per `schedule:` entry (a CronJob has one schedule and one
    /// time zone).
    ///
    /// - Throws: ``ExportError`` when the workflow has no `schedule:`.
    public static func documents(_ workflow: Workflow, source: String, fileName: String, options: ExportOptions = ExportOptions()) throws(ExportError) -> [(comment: String?, value: YAMLValue)] {
        guard !workflow.schedules.isEmpty else {
            throw ExportError("\(workflow.file): the workflow has no `schedule:`, and a CronJob needs one; add e.g. `schedule: [{cron: \"30 2 * * *\", timezone: UTC}]`, or export it with `bucketflow export argo` for a one-off Argo Workflow")
        }
        if !options.shards.isEmpty {
            throw ExportError("--shards applies to the Argo export only: a CronJob runs the whole workflow in one pod")
        }
        let parts = try PodParts(workflow: workflow, fileName: fileName, options: options, withState: false, baseMaxLength: nameLimit - 3)
        var documents = [try parts.configMap(source: source)]
        var seen: Set<String> = []
        var entries: [(cron: String, zone: String)] = []
        for schedule in workflow.schedules {
            let cron = try PortableCron.convert(schedule.cron)
            if seen.insert(cron + "\u{0}" + schedule.timeZone).inserted { entries.append((cron, schedule.timeZone)) }
        }
        let (policy, policyComment) = concurrencyPolicy(workflow.overlap)
        for (index, entry) in entries.enumerated() {
            let name = entries.count == 1 ? parts.baseName : "\(parts.baseName)-\(index + 1)"
            var comment = "bucketflow workflow \"\(workflow.name)\" as a Kubernetes CronJob: the whole workflow in one pod, at \(entry.cron) (\(entry.zone))."
            if entries.count > 1 {
                comment += "\nThe file has \(entries.count) schedules; a CronJob holds one, so there is one CronJob per schedule (the overlap policy applies within each)."
            }
            var container: [(String, YAMLValue)] = [
                ("name", .string("bucketflow")),
                ("image", .string(options.image)),
                ("command", .list([.string("bucketflow")])),
                ("args", .list([.string("run"), .string(parts.workflowPath)])),
            ]
            container += parts.containerEnvironment()
            container.append(("volumeMounts", .list(parts.volumeMounts)))
            var podSpec: [YAMLEntry] = [YAMLEntry("restartPolicy", .string("Never"))]
            if let account = options.serviceAccount { podSpec.append(YAMLEntry("serviceAccountName", .string(account))) }
            podSpec.append(YAMLEntry("volumes", .list(parts.volumes)))
            podSpec.append(YAMLEntry("containers", .list([.object(container)])))
            let spec: [YAMLEntry] = [
                YAMLEntry("schedule", .string(entry.cron)),
                YAMLEntry("timeZone", .string(entry.zone)),
                YAMLEntry("concurrencyPolicy", .string(policy), comment: policyComment),
                YAMLEntry("jobTemplate", .object([
                    ("metadata", .object([("labels", parts.labels)])),
                    ("spec", .map([
                        YAMLEntry("backoffLimit", .int(0), comment: "bucketflow retries steps itself (retry:); a failed run is not repeated as a whole"),
                        YAMLEntry("template", .object([
                            ("metadata", .object([("labels", parts.labels)])),
                            ("spec", .map(podSpec)),
                        ])),
                    ])),
                ])),
            ]
            documents.append((comment, .object([
                ("apiVersion", .string("batch/v1")),
                ("kind", .string("CronJob")),
                ("metadata", parts.metadata(name: name)),
                ("spec", .map(spec)),
            ])))
        }
        return documents
    }

    static func concurrencyPolicy(_ overlap: OverlapPolicy) -> (String, String?) {
        switch overlap {
        case .forbid:
            return ("Forbid", "overlap: forbid -> a run due while the previous one is still running is skipped.")
        case .allow:
            return ("Allow", "overlap: allow")
        case .queue:
            return ("Forbid", """
                overlap: queue -> Kubernetes has no queue (Replace would kill the running job). Forbid skips a run that
                is due while the previous one is still running; the next schedule runs normally. To run every
                occurrence one after another, export with `bucketflow export argo`, which queues runs on a mutex.
                """)
        }
    }
}
