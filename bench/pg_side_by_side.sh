#!/usr/bin/env bash
# PostgreSQL 15 and Meridian side by side, in one sitting, on the same machine: TPC-B-like
# (pgbench's built-in script against PostgreSQL, `meridian workload tpcb` against Meridian), or
# TPC-C (--workload=tpcc: `meridian workload tpcc` against both, --target=postgresql:// there).
#
# PostgreSQL: a primary and two streaming standbys s1, s2 in a temp dir, on loopback ports,
# synchronous_standby_names = 'ANY 1 (s1,s2)' (a commit waits for one standby's flush: a majority
# of three, as a Paxos commit does), synchronous_commit = on, fsync = on; run as user postgres.
# Meridian: `meridian demo` (placementd + one spanserver in each of 3 zones, 3 replicas per group).
# Both load scale S; then R rounds, each one pgbench run (-c C -j 2 -T SECS, latency percentiles
# from its -l log) followed by one meridian run (C clients, closed loop, --json), one line per
# run; then a table of medians and ranges, and a JSON file. Everything started here is stopped by
# PID at exit, Ctrl-C included. Not a test: it takes minutes and measures the machine it runs on.
#
# Usage: bench/pg_side_by_side.sh [--workload=tpcb|tpcc] [--reps=3] [--secs=30] [--clients=8]
#          [--scale=10] [--pg_port=P] [--meridian_port=M] [--spread=false] [--dir=D] [--json=F]
# Each flag also reads an environment variable: REPS, SECS, CLIENTS, SCALE, PG_PORT,
# MERIDIAN_PORT, SPREAD, BENCH_DIR, JSON, WORKLOAD; MERIDIAN_BIN is the meridian binary
# (default build/tools/meridian; its spanserver and placementd are found as `meridian demo`
# finds them). Ports: PostgreSQL uses P, P+1, P+2 and Meridian M..M+3; unset, free ones are
# picked. Needs root (PostgreSQL runs as postgres through runuser) and Debian's postgresql-15.
#
# --spread: Meridian's tpcb places each branch in a range of its own over all groups when true.
# Its transactions then commit through two-phase commit across up to three branches' groups (four
# for a retried attempt, which locks the catalog's version row). On this 2-core machine that
# costs about what spreading the leaders saves (three alternated 20 s runs at scale 10: 541/510,
# 475/470, 422/450 tps spread/not); false (the default here) keeps the database in one group.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGBIN=/usr/lib/postgresql/15/bin
WORKLOAD=${WORKLOAD:-tpcb}
REPS=${REPS:-3}
SECS=${SECS:-30}
CLIENTS=${CLIENTS:-8}
SCALE=${SCALE:-10}
PG_PORT=${PG_PORT:-}
MERIDIAN_PORT=${MERIDIAN_PORT:-}
SPREAD=${SPREAD:-false}
BENCH_DIR=${BENCH_DIR:-}
JSON=${JSON:-}
MERIDIAN_BIN=${MERIDIAN_BIN:-$ROOT/build/tools/meridian}

for arg in "$@"; do
  case "$arg" in
    --workload=*) WORKLOAD=${arg#*=} ;;
    --reps=*) REPS=${arg#*=} ;;
    --secs=*) SECS=${arg#*=} ;;
    --clients=*) CLIENTS=${arg#*=} ;;
    --scale=*) SCALE=${arg#*=} ;;
    --pg_port=*) PG_PORT=${arg#*=} ;;
    --meridian_port=*) MERIDIAN_PORT=${arg#*=} ;;
    --spread=*) SPREAD=${arg#*=} ;;
    --dir=*) BENCH_DIR=${arg#*=} ;;
    --json=*) JSON=${arg#*=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "pg_side_by_side: unknown argument $arg (--help lists them)" >&2; exit 2 ;;
  esac
done

die() { echo "pg_side_by_side: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (PostgreSQL runs as user postgres through runuser)"
[ -x "$PGBIN/postgres" ] || die "no PostgreSQL 15 in $PGBIN (apt-get install postgresql-15)"
[ -x "$MERIDIAN_BIN" ] || die "no meridian binary at $MERIDIAN_BIN (ninja -C build meridian spanserver placementd)"
case "$WORKLOAD" in tpcb) ;; tpcc) ;; *) die "--workload must be tpcb or tpcc" ;; esac
for n in REPS SECS CLIENTS SCALE; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer"
done

