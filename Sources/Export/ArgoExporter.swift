public import Workflow

/// Exports a workflow's step graph to Argo Workflows: one pod per step (or
/// per shard), each running `bucketflow run /workflows/FILE --only STEP
/// --state STATE --run-id {{workflow.name}}`.
///
/// The output is one multi-document YAML stream: a ConfigMap with the
/// workflow file, then one `CronWorkflow` per time zone of the file's
/// `schedule:` entries, or a single `Workflow` when it has none.
public enum ArgoExporter {
    /// Argo limits CronWorkflow names to 52 characters.
    static let cronNameLimit = 52

    /// The YAML stream for `workflow`.
    ///
    /// - Parameters:
    ///   - source: The workflow file's text, stored in the ConfigMap as is.
    ///   - fileName: The workflow file's name (its last path component
    ///     becomes the ConfigMap key and `/workflows/NAME`).
    public static func export(_ workflow: Workflow, source: String, fileName: String, options: ExportOptions = ExportOptions()) throws(ExportError) -> String {
        YAMLEmitter.stream(try documents(workflow, source: source, fileName: fileName, options: options))
    }

    /// The documents of ``export(_:source:fileName:options:)``, as values.
    public static func documents(_ workflow: Workflow, source: String, fileName: String, options: ExportOptions = ExportOptions()) throws(ExportError) -> [(comment: String?, value: YAMLValue)] {
        // Room for "-N" when several time zones need several CronWorkflows.
        let parts = try PodParts(workflow: workflow, fileName: fileName, options: options, withState: true, baseMaxLength: cronNameLimit - 3)
        let graph = try StepGraph(workflow: workflow, shardOverrides: options.shards)
        var documents = [try parts.configMap(source: source)]
        let spec = workflowSpec(workflow, graph: graph, parts: parts)

        if workflow.schedules.isEmpty {
            var comment = """
                bucketflow workflow "\(workflow.name)" as an Argo Workflow: one task per step.
                Submit with `argo submit` or `kubectl create` (generateName needs create, not apply).
                """
            if workflow.overlap == .forbid {
                comment += "\noverlap: forbid has no Argo equivalent for Workflows submitted by hand: each submission runs."
            }
            documents.append((comment, .object([
                ("apiVersion", .string("argoproj.io/v1alpha1")),
                ("kind", .string("Workflow")),
                ("metadata", parts.metadata(generateName: parts.baseName + "-")),
                ("spec", spec),
            ])))
            return documents
        }

        // One CronWorkflow per time zone, with all of that zone's schedules.
        var zones: [String] = []
        var schedules: [String: [String]] = [:]
        for schedule in workflow.schedules {
            let cron = try PortableCron.convert(schedule.cron)
            if schedules[schedule.timeZone] == nil { zones.append(schedule.timeZone) }
            if !(schedules[schedule.timeZone] ?? []).contains(cron) { schedules[schedule.timeZone, default: []].append(cron) }
        }
        let (policy, policyComment) = concurrencyPolicy(workflow.overlap)
        for (index, zone) in zones.enumerated() {
            let name = zones.count == 1 ? parts.baseName : "\(parts.baseName)-\(index + 1)"
            var comment = "bucketflow workflow \"\(workflow.name)\" as an Argo CronWorkflow (schedules in \(zone))."
            if zones.count > 1 {
                comment += "\nThe file's schedules use \(zones.count) time zones; Argo allows one per CronWorkflow, so there is one per zone. They share the overlap policy only within each CronWorkflow"
                comment += workflow.overlap == .queue ? " (the queue mutex below is shared by all of them)." : "."
            }
            let specPairs: [YAMLEntry] = [
                YAMLEntry("schedules", .list(schedules[zone, default: []].map { .string($0) })),
                YAMLEntry("timezone", .string(zone)),
                YAMLEntry("concurrencyPolicy", .string(policy), comment: policyComment),
                YAMLEntry("workflowMetadata", .object([("labels", parts.labels), ("annotations", parts.annotations)])),
                YAMLEntry("workflowSpec", spec),
            ]
            documents.append((comment, .object([
                ("apiVersion", .string("argoproj.io/v1alpha1")),
                ("kind", .string("CronWorkflow")),
                ("metadata", parts.metadata(name: name)),
                ("spec", .map(specPairs)),
            ])))
        }
        return documents
    }

