public import Foundation

/// Resolves the `timezone:` of a schedule entry.
public enum CronTimeZone {
    /// Resolves an IANA time zone name such as `Europe/Berlin` or `UTC`.
    ///
    /// Only IANA names are accepted (`Area/Location`, plus `UTC` and `GMT`):
    /// abbreviations like `CET` or `PST` are ambiguous or ignore daylight
    /// saving time, and a schedule should not depend on how a platform
    /// happens to interpret them.
    ///
    /// - Parameter name: The IANA name, exactly as in the tz database (case matters).
    /// - Returns: The zone.
    /// - Throws: A ``CronError`` (offset 0) naming the closest known zone when
    ///   there is one, e.g. `unknown time zone "Europe/Berln"; use an IANA name
    ///   such as Europe/Berlin`.
    public static func named(_ name: String) throws(CronError) -> TimeZone {
        if name == "UTC" || name == "GMT" || name.contains("/") || TimeZone.knownTimeZoneIdentifiers.contains(name),
           let zone = TimeZone(identifier: name) {
            return zone
        }
        if let zones = abbreviations[name.uppercased()] {
            throw CronError(message: "\"\(name)\" is a time zone abbreviation, not a zone: it names no daylight-saving rules; use an IANA name such as \(zones)", offset: 0)
        }
        // Short all-letter names are abbreviations; an edit-distance match
        // (CET → GMT) would suggest a different zone.
        let looksAbbreviated = name.count <= 5 && name.allSatisfy { $0.isLetter && $0.isUppercase }
        let example = (looksAbbreviated ? nil : closestKnownName(to: name)) ?? "Europe/Berlin, America/New_York or UTC"
        throw CronError(message: "unknown time zone \"\(name)\"; use an IANA name such as \(example)", offset: 0)
    }

    /// Common abbreviations and the zones people usually mean by them.
    static let abbreviations: [String: String] = [
        "CET": "Europe/Berlin, Europe/Paris or Europe/Madrid", "CEST": "Europe/Berlin, Europe/Paris or Europe/Madrid",
        "MET": "Europe/Berlin", "EET": "Europe/Helsinki or Europe/Athens", "EEST": "Europe/Helsinki or Europe/Athens",
        "WET": "Europe/Lisbon", "WEST": "Europe/Lisbon", "BST": "Europe/London", "IST": "Asia/Kolkata or Europe/Dublin",
        "EST": "America/New_York", "EDT": "America/New_York", "CST": "America/Chicago or Asia/Shanghai", "CDT": "America/Chicago",
        "MST": "America/Denver or America/Phoenix", "MDT": "America/Denver", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
        "AKST": "America/Anchorage", "HST": "Pacific/Honolulu", "JST": "Asia/Tokyo", "KST": "Asia/Seoul",
        "AEST": "Australia/Sydney or Australia/Brisbane", "AEDT": "Australia/Sydney", "NZST": "Pacific/Auckland", "MSK": "Europe/Moscow",
    ]

    /// The known zone name nearest to a misspelt one, if it is near enough
    /// to be a likely typo (case differences count as nothing).
    static func closestKnownName(to name: String) -> String? {
        let wanted = Array(name.lowercased())
        guard !wanted.isEmpty else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in TimeZone.knownTimeZoneIdentifiers + ["UTC"] {
            let distance = editDistance(wanted, Array(candidate.lowercased()))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best, best.distance <= max(2, wanted.count / 4) else { return nil }
        return best.name
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
