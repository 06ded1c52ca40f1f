import Foundation
public import Storage

/// A JSON Schema (draft-07) of the workflow format, generated from the same
/// tables validation uses (top-level keys, step keys, each action's
/// parameters and their types, each provider's settings, numeric ranges), so
/// the schema editors use cannot drift from what `validate` accepts.
///
/// The schema checks shape (keys, types, enums, ranges of literal numbers);
/// what needs the whole file (references, the dependency graph, cron
/// expressions, bucket-name rules) stays with `bucketflow validate`.
public enum WorkflowSchema {
    /// `$id` of the schema, for `# yaml-language-server: $schema=` lines.
    public static let identifier = "https://bucketflow.dev/schema/workflow-v1.json"

    public static func json(registry: StorageRegistry = .standard) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: document(registry), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A `${{ ... }}` expression, accepted wherever a value may be computed.
    static var expression: [String: Any] { ["type": "string", "pattern": #"\$\{\{"#] }

    static func orExpression(_ schema: [String: Any]) -> [String: Any] {
        ["anyOf": [schema, expression]]
    }

    static func range(_ r: ClosedRange<Int64>) -> [String: Any] {
        ["type": "integer", "minimum": r.lowerBound, "maximum": r.upperBound]
    }

    static var stringList: [String: Any] { ["anyOf": [["type": "string"], ["type": "array", "items": ["type": "string"]]]] }
    /// Durations: seconds, or text such as `500ms`, `2m`, `1h`.
    static var duration: [String: Any] { ["anyOf": [["type": "number", "minimum": 0], ["type": "string", "pattern": #"^\s*[0-9.]+\s*(ms|s|m|h|d)?\s*$"#]]] }
    /// Sizes: bytes, or text such as `64MiB`.
    static var byteSize: [String: Any] { ["anyOf": [["type": "integer", "minimum": 0], ["type": "string"]]] }

    static func schema(for type: ActionKind.ParameterType, name: String) -> [String: Any] {
        switch type {
        case .remoteLocation, .localPath, .anyLocation, .string: return ["type": "string"]
        case .bool: return orExpression(["type": "boolean"])
        case .integer: return orExpression(NumericLimits.parameter(name).map(range) ?? ["type": "integer"])
        case .byteSize: return byteSize
        case .stringList: return stringList
        case .stringMap: return ["type": "object", "additionalProperties": ["type": ["string", "number", "boolean"]]]
        case .choice(let values): return orExpression(["enum": values])
        case .expectations:
            return ["type": "object", "additionalProperties": false, "properties": [
                "exists": ["type": "boolean"], "size": byteSize, "min-size": byteSize, "max-size": byteSize,
                "content-type": ["type": "string"],
                "sha256": ["type": "string", "pattern": "^[0-9a-fA-F]{64}$"], "md5": ["type": "string", "pattern": "^[0-9a-fA-F]{32}$"],
                "json": ["type": "object"],
            ]]
        }
    }

    static func step() -> [String: Any] {
        let common: [String: Any] = [
            "action": ["enum": ActionKind.allCases.map(\.rawValue)],
            "description": ["type": "string"],
            "needs": stringList,
            "if": ["type": ["string", "boolean"]],
            "retry": ["anyOf": [range(NumericLimits.retryAttempts), [
                "type": "object", "additionalProperties": false,
                "properties": ["attempts": range(NumericLimits.retryAttempts), "backoff": duration, "max-backoff": duration],
            ]]],
            "timeout": duration,
            "continue-on-error": ["type": "boolean"],
        ]
        let branches: [[String: Any]] = ActionKind.allCases.map { action in
            var properties = common
            for parameter in action.parameters { properties[parameter.name] = schema(for: parameter.type, name: parameter.name) }
            return [
                "if": ["properties": ["action": ["const": action.rawValue]], "required": ["action"]],
                "then": ["properties": properties, "required": ["action"] + action.parameters.filter(\.required).map(\.name), "additionalProperties": false],
            ]
        }
        return ["type": "object", "required": ["action"], "properties": common, "allOf": branches]
    }

    static func schema(for kind: ProviderSetting.Kind) -> [String: Any] {
        switch kind {
        case .string: return ["type": "string"]
        case .url: return ["type": "string", "pattern": "^(https?://|\\$\\{\\{)"]
        case .bool: return orExpression(["type": "boolean"])
        case .bytes: return byteSize
        case .int(let r): return orExpression(range(r))
        case .choice(let words): return orExpression(["enum": words])
        }
    }

    /// Each provider's settings, from the provider registry.
    static func storage(_ registry: StorageRegistry) -> [String: Any] {
        let branches: [[String: Any]] = registry.providers.map { provider in
            var properties: [String: Any] = ["provider": ["const": provider.name], "credentials": ["type": "string"]]
            for setting in provider.settings { properties[setting.key] = schema(for: setting.kind) }
            var then: [String: Any] = ["properties": properties, "additionalProperties": false]
            let required = (provider.requiresCredentials ? ["credentials"] : []) + provider.settings.filter(\.required).map(\.key)
            if !required.isEmpty { then["required"] = required }
            return ["if": ["properties": ["provider": ["const": provider.name]], "required": ["provider"]], "then": then]
        }
        return ["type": "object", "required": ["provider"],
                "properties": ["provider": ["enum": registry.names]], "allOf": branches]
    }

    static func document(_ registry: StorageRegistry) -> [String: Any] {
        let schedule: [String: Any] = [
            "type": "object", "required": ["cron"], "additionalProperties": false,
            "properties": ["cron": ["type": "string"], "timezone": ["type": "string"]],
        ]
        let properties: [String: Any] = [
            "version": ["const": 1],
            "name": ["type": "string", "minLength": 1],
            "description": ["type": "string"],
            "vars": ["type": "object", "additionalProperties": ["type": ["string", "number", "boolean"]]],
            "storage": ["type": "object", "additionalProperties": ["$ref": "#/definitions/storage"]],
            "steps": ["type": "object", "minProperties": 1, "additionalProperties": ["$ref": "#/definitions/step"]],
            "schedule": ["anyOf": [schedule, ["type": "array", "items": schedule]]],
            "overlap": ["enum": OverlapPolicy.allCases.map(\.rawValue)],
            "keep": range(NumericLimits.keep),
            "concurrency": range(NumericLimits.concurrency),
        ]
        precondition(Set(properties.keys) == Set(Loader.topLevelKeys), "the schema's top-level keys must be the loader's")
        return [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": identifier,
            "title": "bucketflow workflow",
            "description": "A bucketflow workflow file (version 1). Generated from the tables `bucketflow validate` uses; validate also checks references, the step graph, cron expressions and bucket names.",
            "type": "object",
            "required": ["version", "name", "steps"],
            "additionalProperties": false,
            "properties": properties,
            "definitions": ["step": step(), "storage": storage(registry)],
        ]
    }
}
