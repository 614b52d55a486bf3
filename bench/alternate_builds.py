#!/usr/bin/env python3
"""Alternates two builds of Meridian on kv_bench writes, in one sitting.

For each round and each build (old first, then new): starts `meridian demo --no_shell` from that
build, runs the new build's kv_bench (writes only, no warmup) at each client count, and records
per level the writes/s, p50 and p99, and what the cluster's processes (placementd and the
spanservers, every thread) spent per committed write: CPU microseconds and context switches
(voluntary and not, from /proc). Then stops the demo by its PID. Prints a table and writes JSON.

  bench/alternate_builds.py --old=/work/old/build --new=build --rounds=3 --clients=1,64,256

The machine is noisy: read medians and ranges, and compare the builds within a round.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def usage(pids):
    """(cpu seconds, voluntary switches, involuntary switches) summed over every thread."""
    cpu = vol = invol = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / CLK_TCK
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches"):
                            vol += int(line.split()[1])
                        elif line.startswith("nonvoluntary_ctxt_switches"):
                            invol += int(line.split()[1])
        except OSError:
            pass
    return cpu, vol, invol


def run_build(label, build, kv_bench, args, base_port):
    d = tempfile.mkdtemp(prefix=f"alt-{label}-", dir=os.environ.get("MERIDIAN_BENCH_DIR", "/tmp"))
    log = open(os.path.join(d, "demo.out"), "w")
    demo = subprocess.Popen(
        [os.path.join(build, "tools/meridian"), "demo", "--no_shell", f"--dir={d}/c",
         f"--base_port={base_port}", f"--ranges={args.ranges}", "--workload_ms=0",
         "--http_port_offset=0"], stdout=log, stderr=subprocess.STDOUT)
    results = []
    try:
        deadline = time.time() + 60
        while "ready in " not in open(os.path.join(d, "demo.out")).read().lower():
            if demo.poll() is not None or time.time() > deadline:
                sys.exit(f"{label}: the demo did not come up; see {d}/demo.out")
            time.sleep(0.5)
        pids = descendants(demo.pid)
        for clients in args.clients:
            out_json = os.path.join(d, f"kv-{clients}.json")
            before = usage(pids)
            subprocess.run([kv_bench, f"--placement=127.0.0.1:{base_port}", f"--clients={clients}",
                            "--ops=write", f"--seconds={args.seconds}", "--warmup_seconds=0",
                            f"--json={out_json}"], check=False, stdout=subprocess.DEVNULL)
            after = usage(pids)
            with open(out_json) as f:
                level = json.load(f)["results"][0]
            ops = max(level["ops"], 1)
            results.append({
                "build": label, "clients": clients, "writes_per_s": level["ops_per_s"],
                "p50_ms": level["p50_ms"], "p99_ms": level["p99_ms"], "errors": level["errors"],
                "cpu_us_per_write": (after[0] - before[0]) * 1e6 / ops,
                "voluntary_switches_per_write": (after[1] - before[1]) / ops,
                "involuntary_switches_per_write": (after[2] - before[2]) / ops,
            })
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
        log.close()
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--old", required=True, help="the old build directory")
    p.add_argument("--new", required=True, help="the new build directory (its kv_bench is used)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--clients", default="64", help="client counts, comma separated")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--ranges", type=int, default=8)
    p.add_argument("--base_port", type=int, default=7600)
    p.add_argument("--json", default="alternate_builds.json")
    p.add_argument("--keep", action="store_true", help="keep the demo directories")
    args = p.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    kv_bench = os.path.join(args.new, "bench/kv_bench")
    rows = []
    for r in range(args.rounds):
        for label, build in (("old", args.old), ("new", args.new)):
            print(f"round {r + 1}/{args.rounds}: {label} ({build})", flush=True)
            for row in run_build(label, build, kv_bench, args, args.base_port):
                row["round"] = r + 1
                rows.append(row)
                print("  clients %4d  %8.0f writes/s  p50 %6.2f  p99 %6.2f ms  cpu %6.1f us/write"
                      "  switches %5.2f + %5.2f /write  errors %d" % (
                          row["clients"], row["writes_per_s"], row["p50_ms"], row["p99_ms"],
                          row["cpu_us_per_write"], row["voluntary_switches_per_write"],
                          row["involuntary_switches_per_write"], row["errors"]), flush=True)
    print("\nmedian [min-max] over rounds")
    for clients in args.clients:
        for label in ("old", "new"):
            sel = [x for x in rows if x["clients"] == clients and x["build"] == label]
            def fmt(key, f="%.0f"):
                v = [x[key] for x in sel]
                return (f + " [" + f + "-" + f + "]") % (statistics.median(v), min(v), max(v))
            print(f"  {label} clients {clients}: writes/s {fmt('writes_per_s')}, p99 "
                  f"{fmt('p99_ms', '%.1f')} ms, cpu/write {fmt('cpu_us_per_write', '%.1f')} us, "
                  f"switches/write {fmt('voluntary_switches_per_write', '%.2f')} + "
                  f"{fmt('involuntary_switches_per_write', '%.2f')}")
    with open(args.json, "w") as f:
        json.dump(rows, f, indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
