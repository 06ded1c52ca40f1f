import Foundation

/// Listing: a walk of the bucket directory in key order that starts after the
/// continuation token and stops one key past the page, so a page costs the
/// directories it touches, not the whole tree.
extension LocalStorage {
    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        TransferMetrics.current?.recordRequest()
        let opened = try existingBucket(bucket)
        let position = try continuationToken.map(ListPosition.init(token:))
        return try await BlockingIO.run { flag in
            try self.listPageNow(
                bucket: opened, prefix: prefix, delimiter: delimiter.flatMap { $0.isEmpty ? nil : $0 },
                position: position, maxKeys: maxKeys, cancellation: flag)
        }
    }

    private func listPageNow(bucket: OpenBucket, prefix: String, delimiter: String?, position: ListPosition?, maxKeys: Int, cancellation: CancellationFlag) throws -> ListPage {
        let prefixBytes = Array(prefix.utf8)
        let delimiterBytes = delimiter.map { Array($0.utf8) }
        var walker = KeyWalker(bucket: bucket.handle, bucketPath: bucket.path, prefix: prefixBytes)
        if let position {
            walker.after = position.key
            if position.isPrefix { walker.skipPrefix = position.key }
        }
        let limit = max(1, maxKeys)
        var objects: [ObjectInfo] = []
        var prefixes: [String] = []
        var last: ListPosition?
        var truncated = false
        var visited = 0
        while let entry = try walker.next() {
            visited += 1
            if visited % 256 == 0 { try cancellation.check() }
            if objects.count + prefixes.count >= limit {
                truncated = true
                break
            }
            if let delimiterBytes, let end = Self.endOfFirst(delimiterBytes, in: entry.key, from: prefixBytes.count) {
                let common = Array(entry.key[..<end])
                prefixes.append(String(decoding: common, as: UTF8.self))
                walker.skipPrefix = common
                last = ListPosition(key: common, isPrefix: true)
                continue
            }
            let key = String(decoding: entry.key, as: UTF8.self)
            var file: Descriptor?
            if !entry.isFolder {
                // Metadata from the file itself, never through a link; unreadable files list without it.
                let fd = openat(entry.parent.fd, entry.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                if fd >= 0 { file = Descriptor(fd) }
            }
            objects.append(Self.objectInfo(key: key, fd: file?.fd, status: entry.status, isFolder: entry.isFolder))
            last = ListPosition(key: entry.key, isPrefix: false)
        }
        return ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: truncated, nextContinuationToken: truncated ? last?.token : nil)
    }

    /// The index just past the first `delimiter` in `key` at or after `start`.
    static func endOfFirst(_ delimiter: [UInt8], in key: [UInt8], from start: Int) -> Int? {
        guard !delimiter.isEmpty, key.count - start >= delimiter.count else { return nil }
        var index = start
        while index + delimiter.count <= key.count {
            if key[index] == delimiter[0], key[index..<(index + delimiter.count)].elementsEqual(delimiter) {
                return index + delimiter.count
            }
            index += 1
        }
        return nil
    }

    /// What listing and head report for one object.
    static func objectInfo(key: String, fd: Int32?, status st: stat, isFolder: Bool) -> ObjectInfo {
        if isFolder {
            return ObjectInfo(
                key: key, size: 0, lastModified: date(st), etag: emptySHA256,
                contentType: "application/x-directory", checksums: ["sha256": emptySHA256])
        }
        var metadata: [String: String] = [:]
        var contentType: String?
        let names = fd.map { Attributes.list(fd: $0) } ?? []
        for name in names {
            if name == Attributes.contentType {
                contentType = fd.flatMap { Attributes.get(fd: $0, name) }
            } else if name.utf8.starts(with: Attributes.metadataPrefix.utf8) {
                metadata[String(decoding: name.utf8.dropFirst(Attributes.metadataPrefix.utf8.count), as: UTF8.self)] = fd.flatMap { Attributes.get(fd: $0, name) }
            }
        }
        let sha256 = fd.flatMap { cachedSHA256(fd: $0, st) }
        // A `sha256` recorded as metadata (by skip-unchanged) describes the
        // bytes as written; a local file can change in place since, so it is
        // shown only while the stamp, which checks size and mtime, holds it.
        if let recorded = metadata["sha256"], recorded.lowercased() != sha256 { metadata["sha256"] = nil }
        return ObjectInfo(
            key: key, size: Int64(st.st_size), lastModified: date(st), etag: sha256,
            contentType: contentType ?? ContentTypes.guess(key), metadata: metadata,
            checksums: sha256.map { ["sha256": $0] } ?? [:])
    }

    /// Where a page ended: after a key, or after every key under a rolled-up
    /// prefix. The token is this, base64-encoded; it means nothing to callers.
    struct ListPosition {
        var key: [UInt8]
        var isPrefix: Bool

        init(key: [UInt8], isPrefix: Bool) {
            self.key = key
            self.isPrefix = isPrefix
        }

        init(token: String) throws(StorageError) {
            guard let data = Data(base64Encoded: token), let kind = data.first, kind == UInt8(ascii: "k") || kind == UInt8(ascii: "p") else {
                throw StorageError(.other, "the continuation token \"\(token)\" was not issued by the local provider", hint: "pass the nextContinuationToken of the previous page unchanged")
            }
            key = Array(data.dropFirst())
            isPrefix = kind == UInt8(ascii: "p")
        }

        var token: String {
            Data([isPrefix ? UInt8(ascii: "p") : UInt8(ascii: "k")] + key).base64EncodedString()
        }
    }
}

