import Foundation
import Storage
import Workflow

/// `inspect`: looks at one object (or local file): size, content type,
/// checksums, metadata; parses JSON into `outputs.json`; checks `expect:`.
enum InspectAction: StepAction {
    static let defaultMaxParseSize: Int64 = 10 * 1024 * 1024

    static func run(_ context: StepContext) async throws -> StepResult {
        let text = try context.requiredString("at")
        let expectations = try context.value("expect")
        let parse = try context.string("parse") ?? "auto"
        let maxParse = try context.string("max-parse-size").flatMap(Units.bytes) ?? defaultMaxParseSize
        var result = StepResult()
        var outputs: [String: ExpressionValue] = ["url": .string(text)]

        // Find the object.
        let info: ObjectInfo?
        let reader: (@Sendable () async throws -> ObjectByteStream)?
        let location = (try? Location.parse(text)) ?? .local(path: text)
        switch location {
        case .remote:
            let target = try await context.remote("at")
            guard !target.isPrefix else { throw StepError.invalid("`at` must name an object, not a folder (\(target.display))") }
            if context.dryRun {
                let (known, planned) = await context.state.world.object(target.key, in: target.id)
                if known, let planned {
                    // Written by an earlier step of this plan: its content is
                    // only there once the run gets here.
                    result.plan = ["inspect \(target.display) (\(ByteCount.format(planned.size)), written by an earlier step; checked when the run gets there)"]
                    result.outputs = outputs
                    return result
                }
            }
            info = try await context.headIfExists(target, key: target.key)
            let storage = target.storage, bucket = target.bucket, key = target.key
            reader = { try await storage.read(bucket: bucket, key: key, range: nil) }
        case .data, .local:
            let url = try await context.resolveLocal(text, parameter: "at")
            info = LocalObject.info(url)
            reader = { try LocalObject.stream(url) }
        }

        outputs["exists"] = .bool(info != nil)
        var failures: [String] = []
        let expectExists: Bool? = {
            if case .object(let e)? = expectations, let v = e["exists"] { return v.isTruthy }
            return nil
        }()
        guard let info else {
            if expectExists == false {
                result.outputs = outputs
                result.summary = "\(text) does not exist, as expected"
                return result
            }
            throw StepError(code: .noSuchKey, message: "\(text) does not exist" + (context.dryRun ? " (and no earlier step writes it), so the run would fail" : "") + (expectExists == nil ? "; add `expect: {exists: false}` if that is acceptable" : ""))
        }
        if expectExists == false { failures.append("expected \(text) not to exist, but it does") }

        outputs["key"] = .string(info.key)
        outputs["size"] = .number(Double(info.size))
        outputs["content-type"] = info.contentType.map(ExpressionValue.string) ?? .null
        outputs["etag"] = info.etag.map(ExpressionValue.string) ?? .null
        outputs["last-modified"] = info.lastModified.map { .string(Timestamps.rfc3339($0)) } ?? .null
        outputs["metadata"] = .object(info.metadata.mapValues(ExpressionValue.string))
        var checksums = info.checksums

        // Read the content when it is small enough, or when an expectation needs it.
        let wantsJSON = parse == "json" || (parse == "auto" && ((info.contentType ?? "").contains("json") || info.key.lowercased().hasSuffix(".json")))
        var wantsDigest = info.size <= maxParse
        if case .object(let e)? = expectations, e["sha256"] != nil || e["md5"] != nil { wantsDigest = true }
        if (wantsJSON || wantsDigest), let reader {
            if wantsJSON && info.size > maxParse {
                throw StepError(code: .tooLarge, message: "\(text) is \(ByteCount.format(info.size)), larger than max-parse-size \(ByteCount.format(maxParse)); raise max-parse-size or set parse: none")
            }
            let (content, sha256, md5) = try await ContentReader.read(try await reader(), keep: wantsJSON ? maxParse : 0)
            checksums["sha256"] = sha256
            checksums["md5"] = md5
            if wantsJSON {
                do {
                    outputs["json"] = try ExpressionValue(jsonData: content)
                } catch {
                    if parse == "json" || expectations.map({ if case .object(let e) = $0 { return e["json"] != nil } else { return false } }) == true {
                        throw StepError(code: .invalidJSON, message: "\(text) is not valid JSON")
                    }
                    context.emit(.warning(step: context.step.id, message: "\(text) looks like JSON but does not parse; outputs.json is null"))
                    outputs["json"] = .null
                }
            }
        }
        outputs["checksums"] = .object(checksums.mapValues(ExpressionValue.string))

        if case .object(let expected)? = expectations {
            failures += check(expected, info: info, checksums: checksums, json: outputs["json"])
        }
        result.outputs = outputs
        if context.dryRun {
            result.plan = ["inspect \(text): \(ByteCount.format(info.size)), \(info.contentType ?? "unknown type") now" + (failures.isEmpty ? "" : "; expectations would fail now: " + failures.joined(separator: "; "))]
            return result
        }
        if !failures.isEmpty {
            let error = StepError(code: .expectationFailed, message: "\(text): " + failures.joined(separator: "; "))
            context.record(.inspect, .failed, target: text, bytes: info.size, error: error)
            throw StepFailure(error: error, partial: result)
        }
        context.record(.inspect, .inspected, target: text, bytes: info.size, checksums: checksums)
        result.summary = "\(text): \(ByteCount.format(info.size)), \(info.contentType ?? "unknown type")" + (expectations == nil ? "" : ", expectations met")
        return result
    }