# Whether the `count` TCP ports from `port` on are all free on loopback.
ports_free() {
  local port=$1 count=$2 p
  for ((p = port; p < port + count; p++)); do
    ss -Htln "sport = :$p" | grep -q . && return 1
  done
  return 0
}
# A free run of `count` ports, tried at random bases in [20000, 60000).
pick_ports() {
  local count=$1 base
  for _ in $(seq 50); do
    base=$((20000 + RANDOM % 40000))
    if ports_free "$base" "$count"; then echo "$base"; return 0; fi
  done
  die "found no $count free ports in a row"
}
PG_PORT=${PG_PORT:-$(pick_ports 3)}
MERIDIAN_PORT=${MERIDIAN_PORT:-$(pick_ports 4)}
ports_free "$PG_PORT" 3 || die "ports $PG_PORT..$((PG_PORT + 2)) are not free"
ports_free "$MERIDIAN_PORT" 4 || die "ports $MERIDIAN_PORT..$((MERIDIAN_PORT + 3)) are not free"

BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/pg-side-by-side-XXXXXX)}
mkdir -p "$BENCH_DIR"
JSON=${JSON:-$BENCH_DIR/result.json}
PGDIR=$BENCH_DIR/pg
SOCK=$PGDIR/sock
mkdir -p "$PGDIR" "$SOCK" "$BENCH_DIR/runs"
chown postgres "$PGDIR" "$SOCK"
chmod 755 "$BENCH_DIR"

# ---- Teardown: every process started here, by PID, at any exit. ---------------------------------
DEMO_PID=""
RUN_PID=""  # the benchmark client running now
teardown() {
  trap - EXIT INT TERM
  set +e
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then kill "$RUN_PID"; wait "$RUN_PID"; fi
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
    kill "$DEMO_PID"  # `meridian demo` stops and reaps its placementd and spanservers
    wait "$DEMO_PID" 2>/dev/null
  fi
  for node in s2 s1 primary; do
    local pidfile=$PGDIR/$node/postmaster.pid
    if [ -f "$pidfile" ]; then
      local pid
      pid=$(head -1 "$pidfile")
      kill -INT "$pid" 2>/dev/null  # fast shutdown
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  echo "pg_side_by_side: stopped everything it started; data and logs in $BENCH_DIR"
}
trap teardown EXIT
trap 'exit 130' INT TERM

as_pg() { runuser -u postgres -- "$@"; }
psql_pg() { as_pg "$PGBIN/psql" -h "$SOCK" -p "$PG_PORT" -U postgres -Atq "$@"; }

# ---- PostgreSQL: primary + two synchronous standbys. ---------------------------------------------
pg_conf() {  # datadir port
  cat >>"$1/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$SOCK'
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 2GB
wal_level = replica
max_wal_senders = 10
hot_standby = on
logging_collector = off
CONF
}
pg_start() {  # datadir
  as_pg "$PGBIN/pg_ctl" -D "$1" -l "$1.log" -w start >/dev/null
}
start_postgres() {
  echo "postgres: primary on 127.0.0.1:$PG_PORT, standbys s1 :$((PG_PORT + 1)) s2 :$((PG_PORT + 2))"
  as_pg "$PGBIN/initdb" -D "$PGDIR/primary" -A trust -U postgres >/dev/null
  pg_conf "$PGDIR/primary" "$PG_PORT"
  echo "synchronous_standby_names = 'ANY 1 (s1,s2)'" >>"$PGDIR/primary/postgresql.conf"
  echo "host replication all 127.0.0.1/32 trust" >>"$PGDIR/primary/pg_hba.conf"
  pg_start "$PGDIR/primary"
  for i in 1 2; do
    local d=$PGDIR/s$i
    as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$d" -R -X stream -c fast
    sed -i "s/^port = .*/port = $((PG_PORT + i))/" "$d/postgresql.conf"
    echo "primary_conninfo = 'host=127.0.0.1 port=$PG_PORT user=postgres application_name=s$i'" \
      >>"$d/postgresql.auto.conf"
    pg_start "$d"
  done
  for _ in $(seq 100); do
    [ "$(psql_pg -c "select count(*) from pg_stat_replication where state = 'streaming'")" = 2 ] &&
      break
    sleep 0.2
  done
  echo "postgres: $(psql_pg -c "select string_agg(application_name || ' ' || sync_state, ', ' order by 1) from pg_stat_replication"); synchronous_standby_names = $(psql_pg -c 'show synchronous_standby_names')"
}

# ---- Meridian: the demo cluster. ----------------------------------------------------------------
start_meridian() {
  echo "meridian: demo cluster, placement at 127.0.0.1:$MERIDIAN_PORT"
  "$MERIDIAN_BIN" demo --no_shell --workload_ms=0 --duration=86400 --dir="$BENCH_DIR/meridian" \
    --base_port="$MERIDIAN_PORT" >"$BENCH_DIR/meridian-demo.log" 2>&1 &
  DEMO_PID=$!
  for _ in $(seq 600); do
    grep -q "^Ready in" "$BENCH_DIR/meridian-demo.log" && return 0
    kill -0 "$DEMO_PID" 2>/dev/null || die "meridian demo exited: see $BENCH_DIR/meridian-demo.log"
    sleep 0.1
  done
  die "meridian demo not ready after 60 s: see $BENCH_DIR/meridian-demo.log"
}
meridian_workload() {  # workload args...
  "$MERIDIAN_BIN" workload "$@" --placement="127.0.0.1:$MERIDIAN_PORT" --spread="$SPREAD"
}