    /// `overlap:` as Argo's `concurrencyPolicy`, with an explanation when
    /// the translation is not one to one.
    static func concurrencyPolicy(_ overlap: OverlapPolicy) -> (String, String?) {
        switch overlap {
        case .forbid:
            return ("Forbid", "overlap: forbid -> a run due while the previous one is still running is skipped.")
        case .allow:
            return ("Allow", "overlap: allow")
        case .queue:
            return ("Allow", """
                overlap: queue -> Argo's concurrencyPolicy has no queue (Replace would cancel the running one, Forbid
                would drop the new one). Every run is started (Allow) and waits, Pending, for the mutex in
                workflowSpec.synchronization until the previous run releases it: runs happen one at a time, in order.
                """)
        }
    }

    // MARK: Spec

    static func workflowSpec(_ workflow: Workflow, graph: StepGraph, parts: PodParts) -> YAMLValue {
        var entries: [YAMLEntry] = [YAMLEntry("entrypoint", .string("main"))]
        if let account = parts.options.serviceAccount {
            entries.append(YAMLEntry("serviceAccountName", .string(account)))
        }
        if let concurrency = workflow.concurrency {
            entries.append(YAMLEntry("parallelism", .int(concurrency), comment: "concurrency: \(concurrency) (steps in flight at once)"))
        } else if let parallelism = parts.options.parallelism {
            entries.append(YAMLEntry("parallelism", .int(parallelism), comment: "--parallelism \(parallelism) (the file has no concurrency:)"))
        }
        if workflow.overlap == .queue {
            entries.append(YAMLEntry("synchronization", .object([
                ("mutexes", .list([.object([("name", .string(KubernetesNames.label("bucketflow-" + parts.baseName)))])])),
            ]), comment: "overlap: queue -> one run at a time; later runs wait for this mutex."))
        }
        entries.append(YAMLEntry("volumes", .list(parts.volumes)))
        var templates: [YAMLValue] = [dagTemplate(workflow, graph: graph)]
        for step in workflow.steps {
            templates.append(stepTemplate(step, graph: graph, parts: parts))
        }
        entries.append(YAMLEntry("templates", .list(templates)))
        return .map(entries)
    }

    static func dagTemplate(_ workflow: Workflow, graph: StepGraph) -> YAMLValue {
        var tasks: [YAMLValue] = []
        for task in graph.tasks {
            guard let step = workflow.step(task.step) else { continue }
            var entries: [YAMLEntry] = [YAMLEntry("name", .string(task.name))]
            if let condition = step.condition {
                entries[0].comment = conditionComment(condition, sensitive: graph.statusSensitive.contains(step.id))
            }
            entries.append(YAMLEntry("template", .string(graph.templateOfStep[step.id]!)))
            if !task.dependencies.isEmpty {
                if graph.usesDepends {
                    entries.append(YAMLEntry("depends", .string(graph.dependsExpression(for: step, workflow: workflow))))
                } else {
                    entries.append(YAMLEntry("dependencies", .list(task.dependencies.map { .string($0) })))
                }
            }
            if step.continueOnError, !graph.usesDepends {
                entries.append(YAMLEntry("continueOn", .object([("failed", .bool(true))]), comment: "continue-on-error: true"))
            }
            if let shard = task.shard {
                entries.append(YAMLEntry("arguments", .object([
                    ("parameters", .list([.object([("name", .string("shard")), ("value", .string(shard.description))])])),
                ])))
            }
            tasks.append(.map(entries))
        }
        var comment = """
            One task per step (a sharded step: one per shard). failFast is off because bucketflow keeps running
            independent branches after a failure.
            """
        if graph.usesDepends {
            comment += """

                Some `if:` can run a step after a need failed, so tasks use `depends` (Argo allows neither `dependencies`
                nor continueOn alongside it): those steps and every step upstream of them run whatever their needs'
                results were, and bucketflow records each outcome (skipped, if its `if:` says so) for the next;
                other tasks wait for success (or failure, for a need with continue-on-error).
                """
        }
        return .object([
            ("name", .string("main")),
            ("dag", .map([
                YAMLEntry("failFast", .bool(false), comment: comment),
                YAMLEntry("tasks", .list(tasks)),
            ])),
        ])
    }

