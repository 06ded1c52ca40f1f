import Foundation
internal import CXattr

extension LocalStorage {
    /// Extended attributes (Linux `user.*`) where the local provider keeps
    /// what a plain file cannot say about itself: content type, user
    /// metadata, a cached SHA-256 and the explicit-folder mark.
    ///
    /// Everything here is best effort: on a file system without user xattrs
    /// reads find nothing and writes are dropped, so objects simply have no
    /// stored metadata there. Values of any size are read (the size is asked
    /// first), so long metadata is not silently cut.
    enum Attributes {
        static let prefix = "user.bucketflow."
        static let contentType = "user.bucketflow.content-type"
        static let sha256 = "user.bucketflow.sha256"
        static let metadataPrefix = "user.bucketflow.meta."
        /// Marks a directory created as a folder marker (`dir/`), which S3
        /// keeps after its contents are deleted, unlike an implicit parent.
        static let folder = "user.bucketflow.folder"

        static func get(_ path: String, _ name: String) -> String? {
            for _ in 0..<3 {
                let size = lgetxattr(path, name, nil, 0)
                guard size >= 0 else { return nil }
                if size == 0 { return "" }
                var buffer = [UInt8](repeating: 0, count: size)
                let count = lgetxattr(path, name, &buffer, size)
                if count >= 0 { return String(decoding: buffer[0..<count], as: UTF8.self) }
                if errno != ERANGE { return nil }  // ERANGE: it grew in between; ask again
            }
            return nil
        }

        static func list(_ path: String) -> [String] {
            for _ in 0..<3 {
                let size = llistxattr(path, nil, 0)
                guard size > 0 else { return [] }
                var buffer = [CChar](repeating: 0, count: size)
                let count = llistxattr(path, &buffer, size)
                if count >= 0 {
                    return buffer[0..<count].split(separator: 0).map {
                        String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    }
                }
                if errno != ERANGE { return [] }
            }
            return []
        }

        static func set(_ path: String, _ name: String, _ value: String) {
            var bytes = Array(value.utf8)
            _ = lsetxattr(path, name, &bytes, bytes.count, 0)
        }

        /// Sets an attribute on an open file, so a temporary file carries its
        /// metadata before it is renamed into place.
        static func set(fd: Int32, _ name: String, _ value: String) {
            var bytes = Array(value.utf8)
            _ = fsetxattr(fd, name, &bytes, bytes.count, 0)
        }

        static func get(fd: Int32, _ name: String) -> String? {
            for _ in 0..<3 {
                let size = fgetxattr(fd, name, nil, 0)
                guard size >= 0 else { return nil }
                if size == 0 { return "" }
                var buffer = [UInt8](repeating: 0, count: size)
                let count = fgetxattr(fd, name, &buffer, size)
                if count >= 0 { return String(decoding: buffer[0..<count], as: UTF8.self) }
                if errno != ERANGE { return nil }
            }
            return nil
        }

        static func list(fd: Int32) -> [String] {
            for _ in 0..<3 {
                let size = flistxattr(fd, nil, 0)
                guard size > 0 else { return [] }
                var buffer = [CChar](repeating: 0, count: size)
                let count = flistxattr(fd, &buffer, size)
                if count >= 0 {
                    return buffer[0..<count].split(separator: 0).map {
                        String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    }
                }
                if errno != ERANGE { return [] }
            }
            return []
        }

        static func remove(fd: Int32, _ name: String) {
            _ = fremovexattr(fd, name)
        }

        /// ``portable(_:)`` of an open file.
        static func portable(fd: Int32) -> [(String, String)] {
            list(fd: fd).filter { $0 == contentType || $0.utf8.starts(with: metadataPrefix.utf8) }.compactMap { name in
                get(fd: fd, name).map { (name, $0) }
            }
        }

        static func remove(_ path: String, _ name: String) {
            _ = lremovexattr(path, name)
        }

        /// The attributes an object carries from one place to another on a
        /// copy: content type and user metadata (not the checksum stamp,
        /// which belongs to the file it was computed on).
        static func portable(_ path: String) -> [(String, String)] {
            list(path).filter { $0 == contentType || $0.utf8.starts(with: metadataPrefix.utf8) }.compactMap { name in
                get(path, name).map { (name, $0) }
            }
        }
    }
}