    static func check(_ expected: [String: ExpressionValue], info: ObjectInfo, checksums: [String: String], json: ExpressionValue?) -> [String] {
        var failures: [String] = []
        func size(_ key: String) -> Int64? {
            guard let v = expected[key] else { return nil }
            if case .number(let n) = v { return Int64(exactly: n.rounded(.down)) ?? (n > 0 ? Int64.max : Int64.min) }
            return Units.bytes(v.description)
        }
        if let min = size("min-size"), info.size < min { failures.append("expected size >= \(min) bytes, found \(info.size)") }
        if let max = size("max-size"), info.size > max { failures.append("expected size <= \(max) bytes, found \(info.size)") }
        if let exact = size("size"), info.size != exact { failures.append("expected size \(exact) bytes, found \(info.size)") }
        if let type = expected["content-type"]?.description {
            let actual = info.contentType ?? ""
            let base = actual.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if base != type.lowercased() && actual.lowercased() != type.lowercased() {
                failures.append("expected content-type \(type), found \(actual.isEmpty ? "none" : actual)")
            }
        }
        for algorithm in ["sha256", "md5"] {
            if let want = expected[algorithm]?.description.lowercased(), checksums[algorithm] != want {
                failures.append("expected \(algorithm) \(want), found \(checksums[algorithm] ?? "none")")
            }
        }
        if case .object(let paths)? = expected["json"] {
            for (path, want) in paths.sorted(by: { $0.key < $1.key }) {
                let actual = json?.value(at: path.split(separator: ".").map(String.init)[...])
                if actual == nil {
                    failures.append("expected JSON \(path) = \(want.jsonText), found nothing")
                } else if let actual, actual != want && actual.description != want.description {
                    failures.append("expected JSON \(path) = \(want.jsonText), found \(actual.jsonText)")
                }
            }
        }
        return failures
    }
}

/// Streams content once, hashing it and keeping up to `keep` bytes.
enum ContentReader {
    static func read(_ stream: ObjectByteStream, keep: Int64) async throws -> (Data, String, String) {
        var sha = SHA256Hasher()
        var kept = Data()
        for try await chunk in stream {
            sha.update(chunk)
            if Int64(kept.count) < keep { kept.append(contentsOf: chunk.prefix(Int(keep) - kept.count)) }
        }
        let (sha256, md5) = sha.finalize()
        return (kept, sha256, md5)
    }
}

/// Metadata and streams of a plain local file, for `inspect` on local paths.
enum LocalObject {
    static func info(_ url: URL) -> ObjectInfo? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              (attributes[.type] as? FileAttributeType) == .typeRegular else { return nil }
        return ObjectInfo(
            key: url.path, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
            lastModified: attributes[.modificationDate] as? Date,
            contentType: ContentTypes.guess(url.lastPathComponent))
    }

    static func stream(_ url: URL) throws -> ObjectByteStream {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw StepError(code: .ioError, message: "cannot read \(url.path)")
        }
        return ObjectByteStream { continuation in
            let task = Task {
                defer { try? handle.close() }
                do {
                    while true {
                        try Task.checkCancellation()
                        guard let data = try handle.read(upToCount: 1 << 18), !data.isEmpty else { break }
                        continuation.yield([UInt8](data))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
