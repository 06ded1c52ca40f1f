#!/usr/bin/env python3
"""Writes a workflow of N trivial steps, the shape bench/run times for
`bucketflow validate`, `plan` and `run`:

    python3 bench/steps_workflow.py --steps 10000 /tmp/steps-10k.yaml

One `local` storage (`disk`, root `--root`, relative to the workflow file);
steps s0..s{N-1}, each `action: create-folder` at `disk://bench/d{i}/`; step
i needs s{i-1} when i % 10 != 0, and s{i-10} when i >= 10. So the graph has
chains of ten steps, each chain hanging off the one before it: N edges
about 2N, depth about N/10 + 10, and every wave holds several steps.
The bucket directory (`ROOT/bench`) must exist before `run`.
"""
import argparse


def render(steps, root="steps-root", name=None):
    lines = [
        "version: 1",
        f"name: {name or f'bench-steps-{steps}'}",
        "storage:",
        "  disk:",
        "    provider: local",
        f"    root: {root}",
        "steps:",
    ]
    for i in range(steps):
        needs = []
        if i % 10 != 0:
            needs.append(f"s{i - 1}")
        if i >= 10:
            needs.append(f"s{i - 10}")
        lines.append(f"  s{i}:")
        lines.append("    action: create-folder")
        lines.append(f"    at: disk://bench/d{i}/")
        if needs:
            lines.append(f"    needs: [{', '.join(needs)}]")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, required=True, help="number of steps")
    parser.add_argument("--root", default="steps-root", help="the local storage's root, relative to the workflow file")
    parser.add_argument("--name", help="workflow name (default bench-steps-N)")
    parser.add_argument("out", help="where to write the workflow")
    args = parser.parse_args()
    with open(args.out, "w") as f:
        f.write(render(args.steps, args.root, args.name))


if __name__ == "__main__":
    main()
