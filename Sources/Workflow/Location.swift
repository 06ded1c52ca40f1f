import Foundation

/// Where bytes live: an object (or prefix) in a declared storage, or a local path.
public enum Location: Sendable, Hashable, CustomStringConvertible {
    /// `NAME://bucket/key`; `key` is "" for the bucket itself and ends in "/"
    /// for a prefix.
    case remote(storage: String, bucket: String, key: String)
    /// `data://namespace/path` in the hosted data area.
    case data(path: String)
    /// A path on this machine (resolved relative to the workflow file).
    case local(path: String)

    /// The scheme used for the hosted data area.
    public static let dataScheme = "data"

    /// Parses the rendered text of a location.
    ///
    /// - Throws: A message when the text looks like a URL but is malformed.
    public static func parse(_ text: String) throws(LocationError) -> Location {
        guard let range = text.range(of: "://") else { return .local(path: text) }
        let scheme = String(text[..<range.lowerBound])
        let rest = String(text[range.upperBound...])
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            return .local(path: text)
        }
        if scheme == dataScheme {
            guard !rest.isEmpty else { throw LocationError(message: "'\(text)' names no path in the data area (write data://NAMESPACE/path, e.g. data://.my/folder/file)") }
            return .data(path: rest)
        }
        let bucket: String
        let key: String
        if let slash = rest.firstIndex(of: "/") {
            bucket = String(rest[..<slash])
            key = String(rest[rest.index(after: slash)...])
        } else {
            bucket = rest
            key = ""
        }
        guard !bucket.isEmpty else {
            throw LocationError(message: "'\(text)' names no bucket (write \(scheme)://BUCKET/key)")
        }
        return .remote(storage: scheme, bucket: bucket, key: key)
    }

    /// The storage name written before `://`, if the text is a remote location.
    public static func storageName(in text: String) -> String? {
        guard let range = text.range(of: "://") else { return nil }
        let scheme = String(text[..<range.lowerBound])
        guard !scheme.isEmpty, scheme != dataScheme,
              scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        return scheme
    }

    public var description: String {
        switch self {
        case .remote(let storage, let bucket, let key): return "\(storage)://\(bucket)\(key.isEmpty ? "" : "/" + key)"
        case .data(let path): return "data://\(path)"
        case .local(let path): return path
        }
    }
}

public struct LocationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