extension LocalStorage {
    /// Yields the keys of a bucket directory in UTF-8 byte order, one
    /// directory listing per level held at a time.
    ///
    /// Sorting each directory's entries by `name` (files) or `name/`
    /// (directories) gives the global key order, because every key under a
    /// directory starts with `name/`. Empty directories are the folder
    /// markers `name/`; temporary files are skipped.
    struct KeyWalker {
        struct Entry {
            /// The entry's name, plus `/` for a directory: its keys' common start.
            var sortKey: [UInt8]
            var isDirectory: Bool
        }

        struct Frame {
            var directory: Descriptor
            /// The key prefix of everything in this directory (`a/b/`, or empty at the top).
            var keyPrefix: [UInt8]
            var entries: [Entry]
            var index = 0
        }

        struct Item {
            var key: [UInt8]
            /// The folder holding the entry (for a folder marker: the folder itself).
            var parent: Descriptor
            var name: String
            var status: stat
            var isFolder: Bool
        }

        let bucket: Descriptor
        let bucketPath: String
        let prefix: [UInt8]
        /// Only keys strictly after this one.
        var after: [UInt8]?
        /// Keys starting with this are skipped (a prefix already rolled up).
        var skipPrefix: [UInt8]?
        private var stack: [Frame] = []
        private var pending: Item?
        private var started = false

        init(bucket: Descriptor, bucketPath: String, prefix: [UInt8]) {
            self.bucket = bucket
            self.bucketPath = bucketPath
            self.prefix = prefix
        }

        mutating func next() throws -> Item? {
            if !started {
                started = true
                start()
            }
            if let item = pending {
                pending = nil
                if wanted(item.key) { return item }
            }
            while !stack.isEmpty {
                let top = stack.count - 1
                let frame = stack[top]
                if let skipPrefix, frame.keyPrefix.starts(with: skipPrefix) {
                    stack.removeLast()
                    continue
                }
                guard frame.index < frame.entries.count else {
                    stack.removeLast()
                    continue
                }
                stack[top].index += 1
                let entry = frame.entries[frame.index]
                let key = frame.keyPrefix + entry.sortKey
                if !key.starts(with: prefix) && !(entry.isDirectory && prefix.starts(with: key)) {
                    // Sorted: once past the prefix, nothing later in this directory matches.
                    if Self.less(prefix, key) { stack.removeLast() }
                    continue
                }
                if let skipPrefix, key.starts(with: skipPrefix) { continue }
                let name = String(decoding: entry.sortKey.dropLast(entry.isDirectory ? 1 : 0), as: UTF8.self)
                if entry.isDirectory {
                    // Everything below starts with `key`: skip it whole when it all precedes `after`.
                    if let after, Self.less(key, after), !after.starts(with: key) { continue }
                    // Never through a link (one swapped in since the directory was read is skipped).
                    guard case .directory(let child) = Beneath.openDirectory(frame.directory.fd, name) else { continue }
                    if let item = enter(child, name: name, keyPrefix: key), wanted(item.key) { return item }
                    continue
                }
                if let after, !Self.less(after, key) { continue }
                let (kind, st) = Beneath.kind(frame.directory.fd, name)
                guard kind == .regular else { continue }
                return Item(key: key, parent: frame.directory, name: name, status: st, isFolder: false)
            }
            return nil
        }

