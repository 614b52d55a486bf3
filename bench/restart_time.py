#!/usr/bin/env python3
"""How long a spanserver holding a lot of data takes to restart, for one or more builds.

For each build: starts `meridian demo --no_shell`, loads --mb of 16 KiB values through kv_bench
(every server holds a replica of every group, so each gets all of it), kills span-a1 with SIGKILL
(as a crash would), starts it again with the same command line, and reports the seconds until it
has opened its storage ("registered as server" in its log) and until every group it hosts has
started its replica. Builds alternate when --rounds > 1.

  bench/restart_time.py --builds=/work/old/build,build --mb=1024 --rounds=2
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def dir_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total / (1 << 20)


def wait_for(path, pattern, count, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if len(re.findall(pattern, open(path, errors="replace").read())) >= count:
                return time.time()
        except OSError:
            pass
        time.sleep(0.05)
    return None


def run(build, args, label):
    d = tempfile.mkdtemp(prefix=f"restart-{label}-", dir=os.environ.get("MERIDIAN_BENCH_DIR", "/tmp"))
    out = open(os.path.join(d, "demo.out"), "w")
    demo = subprocess.Popen([os.path.join(build, "tools/meridian"), "demo", "--no_shell",
                             f"--dir={d}/c", f"--base_port={args.base_port}", "--ranges=8",
                             "--workload_ms=0", "--http_port_offset=0"],
                            stdout=out, stderr=subprocess.STDOUT)
    restarted = None
    try:
        if wait_for(os.path.join(d, "demo.out"), r"Ready in ", 1, 90) is None:
            sys.exit(f"{label}: the demo did not come up; see {d}/demo.out")
        cluster = json.load(open(os.path.join(d, "c/cluster.json")))
        span = next(p for p in cluster["processes"] if p["name"] == "span-a1")
        writes = args.mb * 64  # 16 KiB each
        print(f"{label}: loading {args.mb} MB ({writes} writes of 16 KiB)", flush=True)
        loaded = 0
        while dir_mb(span["data_dir"]) < args.mb:
            subprocess.run([os.path.join(args.kv_bench_build, "bench/kv_bench"),
                            f"--placement=127.0.0.1:{args.base_port}", "--clients=64",
                            "--ops=write", "--value_bytes=16384", f"--keys={writes}",
                            "--seconds=10", "--warmup_seconds=0", f"--seed={loaded + 1}",
                            f"--json={d}/kv.json"], stdout=subprocess.DEVNULL, check=False)
            loaded += 1
            print(f"  span-a1 holds {dir_mb(span['data_dir']):.0f} MB", flush=True)
        held = dir_mb(span["data_dir"])
        os.kill(span["pid"], signal.SIGKILL)
        time.sleep(1)
        log = os.path.join(d, "restart.log")
        start = time.time()
        restarted = subprocess.Popen(span["argv"], stdout=open(log, "w"), stderr=subprocess.STDOUT)
        opened = wait_for(log, r"registered as server", 1, 600)
        groups = len(re.findall(r"group \d+ replica \d+: started",
                                open(span["log"], errors="replace").read()))
        started = wait_for(log, r"group \d+ replica \d+: started", max(groups, 1), 600)
        result = {"build": label, "held_mb": held,
                  "storage_open_s": None if opened is None else opened - start,
                  "groups": groups,
                  "groups_started_s": None if started is None else started - start}
        print(f"  {result}", flush=True)
        return result
    finally:
        if restarted is not None:
            restarted.send_signal(signal.SIGTERM)
            try:
                restarted.wait(timeout=30)
            except subprocess.TimeoutExpired:
                restarted.kill()
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--builds", required=True, help="build directories, comma separated")
    p.add_argument("--mb", type=int, default=1024, help="data to load, MB per server")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--base_port", type=int, default=7700)
    p.add_argument("--kv_bench_build", default="build", help="whose kv_bench loads the data")
    p.add_argument("--json", default="restart_time.json")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    results = []
    for _ in range(args.rounds):
        for i, build in enumerate(args.builds.split(",")):
            results.append(run(build, args, f"{i}:{os.path.basename(os.path.dirname(os.path.abspath(build)))}"))
    json.dump(results, open(args.json, "w"), indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
