"""Goals, the Markdown table and the chart for bench/run's results
(the JSON document bench/run writes as latest.json)."""

# The goals (issue 10): wall-time ratios against the best of rclone
# and s5cmd, peak RSS of bucketflow, local copies against cp, step scaling.
WALL_GOALS = {"small64k": 0.8, "small4k": 0.8, "big1g": 0.9, "big128m": 1.0}
RSS_GOALS = {"big1g": 64, "big128m": 160}
LOCAL_GOALS = {"local1g": 1.5, "local16k": 3.0}
STEPS_RATIO_GOAL = 12.0
STEPS_VALIDATE_PLAN_10K = 1.0
STEPS_RUN_10K = 2.0
TOOL_COLORS = {"bucketflow": "#d62728", "rclone": "#1f77b4", "s5cmd": "#2ca02c", "aws": "#9467bd", "cp": "#7f7f7f"}


def median(workload, tool, key="wall"):
    entry = workload["tools"].get(tool)
    if entry and entry.get("median"):
        return entry["median"][key]
    return None


def best_peer(workload, peers):
    candidates = [(median(workload, p), p) for p in peers if median(workload, p) is not None]
    return min(candidates) if candidates else (None, None)


def fmt(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def goals(doc):
    peers = doc["settings"]["peers_for_ratio"]
    out = []

    def add(workload, what, value, limit, unit, strict=False, missing=None):
        met = None if value is None else (value < limit if strict else value <= limit)
        out.append({"workload": workload, "what": what, "value": value, "limit": limit, "unit": unit,
                    "comparison": "<" if strict else "≤", "met": met if value is not None else False,
                    "missing": missing if value is None else None})

    def why(w, *tools):
        """Why a figure is missing: the first failed/timed-out tool it needs."""
        for tool in tools:
            entry = w["tools"].get(tool)
            if entry is None:
                return f"{tool} not run"
            if entry["status"] != "ok":
                return f"{tool} {entry['status']}"
        return None

    for w in doc["workloads"]:
        g = w["group"]
        if w["kind"] == "s3":
            bf = median(w, "bucketflow")
            best, name = best_peer(w, peers)
            if g in WALL_GOALS:
                add(w["id"], f"wall vs best peer ({name or '—'})", bf / best if bf and best else None, WALL_GOALS[g], "×",
                    missing=why(w, "bucketflow") or "no peer result")
            if g in RSS_GOALS:
                add(w["id"], "bucketflow peak RSS", median(w, "bucketflow", "rss_mib"), RSS_GOALS[g], "MiB",
                    missing=why(w, "bucketflow"))
        elif w["kind"] == "local" and g in LOCAL_GOALS:
            bf, cp = median(w, "bucketflow"), median(w, "cp")
            add(w["id"], "wall vs cp" + (" -r" if w["files"] > 1 else ""), bf / cp if bf and cp else None, LOCAL_GOALS[g], "×",
                missing=why(w, "bucketflow", "cp"))
    steps = {w["steps"]: w for w in doc["workloads"] if w["kind"] == "steps"}
    if 1000 in steps and 10000 in steps:
        for command in ("validate", "plan", "run"):
            a, b = median(steps[1000], command), median(steps[10000], command)
            add("steps", f"{command}: 10k / 1k steps", b / a if a and b else None, STEPS_RATIO_GOAL, "×",
                missing=why(steps[1000], command) or why(steps[10000], command))
    if 10000 in steps:
        v, p = median(steps[10000], "validate"), median(steps[10000], "plan")
        add("steps-10k", "validate + plan of 10k steps", v + p if v is not None and p is not None else None,
            STEPS_VALIDATE_PLAN_10K, "s", strict=True, missing=why(steps[10000], "validate", "plan"))
        add("steps-10k", "run of 10k steps", median(steps[10000], "run"), STEPS_RUN_10K, "s", strict=True,
            missing=why(steps[10000], "run"))
    return out


def goal_lines(doc):
    lines = []
    for g in doc["goals"]:
        verdict = "met" if g["met"] else "NOT met"
        shown = fmt(g["value"]) if g["value"] is not None else (g.get("missing") or "—")
        lines.append(f"{g['workload']:26} {g['what']:36} {shown:>8} {g['unit']:3} goal {g['comparison']} "
                     f"{g['limit']:g} {g['unit']}: {verdict}")
    return "\n".join(lines)


def tool_cells(workload, tool):
    entry = workload["tools"][tool]
    if entry["status"] == "failed":
        return ["**FAILED** (see notes)", "—", "—"]
    if entry["status"] != "ok":
        return [entry.get("note") or entry["status"], "—", "—"]
    m = entry["median"]
    return [fmt(m["wall"]), fmt(m["cpu"]), fmt(m["rss_mib"], 1)]


def markdown(doc):
    m, v = doc["machine"], doc["versions"]
    peers = doc["settings"]["peers_for_ratio"]
    s = doc["settings"]
    lines = [
        "# bucketflow benchmarks",
        "",
        f"Generated {doc['generated']} by `{doc['command']}` ({doc['mode']} run, {doc['trials']} trial(s) per tool, "
        f"median shown; took {doc['duration_s'] / 60:.1f} min). How to run and read it: [../README.md](../README.md).",
        "",
        f"- Machine: {m['nproc']} × {m['cpu']}, {m['memory_mib']} MiB RAM, Linux {m['kernel']}; load average "
        f"{m['loadavg_start'][0]:.2f} at the start, {m.get('loadavg_end', [0])[0]:.2f} at the end "
        "(the machine is shared: compare ratios, not absolute times).",
        f"- bucketflow: `{v['bucketflow']}`" + (f" (tree {doc['bucketflow']['commit']})" if doc['bucketflow'].get('commit') else ""),
        f"- Peers: {v['rclone']}; s5cmd {v['s5cmd']}; aws {v['aws']}; nanio {v['nanio']}; {v['cp']}.",
        f"- Every S3 client: {s['transfers']} objects in flight, {s['part_size_mib']} MiB parts above "
        f"{s['part_size_mib']} MiB, {s['part_concurrency']} parts of one object in flight. Servers run on the same "
        "cores, on 127.0.0.1. Ratios: bucketflow's median wall time / the best median of "
        f"{' and '.join(peers)}.",
        "",
        "## Goals (issue 10)",
        "",
        "| workload | goal | measured | limit | met? |",
        "|---|---|---|---|---|",
    ]
    for g in doc["goals"]:
        shown = f"{fmt(g['value'])} {g['unit']}" if g["value"] is not None else f"**{g.get('missing') or '—'}**"
        lines.append(f"| {g['workload']} | {g['what']} | {shown} | {g['comparison']} {g['limit']:g} "
                     f"{g['unit']} | {'yes' if g['met'] else '**no**'} |")
    if not doc["goals"]:
        lines.append("| — | (no goal applies to the selected workloads) | | | |")

    by_workload = {}
    for g in doc["goals"]:
        by_workload.setdefault(g["workload"], []).append(g)

    for kind, heading in (("s3", "S3 transfers"), ("local", "Local provider against cp")):
        selected = [w for w in doc["workloads"] if w["kind"] == kind]
        if not selected:
            continue
        lines += ["", f"## {heading}"]
        for w in selected:
            if kind == "s3":
                base, base_name = best_peer(w, peers)
            else:
                base, base_name = median(w, "cp"), "cp"
            lines += ["", f"### {w['title']} — `{w['id']}`", "",
                      f"| tool | wall s | CPU s | peak RSS MiB | ratio to {'best peer' if kind == 's3' else 'cp'} | goal | met? |",
                      "|---|---|---|---|---|---|---|"]
            for tool in w["tools"]:
                wall = median(w, tool)
                r = wall / base if wall and base else None
                goal_cell, met_cell = "", ""
                if tool == "bucketflow":
                    mine = by_workload.get(w["id"], [])
                    goal_cell = "; ".join(f"{g['what'].split(' (')[0]} {g['comparison']} {g['limit']:g} {g['unit']}" for g in mine)
                    met_cell = "; ".join("yes" if g["met"] else "**no**" for g in mine)
                name = f"**{tool}**" if tool == "bucketflow" else tool + (" (best)" if tool == base_name and kind == "s3" else "")
                lines.append(f"| {name} | " + " | ".join(tool_cells(w, tool)) + f" | {fmt(r)} | {goal_cell} | {met_cell} |")

    steps = [w for w in doc["workloads"] if w["kind"] == "steps"]
    if steps:
        lines += ["", "## Steps", "",
                  "Workflows from `bench/steps_workflow.py --steps N`: one local storage, N `create-folder` steps, "
                  "step i needs s{i-1} (unless i % 10 == 0) and s{i-10} (when i ≥ 10).", "",
                  "| steps | validate s | plan s | run s | validate RSS MiB | plan RSS MiB | run RSS MiB |",
                  "|---|---|---|---|---|---|---|"]
        for w in steps:
            cells = []
            for tool in ("validate", "plan", "run"):
                entry = w["tools"][tool]
                cells.append(fmt(median(w, tool)) if entry["status"] == "ok" else
                             "**FAILED**" if entry["status"] == "failed" else (entry.get("note") or entry["status"]))
            cells += [fmt(median(w, t, "rss_mib"), 1) for t in ("validate", "plan", "run")]
            lines.append(f"| {w['steps']:,} | " + " | ".join(cells) + " |")
        by_n = {w["steps"]: w for w in steps}
        if 1000 in by_n and 10000 in by_n:
            cells = []
            for tool in ("validate", "plan", "run"):
                a, b = median(by_n[1000], tool), median(by_n[10000], tool)
                cells.append(f"{b / a:.1f}×" if a and b else "—")
            lines.append("| 10k / 1k | " + " | ".join(cells) + " | | | |")

    notes = [(w["id"], t, e["note"]) for w in doc["workloads"] for t, e in w["tools"].items() if e.get("note")]
    lines += ["", "## Notes", ""]
    lines.append("- The aws CLI column appears on the 1,000 × 64 KiB shape only (it needs ~4 s per 1,000 small objects "
                 "here, and one process for everything); it is not part of the best-peer ratio.")
    if any(w.get("server") == "nanio" for w in doc["workloads"]):
        if not doc["settings"].get("nanio_fsync"):
            lines.append("- nanio runs with its per-object fsync turned off (it serialises every PUT at the disk's "
                         "fsync latency, whatever the client; `rclone serve s3` does not fsync either).")
        lines.append("- s5cmd is left out of nanio downloads: nanio 0.1.7 rejects its `Range: bytes=0-16777215` "
                     "on smaller objects with 400 InvalidArgument; the ratio there is against rclone alone.")
    lines.append(f"- Peak RSS source: {doc['settings'].get('rss_source', 'os.wait4')}.")
    for wid, tool, note in notes:
        lines.append(f"- `{wid}` {tool}: {note}")
    lines += ["", "Raw trials: [latest.json](latest.json). Chart: [latest.png](latest.png).", ""]
    return "\n".join(lines)


def chart(doc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peers = doc["settings"]["peers_for_ratio"]
    s3 = [w for w in doc["workloads"] if w["kind"] == "s3"]
    local = [w for w in doc["workloads"] if w["kind"] == "local"]
    steps = {w["steps"]: w for w in doc["workloads"] if w["kind"] == "steps"}
    panels = [p for p in ("s3", "rss", "local", "steps") if
              (p in ("s3", "rss") and s3) or (p == "local" and local) or (p == "steps" and steps)]
    if not panels:
        return
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(10, 0.9 * len(s3) + 3), 4.2 * len(panels)), squeeze=False)
    axes = [a[0] for a in axes]

    def tidy(ax, top, log):
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_ylim(top=top * 3)
        else:
            ax.set_ylim(0, top * 1.3)

    def grouped(ax, workloads, tools, value, goal_of, ylabel, title, log=False, digits=2, cap=None):
        width = 0.8 / len(tools)
        top = 0
        for j, tool in enumerate(tools):
            xs, ys = [], []
            for i, w in enumerate(workloads):
                y = value(w, tool)
                if y is not None:
                    xs.append(i + (j - (len(tools) - 1) / 2) * width)
                    ys.append(y)
                    top = max(top, min(y, cap) if cap else y)
            shown = [min(y, cap) if cap else y for y in ys]
            bars = ax.bar(xs, shown, width, label=tool, color=TOOL_COLORS.get(tool))
            for b, y in zip(bars, ys):  # bars cut at the cap carry their value
                if cap and y > cap:
                    ax.annotate(f"{y:.1f}", (b.get_x() + b.get_width() / 2, cap), ha="center", va="bottom", fontsize=7)
            if tool == "bucketflow":
                for b, y in zip(bars, ys):
                    if cap and y > cap:
                        continue
                    ax.annotate(f"{y:.{digits}f}", (b.get_x() + b.get_width() / 2, y),
                                ha="center", va="bottom", fontsize=7)
        first = True
        for i, w in enumerate(workloads):
            g = goal_of(w)
            if g is not None:
                top = max(top, g)
                ax.hlines(g, i - 0.45, i + 0.45, colors="black", linestyles="dashed", linewidth=1.2,
                          label="goal" if first else None)
                first = False
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels([w["id"] for w in workloads], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        tidy(ax, top, log)
        ax.legend(fontsize=8, ncol=6, loc="upper left")
        ax.grid(axis="y", alpha=0.3)

    for ax, panel in zip(axes, panels):
        if panel == "s3":
            tools = [t for t in ("bucketflow", "rclone", "s5cmd", "aws") if any(t in w["tools"] for w in s3)]

            def rel(w, tool):
                best, _ = best_peer(w, peers)
                wall = median(w, tool)
                return wall / best if wall and best else None
            grouped(ax, s3, tools, rel, lambda w: WALL_GOALS.get(w["group"]),
                    "wall / best peer", "S3 transfers: wall time relative to the best of rclone and s5cmd "
                    "(lower is better; bars cut at 4)", cap=4.0)
            ax.axhline(1.0, color="gray", linewidth=0.8)
        elif panel == "rss":
            tools = [t for t in ("bucketflow", "rclone", "s5cmd", "aws") if any(t in w["tools"] for w in s3)]
            grouped(ax, s3, tools, lambda w, t: median(w, t, "rss_mib"), lambda w: RSS_GOALS.get(w["group"]),
                    "peak RSS MiB", "S3 transfers: client peak RSS (log scale)", log=True, digits=0)
        elif panel == "local":
            def rel_cp(w, tool):
                cp, wall = median(w, "cp"), median(w, tool)
                return wall / cp if wall and cp else None
            grouped(ax, local, ["bucketflow", "rclone", "cp"], rel_cp, lambda w: LOCAL_GOALS.get(w["group"]),
                    "wall / cp", "Local provider: wall time relative to cp (cp -r for many files; bars cut at 10)", cap=10.0)
        else:
            commands = ["validate", "plan", "run"]
            ns = sorted(steps)
            width = 0.8 / len(ns)
            top = max([median(steps[n], c) or 0 for n in ns for c in commands] + [STEPS_RUN_10K])
            for j, n in enumerate(ns):
                ys = [median(steps[n], c) for c in commands]
                xs = [i + (j - (len(ns) - 1) / 2) * width for i in range(len(commands))]
                bars = ax.bar([x for x, y in zip(xs, ys) if y is not None], [y for y in ys if y is not None], width,
                              label=f"{n:,} steps")
                for b, y in zip(bars, [y for y in ys if y is not None]):
                    ax.annotate(f"{y:.2f} s", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
            if 10000 in steps:
                ax.hlines(STEPS_RUN_10K, 1.55, 2.45, colors="black", linestyles="dashed", label="10k goal")
                ax.hlines(STEPS_VALIDATE_PLAN_10K, -0.45, 1.45, colors="black", linestyles="dotted",
                          label="10k validate + plan goal (sum)")
            ax.set_xticks(range(len(commands)))
            ax.set_xticklabels([f"bucketflow {c}" for c in commands])
            tidy(ax, top, True)
            ax.set_ylabel("seconds (log)")
            ax.set_title("Steps: validate / plan / run of N trivial steps (10k/1k goal ≤ 12×)", fontsize=10)
            ax.legend(fontsize=8, loc="upper left")
            ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"bucketflow benchmarks, {doc['generated']} ({doc['mode']}, median of {doc['trials']}; "
                 f"{doc['machine']['nproc']} cores, servers on loopback)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=110)
    plt.close(fig)
