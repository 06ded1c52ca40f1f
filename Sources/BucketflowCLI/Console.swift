import Foundation

/// Line-oriented output. Progress and results go to stdout, problems to
/// stderr; no colour or animation, so cron mails and log files stay clean.
enum Console {
    private static let lock = NSLock()

    static func out(_ line: String) {
        write(line + "\n", to: FileHandle.standardOutput)
    }

    static func error(_ line: String) {
        write(line + "\n", to: FileHandle.standardError)
    }

    private static func write(_ text: String, to handle: FileHandle) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(text.utf8))
    }
}
