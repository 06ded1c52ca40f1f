import YAML
import Cron

extension Loader {
    // MARK: schedule

    mutating func loadSchedules(_ node: YAMLNode?) -> [ScheduleSpec] {
        guard let node, !node.isNull else { return [] }
        let entries: [YAMLNode]
        if let list = node.sequence { entries = list } else if node.mapping != nil { entries = [node] } else {
            error(node.mark, "`schedule` must be a list of {cron: \"30 2 * * *\", timezone: Europe/Berlin} entries")
            return []
        }
        var result: [ScheduleSpec] = []
        var zoneProblems: [String: String?] = [:]   // each distinct zone is looked up once
        for entry in entries {
            guard let pairs = entry.mapping else {
                error(entry.mark, "a schedule entry must be a mapping like {cron: \"30 2 * * *\", timezone: UTC}")
                continue
            }
            for pair in pairs where !["cron", "timezone"].contains(pair.key.string ?? "") {
                error(pair.key.mark, "unknown key \"\(Self.clip(pair.key.string ?? ""))\" in schedule entry\(hints.hint(for: pair.key.string ?? "", in: ["cron", "timezone"]))")
            }
            guard let cronNode = entry["cron"], let cron = cronNode.string, cronNode.scalar != nil else {
                error(entry.mark, "schedule entry is missing required key \"cron\"")
                continue
            }
            var zone = "UTC"
            if let zoneNode = entry["timezone"] {
                if let z = zoneNode.string, zoneNode.scalar != nil {
                    // Checked before the zone database is asked: no paths, no huge names.
                    let plausible = z.utf8.count <= 64 && !z.contains("..") && !z.hasPrefix("/")
                        && z.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "/_+-".unicodeScalars.contains($0)) }
                    guard plausible else {
                        error(zoneNode.mark, "unknown time zone \"\(Self.clip(z))\"; use an IANA name such as Europe/Berlin, America/New_York or UTC")
                        continue
                    }
                    if zoneProblems[z] == nil {
                        do {
                            _ = try CronTimeZone.named(z)
                            zoneProblems[z] = .some(nil)
                        } catch {
                            zoneProblems[z] = .some(error.message)
                        }
                    }
                    if let problem = zoneProblems[z] ?? nil {
                        error(zoneNode.mark, problem)
                        continue
                    }
                    zone = z
                } else {
                    error(zoneNode.mark, "`timezone` must be an IANA name such as Europe/Berlin")
                }
            }
            do {
                _ = try CronExpression(cron)
            } catch {
                let quoted = cronNode.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
                let mark = YAMLMark(line: cronNode.mark.line, column: cronNode.mark.column + (quoted ? 1 : 0) + error.offset)
                self.error(mark, "invalid cron expression \"\(Self.clip(cron))\": \(error.message)")
                continue
            }
            result.append(ScheduleSpec(cron: cron, timeZone: zone, mark: cronNode.mark))
        }
        return result
    }
}
