public import Foundation

/// The hosted data area behind `data://NAMESPACE/path`: a directory whose
/// sub-directories are namespaces; `.my` is the current user's.
///
/// Credential files and shared inputs live here, so workflows name them the
/// same way on every machine (`data://.my/BackblazeCredentials/credentials.json`)
/// while the root moves with `--data-dir` or `$BUCKETFLOW_DATA_DIR`.
public struct DataArea: Sendable {
    public let root: URL
    public let userName: String

    public init(root: URL, userName: String) {
        self.root = root.standardizedFileURL
        self.userName = userName
    }

    /// `NAMESPACE/rest` (the part after `data://`) as a file URL under ``root``.
    ///
    /// A trailing `/` is kept (the URL is a directory URL then).
    ///
    /// Symbolic links are not followed below the root (the root itself may
    /// be a link): every component that exists is checked with
    /// `O_NOFOLLOW`, and a link among them is refused. Components that do
    /// not exist yet are fine (a download may create them).
    ///
    /// - Throws: ``StorageError`` `.invalidKey` when the path names no
    ///   namespace or has a `..` segment (it could leave the area),
    ///   `.unsafePath` when an existing component is a symbolic link, and
    ///   `.invalidConfiguration` when `.my` is used with a user name that is
    ///   not a folder name.
    public func resolve(_ path: String) throws(StorageError) -> URL {
        let segments = try resolvedSegments(path)
        let base = root.path + (root.path.hasSuffix("/") ? "" : "/")
        let resolved = base + segments.joined(separator: "/")
        try checkNoLinks(segments, display: path)
        return URL(fileURLWithPath: resolved, isDirectory: path.utf8.last == UInt8(ascii: "/"))
    }

    /// The folder names below the root that `path` designates.
    func resolvedSegments(_ path: String) throws(StorageError) -> [String] {
        // Bytes, not Characters: a combining mark after '/' must not hide a '..' segment.
        var segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        guard let namespace = segments.first, namespace != "." else {
            throw StorageError(.invalidKey, "data://\(path) names no namespace", hint: "write data://.my/folder/file for your own files or data://NAMESPACE/folder/file")
        }
        if segments.contains("..") {
            throw StorageError(.invalidKey, "data://\(path) may not contain '..' segments", hint: "name the file from its namespace down, e.g. data://.my/folder/file")
        }
        segments.removeAll { $0 == "." }
        if namespace == ".my" {
            guard !userName.isEmpty, userName != ".", userName != "..", !userName.utf8.contains(UInt8(ascii: "/")), !userName.utf8.contains(0) else {
                throw StorageError(.invalidConfiguration, "data://\(path) cannot be resolved: the user name \"\(userName)\" is not usable as a folder name", hint: "set $USER to your user name")
            }
            segments[0] = userName
        }
        if segments.contains(where: { $0.utf8.contains(0) }) {
            throw StorageError(.invalidKey, "data://\(path) contains a NUL character")
        }
        return segments
    }

    /// Refuses a symbolic link among the existing components of `segments`
    /// below the root.
    func checkNoLinks(_ segments: [String], display: String) throws(StorageError) {
        guard let rootHandle = Beneath.openTrusted(root.path) else { return }  // no area yet: nothing to follow
        let folders = segments.dropLast()
        let shownRoot = LocalStorage.trimmingTrailingSlashes(root.path)
        func refuse(_ count: Int) -> StorageError {
            Beneath.symlinkRefused(
                shownRoot + "/" + segments.prefix(count).joined(separator: "/") + " (in data://\(display))", root: shownRoot, what: "data area")
        }
        let chain: [Descriptor]
        do {
            chain = try Beneath.walk(from: rootHandle, folders, create: false)
        } catch {
            switch error {
            case .symlink(let index): throw refuse(index + 1)
            case .missing, .notDirectory, .failed: return  // reading or writing it fails with its own error
            }
        }
        if let last = segments.last, Beneath.kind(chain[chain.count - 1].fd, last).0 == .symlink {
            throw refuse(segments.count)
        }
    }

    /// The bytes of the file at `data://path`, read through descriptors
    /// opened without following any link below the root (no window for a
    /// link swapped in after ``resolve(_:)``). Files over `limit` bytes are refused.
    public func contents(of path: String, limit: Int = 64 << 20) throws(StorageError) -> [UInt8] {
        let url = try resolve(path)
        let segments = try resolvedSegments(path)
        guard let rootHandle = Beneath.openTrusted(root.path) else {
            throw LocalStorage.ioError("cannot read", url.path, errno == 0 ? ENOENT : errno)
        }
        let chain: [Descriptor]
        do {
            chain = try Beneath.walk(from: rootHandle, segments.dropLast(), create: false)
        } catch {
            switch error {
            case .symlink: throw Beneath.symlinkRefused(url.path, root: root.path, what: "data area")
            case .missing, .notDirectory: throw LocalStorage.ioError("cannot read", url.path, ENOENT)
            case .failed(_, let code): throw LocalStorage.ioError("cannot read", url.path, code)
            }
        }
        let fd = openat(chain[chain.count - 1].fd, segments[segments.count - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw Beneath.symlinkRefused(url.path, root: root.path, what: "data area") }
            throw LocalStorage.ioError("cannot read", url.path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LocalStorage.ioError("cannot read", url.path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw StorageError(.io, "cannot read \(url.path): it is not a regular file") }
        guard st.st_size <= limit else { throw StorageError(.io, "cannot read \(url.path): it has \(st.st_size) bytes, more than the \(limit) allowed") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw LocalStorage.ioError("cannot read", url.path) }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > limit { throw StorageError(.io, "cannot read \(url.path): it grew past the \(limit) bytes allowed") }
        }
        return bytes
    }

    /// `$BUCKETFLOW_DATA_DIR`, else `$XDG_DATA_HOME/bucketflow/data`, else
    /// `~/.local/share/bucketflow/data` (the XDG default for user data).
    public static func defaultRoot(environment: [String: String]) -> URL {
        if let dir = environment["BUCKETFLOW_DATA_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir).standardizedFileURL }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("bucketflow/data").standardizedFileURL
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/bucketflow/data").standardizedFileURL
    }

    /// `$USER`, else the password database's name for this uid, else "user".
    public static func currentUserName(environment: [String: String]) -> String {
        if let user = environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name {
            let text = String(cString: name)
            if !text.isEmpty { return text }
        }
        return "user"
    }
}
