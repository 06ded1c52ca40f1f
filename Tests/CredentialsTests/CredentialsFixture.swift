import Foundation

/// A private directory per test for credential files; removed afterwards.
final class CredentialsFixture {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-creds-\(UUID().uuidString)")
    /// Looks like a Backblaze application key; must never appear in a message.
    static let secret = "K000c1ab70e8f7c67cf9d59128e3a3c"
    static let keyID = "000af74d6bf3db30000000001"

    init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url
    }
}
