import Workflow
import Storage

/// `list`: the objects under a location (recursively by default; with
/// `recursive: false`, one level with sub-folders as `prefixes`).
enum ListAction: StepAction {
    /// Keys beyond this many are counted but not repeated in outputs and
    /// reports, which would otherwise grow without bound.
    static let maxKeysInOutputs = 10_000

    static func run(_ context: StepContext) async throws -> StepResult {
        let target = try await context.remote("at")
        let recursive = try context.bool("recursive", default: true)
        let limit = try context.int("max-keys")
        var prefix = target.key
        if !prefix.isEmpty && !prefix.hasSuffix("/") {
            // "bucket/folder" lists the folder, as users expect from a path.
            if (try? await target.storage.headIfExists(bucket: target.bucket, key: prefix)) == nil { prefix += "/" }
        }
        var objects: [ObjectInfo] = []
        var prefixes: [String] = []
        var result = StepResult()
        if context.dryRun && recursive {
            // The listing as the plan's earlier steps leave it.
            objects = try await context.listAll(target, prefix: prefix)
            if let limit { objects = Array(objects.prefix(max(0, limit))) }
        } else {
            var token: String? = nil
            repeat {
                try Task.checkCancellation()
                let page = try await target.storage.listPage(bucket: target.bucket, prefix: prefix, delimiter: recursive ? nil : "/", continuationToken: token, maxKeys: 1000)
                objects += page.objects
                prefixes += page.commonPrefixes
                token = page.isTruncated ? page.nextContinuationToken : nil
                if let limit, objects.count >= limit { objects = Array(objects.prefix(limit)); break }
            } while token != nil
        }
        let bytes = objects.reduce(Int64(0)) { $0 + $1.size }
        result.outputs = [
            "keys": .list(objects.prefix(maxKeysInOutputs).map { .string($0.key) }),
            "count": .number(Double(objects.count)),
            "bytes": .number(Double(bytes)),
            "prefixes": .list(prefixes.map(ExpressionValue.string)),
        ]
        result.summary = "\(plural(objects.count, "object")) (\(ByteCount.format(bytes)))" + (prefixes.isEmpty ? "" : ", \(plural(prefixes.count, "folder"))") + " in \(target.display)"
        result.plan = ["list \(target.display): \(plural(objects.count, "object")) (\(ByteCount.format(bytes))) now (read-only)"]
        return result
    }
}
