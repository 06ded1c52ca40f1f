/// The actions a step can perform.
public enum ActionKind: String, Sendable, Hashable, CaseIterable, Codable {
    case loadCredentials = "load-credentials"
    case createBucket = "create-bucket"
    case deleteBucket = "delete-bucket"
    case createFolder = "create-folder"
    case deleteFolder = "delete-folder"
    case upload
    case download
    case copy
    case list
    case inspect
    case delete

    /// What a parameter accepts.
    public enum ParameterType: Sendable, Hashable {
        /// `STORAGE://bucket[/key]`: a declared storage.
        case remoteLocation
        /// A local path, glob or `data://` path.
        case localPath
        /// Either kind of location.
        case anyLocation
        case string
        case bool
        case integer
        case byteSize
        case stringList
        case stringMap
        case choice([String])
        case expectations
    }

    public struct Parameter: Sendable, Hashable {
        public var name: String
        public var type: ParameterType
        public var required: Bool
        /// For a remote location: whether the storage name may come from an
        /// expression (`${{ steps.x.outputs.url }}`), checked at run time.
        public var dynamicStorage: Bool = false
    }

    /// The parameters an action accepts, besides the common step keys.
    public var parameters: [Parameter] {
        func p(_ name: String, _ type: ParameterType, required: Bool = false, dynamicStorage: Bool = false) -> Parameter {
            Parameter(name: name, type: type, required: required, dynamicStorage: dynamicStorage)
        }
        switch self {
        case .loadCredentials:
            return [p("from", .localPath), p("format", .choice(["json", "aws", "env"])), p("profile", .string),
                    p("env-prefix", .string), p("require", .stringList)]
        case .createBucket:
            return [p("bucket", .remoteLocation, required: true), p("if-exists", .choice(["ok", "fail"]))]
        case .deleteBucket:
            return [p("bucket", .remoteLocation, required: true), p("force", .bool), p("if-missing", .choice(["ok", "fail"]))]
        case .createFolder:
            return [p("at", .remoteLocation, required: true)]
        case .deleteFolder:
            return [p("at", .remoteLocation, required: true), p("if-missing", .choice(["ok", "fail"]))]
        case .upload:
            return [p("from", .localPath, required: true), p("to", .remoteLocation, required: true),
                    p("skip-unchanged", .bool), p("content-type", .string), p("metadata", .stringMap),
                    p("exclude", .stringList), p("shards", .integer)]
        case .download:
            return [p("from", .remoteLocation, required: true, dynamicStorage: true), p("to", .localPath, required: true),
                    p("skip-unchanged", .bool), p("shards", .integer)]
        case .copy:
            return [p("from", .remoteLocation, required: true), p("to", .remoteLocation, required: true),
                    p("skip-unchanged", .bool), p("shards", .integer)]
        case .list:
            return [p("at", .remoteLocation, required: true, dynamicStorage: true), p("recursive", .bool), p("max-keys", .integer)]
        case .inspect:
            return [p("at", .anyLocation, required: true), p("expect", .expectations), p("parse", .choice(["auto", "json", "none"])),
                    p("max-parse-size", .byteSize)]
        case .delete:
            return [p("at", .remoteLocation, required: true), p("recursive", .bool), p("if-missing", .choice(["ok", "fail"])), p("shards", .integer)]
        }
    }

    /// The outputs a later step can reference as `steps.ID.outputs.NAME`.
    public var outputs: [String] {
        switch self {
        case .loadCredentials: return ["keys", "source"]
        case .createBucket: return ["bucket", "created", "url"]
        case .deleteBucket: return ["bucket", "deleted", "objects-deleted"]
        case .createFolder: return ["key", "url"]
        case .deleteFolder: return ["prefix", "count"]
        case .upload: return ["keys", "count", "bytes", "url", "location", "urls", "skipped"]
        case .download: return ["files", "count", "bytes", "path", "skipped"]
        case .copy: return ["keys", "count", "bytes", "url", "skipped"]
        case .list: return ["keys", "count", "bytes", "prefixes"]
        case .inspect: return ["exists", "key", "size", "content-type", "etag", "last-modified", "checksums", "metadata", "json", "url"]
        case .delete: return ["keys", "count"]
        }
    }

    /// Outputs whose value is structured, so `outputs.NAME.deeper.path` is allowed.
    public var structuredOutputs: Set<String> {
        switch self {
        case .inspect: return ["json", "checksums", "metadata"]
        default: return ["keys", "urls", "files", "prefixes"]
        }
    }

    /// Keys accepted under `expect:` of an inspect step.
    public static let expectationKeys = ["exists", "min-size", "max-size", "size", "content-type", "sha256", "md5", "json"]
}
