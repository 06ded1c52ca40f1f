import Scheduler
/// What a plan would change, counted from its steps' planned objects.
public struct PlanSummary: Sendable, Codable, Hashable {
    public var bucketsToCreate = 0
    public var bucketsToDelete = 0
    public var foldersToCreate = 0
    public var uploads = 0
    public var uploadBytes: Int64 = 0
    public var downloads = 0
    public var downloadBytes: Int64 = 0
    public var copies = 0
    public var copyBytes: Int64 = 0
    public var deletes = 0
    public var unchanged = 0
    /// Steps whose plan failed (an unreadable remote, a step that would fail).
    public var errors = 0
    /// Whether a run would change anything.
    public var changesPending = false

    public init() {}

    public init(report: RunReport) {
        for step in report.steps {
            if step.status == .failed { errors += 1 }
            for record in step.transfers {
                switch record.outcome {
                case .unchanged where record.operation != .createBucket: unchanged += 1
                case .planned:
                    switch record.operation {
                    case .createBucket: bucketsToCreate += 1
                    case .deleteBucket: bucketsToDelete += 1
                    case .createFolder: foldersToCreate += 1
                    case .upload: uploads += 1; uploadBytes += record.bytes
                    case .download: downloads += 1; downloadBytes += record.bytes
                    case .copy: copies += 1; copyBytes += record.bytes
                    case .delete: deletes += 1
                    case .inspect: break
                    }
                default: break
                }
            }
        }
        changesPending = bucketsToCreate + bucketsToDelete + foldersToCreate + uploads + downloads + copies + deletes > 0
    }

    /// `Plan: 1 bucket to create, 3 objects (12 KiB) to upload, 2 unchanged, 0 to delete`.
    public var line: String {
        var parts = ["\(plural(bucketsToCreate, "bucket")) to create"]
        if foldersToCreate > 0 { parts.append("\(plural(foldersToCreate, "folder")) to create") }
        parts.append("\(plural(uploads, "object")) (\(ByteCount.format(uploadBytes))) to upload")
        if downloads > 0 { parts.append("\(plural(downloads, "object")) (\(ByteCount.format(downloadBytes))) to download") }
        if copies > 0 { parts.append("\(plural(copies, "object")) (\(ByteCount.format(copyBytes))) to copy") }
        parts.append("\(unchanged) unchanged")
        parts.append("\(deletes) to delete")
        if bucketsToDelete > 0 { parts.append("\(plural(bucketsToDelete, "bucket")) to delete") }
        var line = "Plan: " + parts.joined(separator: ", ")
        if errors > 0 { line += "; \(plural(errors, "step")) could not be planned (see above)" }
        return line
    }
}
