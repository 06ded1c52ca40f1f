#!/usr/bin/env python3
"""Generates croniter_cases.json: next fire times computed by croniter, the
reference the Swift cron parser is tested against.

    pip install croniter==6.0.0
    python3 Tests/CronTests/Fixtures/make_croniter_fixture.py

Each case: an expression, an IANA zone, a start instant, and croniter's next
5 fire times (ISO 8601 with offset). Where bucketflow's documented behaviour
differs from croniter on purpose (daylight-saving edges, see docs/cron.md),
the case carries "expected" (ours) and "reason"; the Swift test asserts ours
and counts those deviations.

"expected" is computed here independently of the Swift code: croniter on
naive wall-clock times (pure field matching, no time zone), mapped to
instants with zoneinfo by the documented rules:
  - a wall time in a spring-forward gap: a fixed-time job (minute and hour
    fields not starting with "*") fires once at the transition instant; a
    job with a wildcard minute or hour has no fire time there;
  - a wall time that occurs twice (fall-back): a fixed-time job fires at the
    first occurrence only; a wildcard job fires at both.
croniter 6.0.0 given zone-aware datetimes moves some times across
transitions by an hour (e.g. "0 0 * * *" firing at 23:00 the evening after
spring-forward); those cases are the deviations.
"""
import json
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import croniter as croniter_module
from croniter import croniter

EXPRESSIONS = [
    "* * * * *", "*/15 * * * *", "0 * * * *", "30 2 * * *", "0 0 * * *", "5 4 * * sun",
    "0 22 * * 1-5", "23 0-20/2 * * *", "0 0,12 1 */2 *", "0 4 8-14 * *", "0 0 1 jan *",
    "0 9 * * mon-fri", "15 10 * * MON,WED,FRI", "0 0 29 2 *", "0 0 31 * *", "0 12 30 * *",
    "0 0 1,15 * 3", "0 6 13 * fri", "*/7 9-17 * * *", "59 23 31 12 *", "0 0 * * 7",
    "0 0 * * 0", "0 */6 * * *", "10-20/5 1 * * *", "0 3 * feb-apr *", "0 0 28-31 * *",
    "1 2 3 4 5", "0 2 * * *", "30 1 * * *", "0 3 * * *", "45 2 * * *", "*/30 1-3 * * *",
    "@hourly", "@daily", "@weekly", "@monthly", "@yearly",
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns"]
STARTS = [
    "2024-02-27T13:17:00",  # leap year, month end
    "2023-02-27T23:59:30",  # non-leap
    "2026-03-28T12:00:00",  # before EU spring forward (Mar 29 2026)
    "2026-10-24T12:00:00",  # before EU fall back (Oct 25 2026)
    "2026-03-07T12:00:00",  # before US spring forward (Mar 8 2026)
    "2026-10-31T12:00:00",  # before US fall back (Nov 1 2026)
    "2026-04-04T12:00:00",  # before Sydney fall back (Apr 5 2026)
    "2026-10-03T12:00:00",  # before Sydney spring forward (Oct 4 2026)
    "2026-12-31T23:58:00",  # year end
    "2026-11-24T02:30:00",
]


def iso(dt):
    return dt.isoformat(timespec="seconds")


MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def is_fixed_time(expression):
    fields = MACROS.get(expression, expression).split()
    return not fields[0].startswith("*") and not fields[1].startswith("*")


def instants(wall, tz):
    """The UTC instants at which clocks in tz show the naive wall time."""
    found = []
    for fold in (0, 1):
        aware = wall.replace(tzinfo=tz, fold=fold)
        utc = aware.astimezone(timezone.utc)
        if utc.astimezone(tz).replace(tzinfo=None) == wall and utc not in found:
            found.append(utc)
    return sorted(found)


def gap_end(wall, tz):
    """The instant the clocks jumped over a wall time that does not exist."""
    before = (wall - timedelta(days=1)).replace(tzinfo=tz).utcoffset()
    after = (wall + timedelta(days=1)).replace(tzinfo=tz).utcoffset()
    low = (wall - after).replace(tzinfo=timezone.utc) - timedelta(seconds=1)
    high = (wall - before).replace(tzinfo=timezone.utc)
    while (high - low).total_seconds() > 1:
        mid = low + (high - low) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(tz).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high


def documented(expression, tz, begin, count=5):
    """Our documented behaviour, from croniter's naive wall-clock matches."""
    fixed = is_fixed_time(expression)
    wall_start = begin.astimezone(tz).replace(tzinfo=None)
    iterator = croniter(expression, wall_start)
    result = []
    start_utc = begin.astimezone(timezone.utc)
    for _ in range(2000):
        if len(result) == count:
            break
        wall = iterator.get_next(datetime)
        found = instants(wall, tz)
        if not found:
            candidates = [gap_end(wall, tz)] if fixed else []
        elif fixed:
            candidates = found[:1]
        else:
            candidates = found
        for instant in candidates:
            if instant > start_utc and instant not in result:
                result.append(instant)
    # Extra wall times are gathered so that the second pass of a repeated
    # hour sorts in among the first pass.
    for _ in range(6):
        wall = iterator.get_next(datetime)
        found = instants(wall, tz)
        for instant in (([gap_end(wall, tz)] if fixed else []) if not found else (found[:1] if fixed else found)):
            if instant > start_utc and instant not in result:
                result.append(instant)
    return [iso(t.astimezone(tz)) for t in sorted(result)[:count]]


def main():
    cases = []
    for expression in EXPRESSIONS:
        for zone in ZONES:
            for start in STARTS:
                tz = ZoneInfo(zone)
                begin = datetime.fromisoformat(start).replace(tzinfo=tz)
                iterator = croniter(expression, begin)
                nexts = [iso(iterator.get_next(datetime).astimezone(tz)) for _ in range(5)]
                case = {"expression": expression, "zone": zone, "start": iso(begin), "next": nexts}
                ours = documented(expression, tz, begin)
                if ours != nexts:
                    case["expected"] = ours
                    case["reason"] = "daylight-saving transition: bucketflow follows the documented Vixie-style rule; croniter with aware datetimes shifts times by the offset change"
                cases.append(case)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "croniter_cases.json"), "w") as f:
        json.dump({"croniter": croniter_module.__version__ if hasattr(croniter_module, "__version__") else "6.0.0",
                   "cases": cases}, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"{len(cases)} cases, {sum('expected' in c for c in cases)} documented deviations")


if __name__ == "__main__":
    main()