    static func conditionComment(_ condition: Condition, sensitive: Bool) -> String {
        var text = "if: \(condition.source)\n  bucketflow run --only evaluates this `if:` itself and records the step as skipped when false."
        if sensitive {
            text += "\n  Because it can be true after a need failed, this task runs once its needs finished, however they ended."
        }
        return text
    }

    static func stepTemplate(_ step: Step, graph: StepGraph, parts: PodParts) -> YAMLValue {
        let sharded = (graph.tasksOfStep[step.id]?.count ?? 1) > 1
        var annotations: [(String, YAMLValue)] = [("bucketflow.dev/step", .string(step.id))]
        if let condition = step.condition { annotations.append(("bucketflow.dev/if", .string(PodParts.inert(condition.source)))) }
        var entries: [YAMLEntry] = [
            YAMLEntry("name", .string(graph.templateOfStep[step.id]!)),
            YAMLEntry("metadata", .object([("labels", parts.labels), ("annotations", .object(annotations))])),
        ]
        if sharded {
            entries.append(YAMLEntry("inputs", .object([("parameters", .list([.object([("name", .string("shard"))])]))])))
        }
        if step.retry.attempts > 1 {
            let retry = step.retry
            entries.append(YAMLEntry("retryStrategy", .object([
                ("limit", .string(String(retry.attempts - 1))),
                ("retryPolicy", .string("Always")),
                ("backoff", .object([
                    ("duration", .string(GoDuration.format(retry.backoff))),
                    ("factor", .string("2")),
                    ("cap", .string(GoDuration.format(retry.maxBackoff))),
                ])),
            ]), comment: "retry: \(retry.attempts) attempts, backoff \(GoDuration.format(retry.backoff)) doubling, at most \(GoDuration.format(retry.maxBackoff)) apart"))
        }
        if let timeout = step.timeout {
            let seconds = Int(timeout.rounded(.up)) + max(parts.options.deadlineGrace, 0)
            entries.append(YAMLEntry("activeDeadlineSeconds", .string(String(seconds)),
                                     comment: "timeout: \(GoDuration.format(timeout)) per attempt, enforced by bucketflow; the pod deadline adds \(parts.options.deadlineGrace)s as a backstop"))
        }
        var args: [YAMLValue] = [
            "run", parts.workflowPath, "--only", step.id, "--state", parts.options.state, "--run-id", "{{workflow.name}}",
            // One start time for every pod of the run, so ${{ run.date }} agrees across steps.
            "--started-at", "{{workflow.creationTimestamp}}",
        ].map { .string($0) }
        if sharded { args += [.string("--shard"), .string("{{inputs.parameters.shard}}")] }
        var container: [(String, YAMLValue)] = [
            // Argo names the main container "main" whatever the template says.
            ("name", .string("main")),
            ("image", .string(parts.options.image)),
            ("command", .list([.string("bucketflow")])),
            ("args", .list(args)),
        ]
        container += parts.containerEnvironment()
        container.append(("volumeMounts", .list(parts.volumeMounts)))
        entries.append(YAMLEntry("container", .object(container)))
        return .map(entries)
    }
}
