public import Foundation
public import Executor

/// Why a report file could not be read, in words a person can act on.
public struct ReportLoadError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Reads a run report or plan written by `run`, `run --report`, `plan --json`.
public enum ReportLoader {
    public static func load(path: String) throws(ReportLoadError) -> RunReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReportLoadError(description: "\(path): no such file")
        }
        if isDirectory.boolValue { throw ReportLoadError(description: "\(path): is a directory, not a report file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ReportLoadError(description: "\(path): cannot be read (\(Self.reason(error)))")
        }
        return try decode(data, name: path)
    }

    /// Decodes report JSON, naming the field that does not fit when it fails.
    public static func decode(_ data: Data, name: String) throws(ReportLoadError) -> RunReport {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ReportLoadError(description: "\(name): not valid JSON (\(Self.reason(error)))")
        }
        guard let dictionary = object as? [String: Any], dictionary["run"] != nil, dictionary["steps"] != nil else {
            throw ReportLoadError(description: "\(name): valid JSON, but not a bucketflow run report (no \"run\" and \"steps\")")
        }
        if let version = dictionary["reportVersion"] as? Int, version != RunReport.currentVersion {
            let hint = version < RunReport.currentVersion
                ? "; rerun the workflow (or `bucketflow plan --json`) with this version to get a current report"
                : "; it was written by a newer bucketflow"
            throw ReportLoadError(description: "\(name): report version \(version) is not supported (this bucketflow reads version \(RunReport.currentVersion))\(hint)")
        }
        do { return try RunReport.decode(data) } catch let error as DecodingError {
            throw ReportLoadError(description: "\(name): not a valid bucketflow report: \(Self.describe(error))")
        } catch {
            throw ReportLoadError(description: "\(name): not a valid bucketflow report: \(error)")
        }
    }

    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if let debug = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return debug }
        return ns.localizedDescription
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the document" : String(text.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context):
            let base = path(context)
            return "missing field \"\(key.stringValue)\"" + (context.codingPath.isEmpty ? "" : " in \(base)")
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