# ---- One run of each system: writes "tps p50 p90 p99 failed" to $RESULT. -------------------------
# (Run in this shell, not in $(...), so that the teardown knows the client's PID.)
RESULT=$BENCH_DIR/runs/last
# Latency percentiles (ms) of pgbench's -l log files in `dir` (column 3: microseconds).
pgbench_percentiles() {
  cat "$1"/pgbench_log.* | awk '{print $3}' | sort -n |
    awk '{a[NR] = $1} END {printf "%.2f %.2f %.2f", a[int(NR * .5)] / 1000, a[int(NR * .9)] / 1000, a[int(NR * .99)] / 1000}'
}
run_pgbench_tpcb() {  # rep
  local dir=$BENCH_DIR/runs/pgbench-$1 out
  mkdir -p "$dir" && chown postgres "$dir"
  (cd "$dir" && as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PG_PORT" -U postgres -c "$CLIENTS" -j 2 \
    -T "$SECS" -l postgres >"$dir/out.txt" 2>&1) &
  RUN_PID=$!
  wait "$RUN_PID"
  RUN_PID=""
  out=$(cat "$dir/out.txt")
  local tps failed
  tps=$(awk '/^tps/ {print $3; exit}' <<<"$out")
  failed=$(awk '/failed transactions/ {print $5}' <<<"$out")
  echo "$tps $(pgbench_percentiles "$dir") ${failed:-0}" >"$RESULT"
}
run_meridian_tpcb() {  # rep
  local json=$BENCH_DIR/runs/meridian-$1.json
  meridian_workload tpcb --scale="$SCALE" --clients="$CLIENTS" --duration="$SECS" \
    --json="$json" >"$BENCH_DIR/runs/meridian-$1.txt" 2>&1 &
  RUN_PID=$!
  wait "$RUN_PID" || die "meridian workload failed: see $BENCH_DIR/runs/meridian-$1.txt"
  RUN_PID=""
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
print("%.2f %.2f %.2f %.2f %d" % (r["tps"], l["p50"], l["p90"], l["p99"], r["transactions"]["failed"]))' "$json" \
    >"$RESULT"
}
load_tpcb() {
  echo "load: pgbench -i -s $SCALE"
  as_pg "$PGBIN/pgbench" -h "$SOCK" -p "$PG_PORT" -U postgres -i -s "$SCALE" -q postgres 2>&1 | tail -1
  echo "load: meridian workload tpcb --load --scale=$SCALE (--spread=$SPREAD)"
  meridian_workload tpcb --load --scale="$SCALE" >"$BENCH_DIR/meridian-load.txt" 2>&1 &
  RUN_PID=$!
  wait "$RUN_PID" || die "meridian load failed: see $BENCH_DIR/meridian-load.txt"
  RUN_PID=""
  grep -E "^(load:|spread:|  server)" "$BENCH_DIR/meridian-load.txt" || true
}

# ---- TPC-C: one driver (`meridian workload tpcc`) against both, --target=postgresql:// for
# PostgreSQL. SCALE is the number of warehouses; "tps" in the table is tpmC (New-Orders per
# minute) and the latencies are New-Order's. TPCC_ARGS passes more flags to every tpcc command
# (e.g. "--items=10000 --customers=300" for a quick look; "--pg_isolation=repeatable_read").
TPCC_ARGS=${TPCC_ARGS:-}
pg_target() { echo "postgresql:///postgres?host=$SOCK&port=$PG_PORT&user=postgres"; }
tpcc_result() {  # json file -> "tpmC p50 p90 p99 failed" of New-Order
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
n = r["transactions"]["new_order"]
l = n["latency_ms"]
failed = sum(t["failed"] for t in r["transactions"].values())
print("%.1f %.2f %.2f %.2f %d" % (r["tpmC"], l["p50"], l["p90"], l["p99"], failed))' "$1" >"$RESULT"
}
run_tpcc() {  # system rep target-args...
  local system=$1 rep=$2
  shift 2
  local json=$BENCH_DIR/runs/$system-$rep.json
  # shellcheck disable=SC2086
  "$MERIDIAN_BIN" workload tpcc "$@" --warehouses="$SCALE" --clients="$CLIENTS" \
    --duration="$SECS" --check --json="$json" $TPCC_ARGS >"$BENCH_DIR/runs/$system-$rep.txt" 2>&1 &
  RUN_PID=$!
  wait "$RUN_PID" || die "$system tpcc run or check failed: see $BENCH_DIR/runs/$system-$rep.txt"
  RUN_PID=""
  tpcc_result "$json"
}
run_pgbench_tpcc() { run_tpcc postgresql "$1" --target="$(pg_target)"; }
run_meridian_tpcc() {
  run_tpcc meridian "$1" --placement="127.0.0.1:$MERIDIAN_PORT" --spread="$SPREAD"
}
load_tpcc() {
  for system in postgresql meridian; do
    local target=(--target="$(pg_target)")
    [ "$system" = meridian ] && target=(--placement="127.0.0.1:$MERIDIAN_PORT" --spread="$SPREAD")
    echo "load: meridian workload tpcc --load --check --warehouses=$SCALE on $system"
    # shellcheck disable=SC2086
    "$MERIDIAN_BIN" workload tpcc "${target[@]}" --load --check --warehouses="$SCALE" $TPCC_ARGS \
      >"$BENCH_DIR/$system-load.txt" 2>&1 &
    RUN_PID=$!
    wait "$RUN_PID" || die "$system tpcc load failed: see $BENCH_DIR/$system-load.txt"
    RUN_PID=""
    grep -E "^(load:|check:)" "$BENCH_DIR/$system-load.txt" || true
  done
}

# ---- Rounds, summary, JSON. ---------------------------------------------------------------------
start_postgres
start_meridian
"load_$WORKLOAD"

declare -a PG_RUNS MERIDIAN_RUNS
echo "runs: $REPS rounds of pgbench then meridian, $CLIENTS clients, ${SECS} s each, closed loop"
for ((rep = 1; rep <= REPS; rep++)); do
  "run_pgbench_$WORKLOAD" "$rep"
  line=$(cat "$RESULT")
  PG_RUNS+=("$line")
  read -r tps p50 p90 p99 failed <<<"$line"
  printf 'rep=%d system=postgresql tps=%s p50_ms=%s p90_ms=%s p99_ms=%s failed=%s\n' \
    "$rep" "$tps" "$p50" "$p90" "$p99" "$failed"
  "run_meridian_$WORKLOAD" "$rep"
  line=$(cat "$RESULT")
  MERIDIAN_RUNS+=("$line")
  read -r tps p50 p90 p99 failed <<<"$line"
  printf 'rep=%d system=meridian   tps=%s p50_ms=%s p90_ms=%s p99_ms=%s failed=%s\n' \
    "$rep" "$tps" "$p50" "$p90" "$p99" "$failed"
done

python3 - "$JSON" "$WORKLOAD" "$SCALE" "$CLIENTS" "$SECS" "$SPREAD" \
  "$(printf '%s\n' "${PG_RUNS[@]}")" "$(printf '%s\n' "${MERIDIAN_RUNS[@]}")" <<'PY'
import json, statistics, sys
path, workload, scale, clients, secs, spread, pg, mer = sys.argv[1:9]
fields = ["tps", "p50_ms", "p90_ms", "p99_ms", "failed"]
def runs(text):
    return [dict(zip(fields, map(float, line.split()))) for line in text.splitlines() if line]
systems = {"postgresql": runs(pg), "meridian": runs(mer)}
summary = {}
print("\n%-11s %-28s %-10s %-10s %-10s" % ("system", "tps median [min, max]", "p50 ms", "p90 ms", "p99 ms"))
for name, rs in systems.items():
    s = {f: statistics.median(r[f] for r in rs) for f in fields}
    s["tps_min"] = min(r["tps"] for r in rs)
    s["tps_max"] = max(r["tps"] for r in rs)
    summary[name] = s
    print("%-11s %-28s %-10.2f %-10.2f %-10.2f" % (
        name, "%.1f [%.1f, %.1f]" % (s["tps"], s["tps_min"], s["tps_max"]),
        s["p50_ms"], s["p90_ms"], s["p99_ms"]))
ratio = summary["meridian"]["tps"] / summary["postgresql"]["tps"]
print("meridian / postgresql (median tps): %.2fx" % ratio)
json.dump({"workload": workload, "scale": int(scale), "clients": int(clients),
           "duration_s": int(secs), "meridian_spread": spread == "true",
           "postgresql": {"setup": "primary + 2 standbys, synchronous_standby_names='ANY 1 (s1,s2)', "
                                   "synchronous_commit=on, fsync=on", "runs": systems["postgresql"],
                          "median": summary["postgresql"]},
           "meridian": {"setup": "meridian demo: 3 spanservers in 3 zones, 3 replicas per group",
                        "runs": systems["meridian"], "median": summary["meridian"]},
           "tps_ratio_meridian_to_postgresql": ratio},
          open(path, "w"), indent=2)
print("json: " + path)
PY
