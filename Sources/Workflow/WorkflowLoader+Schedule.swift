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
        for entry in entries {
            guard let pairs = entry.mapping else {
                error(entry.mark, "a schedule entry must be a mapping like {cron: \"30 2 * * *\", timezone: UTC}")
                continue
            }
            for pair in pairs where !["cron", "timezone"].contains(pair.key.string ?? "") {
                error(pair.key.mark, "unknown key \"\(pair.key.string ?? "")\" in schedule entry\(Suggestions.hint(for: pair.key.string ?? "", in: ["cron", "timezone"]))")
            }
            guard let cronNode = entry["cron"], let cron = cronNode.string, cronNode.scalar != nil else {
                error(entry.mark, "schedule entry is missing required key \"cron\"")
                continue
            }
            var zone = "UTC"
            if let zoneNode = entry["timezone"] {
                if let z = zoneNode.string {
                    do {
                        _ = try CronTimeZone.named(z)
                        zone = z
                    } catch {
                        self.error(zoneNode.mark, error.message)
                        continue
                    }
                } else {
                    error(zoneNode.mark, "`timezone` must be an IANA name such as Europe/Berlin")
                }
            }
            do {
                _ = try CronExpression(cron)
            } catch {
                let quoted = cronNode.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
                let mark = YAMLMark(line: cronNode.mark.line, column: cronNode.mark.column + (quoted ? 1 : 0) + error.offset)
                self.error(mark, "invalid cron expression \"\(cron)\": \(error.message)")
                continue
            }
            result.append(ScheduleSpec(cron: cron, timeZone: zone, mark: cronNode.mark))
        }
        return result
    }
}
