public import Foundation
import Synchronization

/// The unfinished multipart uploads (S3) and large files (B2) this machine's
/// runs started, so that a run killed mid-upload (SIGKILL, power loss) does
/// not leave parts billed forever: the next run aborts them.
///
/// A directory (the state directory's `uploads/`) of small JSON files, one
/// per upload, written as soon as the service has named the upload and
/// removed once it completes or is aborted. ``abandoned(provider:endpoint:)``
/// lists the entries whose writing process is gone (its pid is dead, or
/// reused by a process started later), for the provider to abort.
public struct UploadJournal: Sendable {
    /// One unfinished upload.
    public struct Entry: Codable, Sendable, Equatable {
        /// `s3` or `b2`.
        public var provider: String
        /// The service's endpoint (S3) or authorization URL (B2), as the
        /// configuration names it: only a storage with the same endpoint aborts it.
        public var endpoint: String
        public var bucket: String
        public var key: String
        /// The S3 upload id or the B2 large file id; empty while the request
        /// starting the upload is in flight (see ``isPending``).
        public var uploadID: String
        /// Names the file of a pending entry (no upload id yet).
        public var nonce: String?
        /// The process that started the upload.
        public var pid: Int32
        /// That process's start time (`/proc/<pid>/stat` field 22, clock
        /// ticks since boot), telling a reused pid from the writer; nil when unknown.
        public var processStart: UInt64?
        /// When the upload was started.
        public var startedAt: Date

        public init(provider: String, endpoint: String, bucket: String, key: String, uploadID: String,
                    pid: Int32 = getpid(), processStart: UInt64? = UploadJournal.startTime(of: getpid()), startedAt: Date = Date()) {
            self.provider = provider
            self.endpoint = endpoint
            self.bucket = bucket
            self.key = key
            self.uploadID = uploadID
            self.pid = pid
            self.processStart = processStart
            self.startedAt = startedAt
        }

        /// An upload whose start was requested but whose id never came
        /// back: a process killed meanwhile may have left an upload of
        /// `key` that only a listing can find.
        public var isPending: Bool { uploadID.isEmpty }

        /// A pending entry for `key` (see ``isPending``), noted before the
        /// request that starts the upload is sent.
        public static func pending(provider: String, endpoint: String, bucket: String, key: String) -> Entry {
            var entry = Entry(provider: provider, endpoint: endpoint, bucket: bucket, key: key, uploadID: "")
            entry.nonce = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            return entry
        }
    }

    /// The journal's folder (created on the first write, mode 0700).
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The file name of an entry: a hash of what identifies the upload, so
    /// that completing or aborting it finds the file without remembering it.
    static func fileName(provider: String, endpoint: String, uploadID: String) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in "\(provider)\n\(endpoint)\n\(uploadID)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return "\(provider)-\(String(hash, radix: 16)).json"
    }

    func url(of entry: Entry) -> URL {
        if entry.isPending {
            return directory.appendingPathComponent("\(entry.provider)-pending-\(entry.pid)-\(entry.nonce ?? "0").json")
        }
        return directory.appendingPathComponent(Self.fileName(provider: entry.provider, endpoint: entry.endpoint, uploadID: entry.uploadID))
    }

    /// Removes an entry's file (a pending one once its upload has an id).
    public func remove(_ entry: Entry) {
        unlink(url(of: entry).path)
    }

    /// Writes `entry` (atomically: a reader never sees half of it).
    public func record(_ entry: Entry) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(entry).write(to: url(of: entry), options: .atomic)
    }

    /// Removes the entry of an upload that completed or was aborted.
    public func remove(provider: String, endpoint: String, uploadID: String) {
        unlink(directory.appendingPathComponent(Self.fileName(provider: provider, endpoint: endpoint, uploadID: uploadID)).path)
    }

    /// Every readable entry, with its file.
    public func entries() -> [(url: URL, entry: Entry)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return names.sorted().compactMap { name in
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { return nil }
            let url = directory.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url), let entry = try? decoder.decode(Entry.self, from: data) else { return nil }
            return (url, entry)
        }
    }

    /// The entries of `provider` at `endpoint` whose process is gone: the
    /// uploads to abort.
    public func abandoned(provider: String, endpoint: String) -> [Entry] {
        entries().map(\.entry).filter {
            $0.provider == provider && $0.endpoint == endpoint && !Self.isAlive(pid: $0.pid, startedAt: $0.processStart)
        }
    }

    /// Whether the process `pid` (started at `startedAt` clock ticks, when
    /// known) still runs. A zombie counts as gone.
    public static func isAlive(pid: Int32, startedAt: UInt64?) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let fields = statFields(of: pid) else {
            // No /proc (or it vanished meanwhile): trust kill().
            return kill(pid, 0) == 0 || errno == EPERM
        }
        if fields.state == "Z" || fields.state == "X" { return false }
        if let startedAt, let now = fields.start, now != startedAt { return false }
        return true
    }

    /// A process's start time in clock ticks since boot, from `/proc`.
    public static func startTime(of pid: Int32) -> UInt64? {
        statFields(of: pid)?.start
    }

    /// State and start time from `/proc/<pid>/stat` (the command name, in
    /// parentheses, may itself hold spaces and parentheses: parse after the last `)`).
    static func statFields(of pid: Int32) -> (state: Character, start: UInt64?)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
        guard let state = rest.first?.first else { return nil }
        return (state, rest.count > 19 ? UInt64(rest[19]) : nil)
    }
}
