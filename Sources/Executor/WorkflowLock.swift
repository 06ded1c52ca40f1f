public import Foundation

/// A per-workflow lock held for the length of a run.
///
/// It is an `flock(2)` on a file, not a pid file: the kernel drops it when the
/// process dies, however it dies, so a crashed or SIGKILLed run never blocks
/// the next one. The file holds the holder's pid and start time so a refused
/// run can say who holds it.
public final class WorkflowLock: Sendable {
    public struct Holder: Sendable, Hashable {
        public var pid: Int32
        public var startedAt: String
        public var runID: String
    }

    public enum Failure: Error, Sendable {
        case held(by: Holder?)
        case io(String)
    }

    private let fd: Int32
    public let url: URL

    private init(fd: Int32, url: URL) {
        self.fd = fd
        self.url = url
    }

    deinit { close(fd) }

    /// Takes the lock.
    ///
    /// - Parameter wait: Block until the lock is free (`overlap: queue`)
    ///   instead of failing at once.
    public static func acquire(at url: URL, runID: String, startedAt: String, wait: Bool) throws(Failure) -> WorkflowLock {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(url.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot open lock file \(url.path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            let holder = readHolder(fd)
            close(fd)
            if errno == EWOULDBLOCK || errno == EAGAIN { throw .held(by: holder) }
            throw .held(by: holder)
        }
        let text = "\(getpid()) \(startedAt) \(runID)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return WorkflowLock(fd: fd, url: url)
    }

    /// Who holds the lock at `url` right now, or nil when nobody does.
    public static func holder(at url: URL) -> Holder? {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return nil
        }
        return readHolder(fd)
    }

    private static func readHolder(_ fd: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let parts = String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 3, let pid = Int32(parts[0]) else { return nil }
        return Holder(pid: pid, startedAt: String(parts[1]), runID: String(parts[2]))
    }
}
