import Foundation
public import Storage

/// `provider: local`: a directory whose sub-directories are buckets.
public struct LocalProvider: StorageProvider {
    public init() {}

    public let name = "local"
    public let summary = "a directory on this machine whose sub-directories are buckets"
    public let settings: [ProviderSetting] = [
        ProviderSetting("root", .string, required: true, example: "./buckets",
                        doc: "the directory whose sub-directories are buckets, relative to this file"),
    ]
    public let requiresCredentials = false
    public var bucketNaming: BucketNamingRule { BucketNames.localRule }
    public let capabilities = ProviderCapabilities(
        multipart: false, serverSideCopy: true, rangedReads: true,
        skipUnchangedChecksums: ["sha256"], keepsUserMetadata: true, folderMarkers: false)

    public func make(settings: ProviderSettings, credentials: ProviderCredentials?, context: ProviderContext) throws -> any ObjectStorage {
        guard let root = settings.string("root"), !root.isEmpty else {
            throw StorageError(.invalidConfiguration, "storage \"\(settings.storageName)\" has no `root`")
        }
        return LocalStorage(root: URL(fileURLWithPath: root, relativeTo: context.workflowDirectory).standardizedFileURL)
    }
}
