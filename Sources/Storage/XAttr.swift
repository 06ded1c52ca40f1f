import Foundation
internal import CXattr

/// Best-effort extended attributes (Linux `user.*`): on a file system
/// without them, reads find nothing and writes are dropped.
enum XAttr {
    static func get(_ path: String, _ name: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = getxattr(path, name, &buffer, buffer.count)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    static func set(_ path: String, _ name: String, _ value: String) {
        _ = value.withCString { setxattr(path, name, $0, strlen($0), 0) }
    }

    static func remove(_ path: String, _ name: String) {
        _ = removexattr(path, name)
    }

    static func list(_ path: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = listxattr(path, &buffer, buffer.count)
        guard count > 0 else { return [] }
        return buffer[0..<count].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }
}
