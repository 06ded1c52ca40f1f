#!/usr/bin/env python3
"""Generates croniter_cases.json, the reference the Swift Cron target is tested against.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install croniter==7.0.0
    /tmp/venv/bin/python Tests/CronTests/Fixtures/make_croniter_fixture.py

Each case is (expression, IANA zone, start instant) -> the next 5 fire times as
ISO 8601 with offset. The expected times come from croniter (pinned below).

A second, independent reference runs too: `documented_next`, a brute-force
scan over UTC minutes that implements docs/cron.md literally (its own small
field parser; Vixie's day-of-month/day-of-week rule; ISC cron's daylight
saving rules with zoneinfo). It runs for every case whose croniter fire
times lie within 58 days of the start, and for every predicted deviation.
Where it and croniter disagree, the case must be covered by one of the
documented DEVIATIONS below (each a predicate over the case and croniter's
answer, with a reason string); the case then expects the documented behaviour
and also records croniter's answer. A disagreement no deviation explains, or a
deviation predicted where both agree, stops the generator: nothing is skipped
silently.
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from zoneinfo import ZoneInfo

from croniter import croniter

CRONITER_VERSION = "7.0.0"
if version("croniter") != CRONITER_VERSION:
    sys.exit(f"croniter {CRONITER_VERSION} required (pip install croniter=={CRONITER_VERSION}), found {version('croniter')}")

COUNT = 5
ORACLE_DAYS = 60

# ---------------------------------------------------------------------------
# The documented behaviour, independently of croniter and of the Swift code.

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
NAMES = {3: "jan feb mar apr may jun jul aug sep oct nov dec".split(), 4: "sun mon tue wed thu fri sat".split()}


def parse(expression):
    """-> (five value sets, five starts-with-* flags)."""
    fields = MACROS.get(expression.strip().lower(), expression).split()
    assert len(fields) == 5, expression
    sets = []
    for i, field in enumerate(fields):
        low, high = RANGES[i]
        open_end = 6 if i == 4 else high

        def value(text):
            if text.isdigit():
                return int(text)
            names = NAMES[i]
            return names.index(text.lower()) + (1 if i == 3 else 0)

        values = set()
        for item in field.split(","):
            part, slash, step = item.partition("/")
            step = int(step) if slash else 1
            if part == "*":
                a, b = low, open_end
            elif "-" in part:
                a, b = (value(x) for x in part.split("-"))
            else:
                a = value(part)
                b = open_end if slash else a
            values.update(range(a, b + 1, step))
        if i == 4 and 7 in values:
            values.discard(7)
            values.add(0)
        sets.append(values)
    return sets, [f.startswith("*") for f in fields]


def wall_matches(parsed, wall):
    (minutes, hours, days, months, weekdays), stars = parsed
    if wall.minute not in minutes or wall.hour not in hours or wall.month not in months:
        return False
    dom = wall.day in days
    dow = (wall.weekday() + 1) % 7 in weekdays
    return (dom and dow) if (stars[2] or stars[4]) else (dom or dow)


def documented_next(expression, zone, start, count=COUNT, days=ORACLE_DAYS):
    """Brute force over UTC minutes: fires at t when
    - the wall time at t matches, and the job is a wildcard job (minute or
      hour field starts with *) or t is the wall time's first occurrence; or
    - the job is fixed-time, the clocks jumped forward at t, and a skipped
      wall time matches (it runs once, at the first instant after the gap)."""
    parsed = parse(expression)
    wildcard = parsed[1][0] or parsed[1][1]
    tz = ZoneInfo(zone)
    t = start.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
    stop = t + timedelta(days=days)
    previous_offset = (t - timedelta(minutes=1)).astimezone(tz).utcoffset()
    result = []
    while len(result) < count and t < stop:
        local = t.astimezone(tz)
        offset = local.utcoffset()
        fires = wall_matches(parsed, local) and (wildcard or local.fold == 0)
        if not fires and not wildcard and offset > previous_offset:
            skipped = (t + previous_offset).replace(tzinfo=None)
            while skipped < (t + offset).replace(tzinfo=None):
                fires = fires or wall_matches(parsed, skipped)
                skipped += timedelta(minutes=1)
        if fires:
            result.append(local)
        previous_offset = offset
        t += timedelta(minutes=1)
    return result if len(result) == count else None


# ---------------------------------------------------------------------------
# Deviations from croniter, on purpose. Each: (name, reason, predicate).

def is_second_occurrence(dt):
    """A wall time shown for the second time (fall-back repeat)."""
    local = dt.astimezone(dt.tzinfo)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def fixed_time_repeat(expression, zone, croniter_times):
    _, stars = parse(expression)
    return not (stars[0] or stars[1]) and any(is_second_occurrence(t) for t in croniter_times)


def star_prefixed_day_field(expression, zone, croniter_times):
    (_, _, days, _, weekdays), stars = parse(expression)
    restricted_dom = days != set(range(1, 32))
    restricted_dow = weekdays != set(range(0, 7))
    return restricted_dom and restricted_dow and (stars[2] or stars[4])


def wildcard_moved_out_of_gap(expression, zone, croniter_times):
    parsed = parse(expression)
    wildcard = parsed[1][0] or parsed[1][1]
    return wildcard and any(not wall_matches(parsed, t.astimezone(ZoneInfo(zone))) for t in croniter_times)


DEVIATIONS = [
    ("fall-back-fixed-time",
     "fall-back: a fixed-time job (minute and hour without *) runs once, at the first occurrence "
     "of a repeated wall time; croniter also runs it at the second occurrence",
     fixed_time_repeat),
    ("star-prefixed-day-field",
     "day-of-month/day-of-week: a field starting with * (such as */2) counts as unrestricted "
     "(Vixie cron), so both fields must match; croniter ORs them because the set is not full",
     star_prefixed_day_field),
    ("spring-forward-wildcard",
     "spring-forward: a job whose minute or hour starts with * (here a wildcard minute, as in * 2 * * *) "
     "is a wildcard job in ISC cron and has no fire time in the skipped hour; croniter runs it once after the gap",
     wildcard_moved_out_of_gap),
]

# ---------------------------------------------------------------------------
# Cases.

CALENDAR_EXPRESSIONS = [
    "0 0 29 2 *", "30 12 29 feb *", "0 0 28-31 2 *", "59 23 31 * *", "0 0 30 * *", "0 0 31 4,6,9,11,12 *",
    "0 0 28-31 * *", "0 6 13 * fri", "0 0 1,15 * wed", "0 0 29 2 mon", "0 9 * * mon-fri", "15 10 * JAN,Jul *",
    "0 0 * * SUN", "0 0 * * 7", "0 0 * * 5-7", "0 0 * * sat-7", "0 0 * * 1/2", "0 0 1/10 * *",
    "*/7 * * * *", "5-50/15 */5 * * *", "0 0 1 jan-dec/3 *", "0 8-18/4 * * 1-5", "1 2 3 4 5", "59 23 31 12 *",
    "0 0 */2 * mon-fri", "0 0 1-10 * */2", "0 12 */2 * sat,sun", "@hourly", "@daily", "@midnight", "@weekly", "@monthly",
    "@yearly", "@annually",
]
CALENDAR_STARTS = [
    "2024-02-27T13:17:00", "2023-02-27T23:59:30", "2024-12-31T23:59:00", "2025-04-29T10:00:00",
    "2100-02-27T00:00:00", "2027-08-31T23:59:59",
]
CALENDAR_ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns"]

DST_EXPRESSIONS = [
    "30 2 * * *", "0 2 * * *", "59 1 * * *", "0 3 * * *", "30 1 * * *", "0,30 2 * * *", "15 2 * * sun",
    "45 0-4 * * *", "0 0 * * *", "@daily", "*/15 * * * *", "*/30 1-3 * * *", "30 * * * *", "* 2 * * *",
    "@hourly", "0 */2 * * *",
]
# Local (naive) start times around each zone's 2026 transitions; fold=1 picks
# the second occurrence of a repeated wall time.
DST_STARTS = {
    "Europe/Berlin": [("2026-03-28T12:00", 0), ("2026-03-29T01:59", 0), ("2026-10-24T12:00", 0),
                      ("2026-10-25T02:15", 0), ("2026-10-25T02:15", 1)],
    "America/New_York": [("2026-03-07T12:00", 0), ("2026-03-08T01:59", 0), ("2026-10-31T12:00", 0),
                         ("2026-11-01T01:15", 0), ("2026-11-01T01:15", 1)],
    "Australia/Sydney": [("2026-04-04T12:00", 0), ("2026-04-05T02:15", 0), ("2026-04-05T02:15", 1),
                         ("2026-10-03T12:00", 0), ("2026-10-04T01:59", 0)],
    "America/St_Johns": [("2026-03-07T12:00", 0), ("2026-10-31T12:00", 0), ("2026-11-01T01:15", 0),
                         ("2026-11-01T01:15", 1)],
    "Asia/Kolkata": [("2026-03-28T12:00", 0), ("2026-10-24T12:00", 0)],
    "UTC": [("2026-03-28T12:00", 0), ("2026-10-24T12:00", 0)],
}


def iso(dt):
    return dt.isoformat(timespec="seconds")


def croniter_next(expression, start):
    iterator = croniter(expression, start)
    return [iterator.get_next(datetime) for _ in range(COUNT)]


def make_case(expression, zone, start, counts):
    cron_times = croniter_next(expression, start)
    explained = [(name, reason) for name, reason, predicate in DEVIATIONS if predicate(expression, zone, cron_times)]
    short = cron_times[-1] - start <= timedelta(days=ORACLE_DAYS - 2)
    documented = documented_next(expression, zone, start) if (short or explained) else None
    case = {"expression": expression, "zone": zone, "start": iso(start)}
    where = f"{expression!r} in {zone} after {iso(start)}"
    if documented is None and explained:
        sys.exit(f"{where}: deviation {explained[0][0]} predicted but the documented times are not within {ORACLE_DAYS} days")
    if documented is not None:
        counts["cross-checked"] += 1
        same = [t.astimezone(timezone.utc) for t in documented] == [t.astimezone(timezone.utc) for t in cron_times]
        if same and explained:
            sys.exit(f"{where}: deviation {explained[0][0]} predicted, but croniter agrees with the documented behaviour")
        if not same and not explained:
            sys.exit(f"{where}: unexplained difference\n  croniter   {[iso(t) for t in cron_times]}\n"
                     f"  documented {[iso(t) for t in documented]}")
        if not same:
            counts["deviations"] += 1
            for name, _ in explained:
                counts[name] = counts.get(name, 0) + 1
            case["next"] = [iso(t.astimezone(ZoneInfo(zone))) for t in documented]
            case["croniter"] = [iso(t) for t in cron_times]
            case["reason"] = "; ".join(reason for _, reason in explained)
            return case
    case["next"] = [iso(t) for t in cron_times]
    return case


def main():
    counts = {"cross-checked": 0, "deviations": 0}
    cases = []
    for zone in CALENDAR_ZONES:
        tz = ZoneInfo(zone)
        for start in CALENDAR_STARTS:
            for expression in CALENDAR_EXPRESSIONS:
                cases.append(make_case(expression, zone, datetime.fromisoformat(start).replace(tzinfo=tz), counts))
    for zone, starts in DST_STARTS.items():
        tz = ZoneInfo(zone)
        for start, fold in starts:
            for expression in DST_EXPRESSIONS:
                start_time = datetime.fromisoformat(start).replace(tzinfo=tz, fold=fold)
                cases.append(make_case(expression, zone, start_time, counts))
    fixture = {
        "generator": "Tests/CronTests/Fixtures/make_croniter_fixture.py",
        "croniter": CRONITER_VERSION,
        "count": COUNT,
        "deviationReasons": {name: reason for name, reason, _ in DEVIATIONS},
        "summary": counts | {"cases": len(cases)},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "croniter_cases.json")
    # One case per line: small, and diffs show which cases changed.
    header = json.dumps({k: v for k, v in fixture.items() if k != "cases"}, indent=1)[:-2]
    with open(path, "w") as file:
        file.write(header + ',\n "cases": [\n')
        file.write(",\n".join("  " + json.dumps(case) for case in cases))
        file.write("\n ]\n}\n")
    print(f"{len(cases)} cases, {counts['cross-checked']} cross-checked against the documented rules, "
          f"{counts['deviations']} documented deviations {counts} -> {path}")


if __name__ == "__main__":
    main()
