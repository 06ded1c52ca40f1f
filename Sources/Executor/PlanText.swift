import Storage

/// Wording for plans that could not read the remote side.
enum PlanText {
    static func unknown(_ error: StorageError) -> String {
        if error.code == .noSuchBucket {
            return "(nothing there yet: \(error.message) now; an earlier step may create it)"
        }
        return "(remote state unknown: \(error.message))"
    }
}