        private func wanted(_ key: [UInt8]) -> Bool {
            guard key.starts(with: prefix) else { return false }
            if let skipPrefix, key.starts(with: skipPrefix) { return false }
            if let after, !Self.less(after, key) { return false }
            return true
        }

        /// Starts in the deepest directory the prefix names in full.
        private mutating func start() {
            guard let slash = prefix.lastIndex(of: UInt8(ascii: "/")) else {
                _ = enter(bucket, name: "", keyPrefix: [])
                return
            }
            let directoryPart = Array(prefix[...slash])
            let segments = directoryPart.dropLast().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            let temporary = Array(LocalStorage.temporaryPrefix.utf8)
            for segment in segments {
                // No key has such a segment, so nothing can match.
                if segment.isEmpty || segment.elementsEqual([0x2e]) || segment.elementsEqual([0x2e, 0x2e]) || segment.starts(with: temporary) { return }
            }
            // A folder behind a link lists as missing: links are skipped, never followed.
            let names = segments.map { String(decoding: $0, as: UTF8.self) }
            guard let chain = try? Beneath.walk(from: bucket, names, create: false) else { return }
            pending = enter(chain[chain.count - 1], name: names[names.count - 1], keyPrefix: directoryPart)
        }

        /// Pushes a directory, or returns its folder marker when it is empty.
        private mutating func enter(_ directory: Descriptor, name directoryName: String, keyPrefix: [UInt8]) -> Item? {
            guard let listed = Beneath.entries(of: directory.fd) else { return nil }
            var entries: [Entry] = []
            let isEmpty = listed.isEmpty
            let temporary = Array(LocalStorage.temporaryPrefix.utf8)
            for (name, type) in listed {
                if name.starts(with: temporary) { continue }
                // A key must be UTF-8; other names cannot be addressed, so are not listed.
                guard String(validating: name, as: UTF8.self) != nil else { continue }
                switch Int32(type) {
                case Int32(DT_DIR):
                    entries.append(Entry(sortKey: name + [UInt8(ascii: "/")], isDirectory: true))
                case Int32(DT_REG):
                    entries.append(Entry(sortKey: name, isDirectory: false))
                case Int32(DT_UNKNOWN):
                    // A file system without d_type: ask, without following.
                    switch Beneath.kind(directory.fd, String(decoding: name, as: UTF8.self)).0 {
                    case .regular: entries.append(Entry(sortKey: name, isDirectory: false))
                    case .directory: entries.append(Entry(sortKey: name + [UInt8(ascii: "/")], isDirectory: true))
                    default: continue
                    }
                default:
                    // Symbolic links (to files or folders) and devices are
                    // not objects: skipped, never followed.
                    continue
                }
            }
            if isEmpty {
                guard !keyPrefix.isEmpty else { return nil }
                var st = stat()
                guard fstat(directory.fd, &st) == 0 else { return nil }
                return Item(key: keyPrefix, parent: directory, name: directoryName, status: st, isFolder: true)
            }
            entries.sort { Self.less($0.sortKey, $1.sortKey) }
            var frame = Frame(directory: directory, keyPrefix: keyPrefix, entries: entries)
            frame.index = startIndex(of: frame)
            stack.append(frame)
            return nil
        }

        /// The first entry that may hold a key after `after`, by binary search.
        private func startIndex(of frame: Frame) -> Int {
            guard let after, after.starts(with: frame.keyPrefix) else { return 0 }
            let relative = Array(after[frame.keyPrefix.count...])
            var low = 0, high = frame.entries.count
            while low < high {
                let middle = (low + high) / 2
                if Self.less(frame.entries[middle].sortKey, relative) { low = middle + 1 } else { high = middle }
            }
            // The directory just before may contain `after` itself and keys past it.
            if low > 0, frame.entries[low - 1].isDirectory, relative.starts(with: frame.entries[low - 1].sortKey) { return low - 1 }
            return low
        }

        static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            a.lexicographicallyPrecedes(b)
        }
    }
}
