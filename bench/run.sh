#!/usr/bin/env bash
# Benchmark of scrape-tasks against the tools its users come from, on the same local fixture of the
# prefecture sites: the full workload (101 sites x KEYWORDS) by scrape-tasks (its real server and CLI),
# Scrapy and Celery (Redis broker), RUNS times each, interleaved; then the fixture's limits (wrk, the
# parse floor of lxml/parsel/BeautifulSoup and of scrape-tasks' own parser) and scrape-tasks at scale.
#
#   bench/run.sh                            # everything: 3 runs of each, limits, scale
#   RUNS=1 PEERS=scrape-tasks LIMITS=0 SCALE=0 bench/run.sh
#   CELERY_POOLS="gevent threads prefork" bench/run.sh
#
# Environment (defaults): RUNS=3  PEERS="scrape-tasks scrapy celery"  CELERY_POOLS="gevent prefork"  KEYWORDS=bovin,porcin,volaille
#   SCALE=1 (ListTasks latency at 10k/100k/1M tasks on SQLite and PostgreSQL, 1,000 progress subscribers,
#   StartTask from 32 clients, start-up time, idle RSS)  SCALE_SIZES="10000 100000 1000000"
#   POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres (an admin URL: the scale run creates its own database)
#   VENV=/tmp/bench-venv  SITE_DIR=/tmp/bench-site  OUT=/tmp/bench-runs/<timestamp>
#   CELERY_BROKER=redis://127.0.0.1:6379/9 (this Redis db is flushed before each Celery run)
#   LIMITS=1  WRK_SECONDS=10 (wrk runs RUNS times with 2 and with 1 client thread)
# Per run: wall time, pages and cards stored (from the SQLite result), HTTP requests nginx served,
# pages/s, peak RSS and CPU seconds (/usr/bin/time -v; Celery = worker + driver), nginx and Redis CPU
# seconds, CPU used by anything else on the machine during the timed window ("other CPU": background
# load that disturbs the figures), and whether the SQLite result matches the manifest exactly.
# Every result says what it measured: OUT/stamp.json (the commit, "-dirty" if the tree has uncommitted
# changes, the date and the machine) is taken before the build and copied into each results.jsonl row,
# limits.json, the first line of parse_floor.txt and scale.jsonl, and the top of summary.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${VENV:-/tmp/bench-venv}
SITE_DIR=${SITE_DIR:-/tmp/bench-site}
OUT=${OUT:-/tmp/bench-runs/$(date +%Y%m%d-%H%M%S)}
RUNS=${RUNS:-3}
PEERS=${PEERS:-"scrape-tasks scrapy celery"}
CELERY_POOLS=${CELERY_POOLS:-"gevent prefork"}
SCALE=${SCALE:-1}
SCALE_SIZES=${SCALE_SIZES:-"10000 100000 1000000"}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ROOT=$(cd "$HERE/.." && pwd)
BIN=$ROOT/target/release
CONCURRENCY=32
KEYWORDS=${KEYWORDS:-bovin,porcin,volaille}
CELERY_BROKER=${CELERY_BROKER:-redis://127.0.0.1:6379/9}
BASE_URL=http://127.0.0.1:8088
LIMITS=${LIMITS:-1}
WRK_SECONDS=${WRK_SECONDS:-10}
MANIFEST=$SITE_DIR/manifest.json
export KEYWORDS CELERY_BROKER BASE_URL MANIFEST

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
mkdir -p "$OUT"

# What this run measures, before the build: the binaries are built from this tree.
STAMP=$OUT/stamp.json
python3 "$HERE/report.py" stamp --repo "$ROOT" --out "$STAMP" >/dev/null
log "measuring: $(cat "$STAMP")"

log "building scrape-tasks (release)"
(cd "$ROOT" && cargo build --release --quiet --bin scrape-server --bin scrapectl --bin scrape-bench)

# ---------------------------------------------------------------- prerequisites
need_apt=()
[ -x /usr/bin/time ] || need_apt+=(time)
command -v curl >/dev/null || need_apt+=(curl)
if [ "$LIMITS" = 1 ] && ! command -v wrk >/dev/null; then need_apt+=(wrk); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ! -x "$VENV/bin/scrapy" ] || [ ! -x "$VENV/bin/celery" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi
PY=$VENV/bin/python

"$HERE/serve_site.sh" start "$SITE_DIR" >&2
NGINX_PID=$(cat /tmp/bench-nginx/nginx.pid)

broker_ping() { "$PY" -c "import redis,sys; redis.Redis.from_url(sys.argv[1]).ping()" "$CELERY_BROKER" 2>/dev/null; }
REDIS_STARTED_PID=
if [[ " $PEERS " == *" celery "* ]] && ! broker_ping; then
  command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes --pidfile "$OUT/redis.pid"
  for _ in $(seq 50); do broker_ping && break; sleep 0.1; done
  REDIS_STARTED_PID=$(cat "$OUT/redis.pid")
fi
cleanup() {
  if [ -n "$REDIS_STARTED_PID" ]; then kill "$REDIS_STARTED_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

nginx_requests() { curl -s "$BASE_URL/nginx_status" | awk 'NR==3 {print $3}'; }
# CPU seconds used so far by a process tree (nginx: the master we started and its workers)
tree_cpu() { "$PY" "$HERE/rss_tree.py" --cpu "$@"; }
nginx_cpu() { tree_cpu "$NGINX_PID"; }
# CPU seconds the whole machine has been busy (all cores; user+nice+system+irq+softirq+steal)
busy_cpu() { awk -v t="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat; }
cpu_delta() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }

# This machine may be shared: before each measurement wait (up to QUIET_MAX_WAIT s) until the whole
# machine used < 10% of one core over 3 s. Runs during which other processes still used more than 10%
# of one core are flagged "disturbed" by report.py and repeated (up to RETRIES times).
QUIET_MAX_WAIT=${QUIET_MAX_WAIT:-900}
RETRIES=${RETRIES:-3}
wait_quiet() {
  local waited=0 b0 b1 used
  while :; do
    b0=$(busy_cpu); sleep 3; b1=$(busy_cpu)
    used=$(cpu_delta "$b0" "$b1")
    awk -v u="$used" 'BEGIN {exit !(u < 0.3)}' && return 0
    if [ "$waited" -ge "$QUIET_MAX_WAIT" ]; then
      log "machine still busy (${used} CPU-s in 3 s) after ${waited}s: measuring anyway"; return 0
    fi
    [ $((waited % 60)) -eq 0 ] && log "machine busy (${used} CPU-s in 3 s by other processes), waiting"
    waited=$((waited + 3))
  done
}

# warm the page cache and nginx's open-file cache: one pass over every workload page
"$PY" "$HERE/check_result.py" paths "$MANIFEST" --keywords "$KEYWORDS" > "$OUT/paths.txt"
awk -v b="$BASE_URL" '{printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", b, $0}' "$OUT/paths.txt" | curl -s -K -
log "workload: $(wc -l < "$OUT/paths.txt") pages; results in $OUT"

# ---------------------------------------------------------------- peers
run_scrapy() {
  local i=$1 tag="scrapy-$i" r0 r1 c0 c1 b0 b1
  rm -f "$OUT/$tag.db"*
  r0=$(nginx_requests); c0=$(nginx_cpu); b0=$(busy_cpu)
  ( cd "$HERE/peers/scrapy_job" &&
    DB="$OUT/$tag.db" /usr/bin/time -v -o "$OUT/$tag.time" \
      "$VENV/bin/scrapy" runspider -L WARNING prefecture_spider.py > "$OUT/$tag.log" 2>&1 ) || true
  b1=$(busy_cpu); c1=$(nginx_cpu); r1=$(nginx_requests)
  "$PY" "$HERE/check_result.py" check "$MANIFEST" "$OUT/$tag.db" --keywords "$KEYWORDS" > "$OUT/$tag.check" || true
  "$PY" "$HERE/report.py" record --out "$OUT/results.jsonl" --peer scrapy --run "$i" \
    --wall-time "$OUT/$tag.time" --log "$OUT/$tag.log" --check "$OUT/$tag.check" \
    --requests $((r1 - r0 - 1)) --nginx-cpu "$(cpu_delta "$c0" "$c1")" \
    --stamp "$STAMP" --machine-busy "$(cpu_delta "$b0" "$b1")" >&2
}

run_celery() {
  local pool=$1 i=$2 tag="celery-$1-$2" tpid wpid spid="" redis_pid r0 r1 c0 c1 w0 w1 q0 q1 b0 b1 h0 h1 tree=()
  rm -f "$OUT/$tag.db"*
  "$PY" -c "import redis,sys; redis.Redis.from_url(sys.argv[1]).flushdb()" "$CELERY_BROKER"
  cd "$HERE/peers/celery_job"
  /usr/bin/time -v -o "$OUT/$tag.worker.time" \
    "$VENV/bin/celery" -A tasks worker --pool="$pool" --concurrency=$CONCURRENCY --loglevel=WARNING \
    > "$OUT/$tag.worker.log" 2>&1 &
  tpid=$!
  for _ in $(seq 100); do wpid=$(pgrep -P "$tpid" || true); [ -n "$wpid" ] && break; sleep 0.1; done
  [ -n "$wpid" ] || { echo "celery worker did not start; see $OUT/$tag.worker.log" >&2; exit 1; }
  if [ "$pool" = prefork ]; then
    "$PY" "$HERE/rss_tree.py" "$wpid" "$OUT/$tag.tree.json" --interval 0.2 &
    spid=$!
    tree=(--tree-mem "$OUT/$tag.tree.json")
  fi
  # wait until the worker answers, so the timed driver run starts against a warm worker
  for _ in $(seq 60); do
    "$PY" -c "from tasks import app; import sys; sys.exit(0 if app.control.ping(timeout=1) else 1)" 2>/dev/null && break
  done
  redis_pid=$("$PY" -c "import redis,sys; print(redis.Redis.from_url(sys.argv[1]).info('server')['process_id'])" "$CELERY_BROKER")
  h0=0; h1=0
  r0=$(nginx_requests); c0=$(nginx_cpu); w0=$(tree_cpu "$wpid"); q0=$(tree_cpu "$redis_pid")
  [ -n "$spid" ] && h0=$(tree_cpu "$spid"); b0=$(busy_cpu)
  DB="$OUT/$tag.db" /usr/bin/time -v -o "$OUT/$tag.time" "$PY" driver.py > "$OUT/$tag.log" 2>&1 || true
  b1=$(busy_cpu); [ -n "$spid" ] && h1=$(tree_cpu "$spid")
  q1=$(tree_cpu "$redis_pid"); w1=$(tree_cpu "$wpid"); c1=$(nginx_cpu); r1=$(nginx_requests)
  kill -TERM "$wpid"            # warm shutdown of the worker we started
  wait "$tpid" || true
  if [ -n "$spid" ]; then wait "$spid" || true; fi
  cd "$HERE"
  "$PY" "$HERE/check_result.py" check "$MANIFEST" "$OUT/$tag.db" --keywords "$KEYWORDS" > "$OUT/$tag.check" || true
  "$PY" "$HERE/report.py" record --out "$OUT/results.jsonl" --peer "celery-$pool" --run "$i" \
    --wall-time "$OUT/$tag.time" --time "$OUT/$tag.worker.time" "${tree[@]}" --log "$OUT/$tag.log" \
    --check "$OUT/$tag.check" --requests $((r1 - r0 - 1)) --nginx-cpu "$(cpu_delta "$c0" "$c1")" \
    --stamp "$STAMP" --machine-busy "$(cpu_delta "$b0" "$b1")" --window-cpu "$(cpu_delta "$w0" "$w1")" \
    --redis-cpu "$(cpu_delta "$q0" "$q1")" --harness-cpu "$(cpu_delta "$h0" "$h1")" >&2
}

run_scrape_tasks() {
  local i=$1 tag="scrape-tasks-$i" port=50151 tpid spid r0 r1 c0 c1 w0 w1 b0 b1
  local server="http://127.0.0.1:$port"
  rm -rf "$OUT/$tag.db"* "$OUT/$tag.exports"
  # The server runs before the timed command, as the Celery worker does; the user waits for the CLI.
  /usr/bin/time -v -o "$OUT/$tag.server.time" "$BIN/scrape-server" --listen "127.0.0.1:$port" \
    --database-url "sqlite://$OUT/$tag.db" --site-base-url "$BASE_URL/{domain}" --export-dir "$OUT/$tag.exports" \
    --workers 1 --concurrency $CONCURRENCY --per-host-concurrency $CONCURRENCY --per-host-delay-ms 0 \
    --per-server-concurrency $CONCURRENCY --per-server-delay-ms 0 --catalog "$HERE/catalog.txt" \
    > "$OUT/$tag.server.log" 2>&1 &
  tpid=$!
  for _ in $(seq 100); do spid=$(pgrep -P "$tpid" || true); [ -n "$spid" ] && break; sleep 0.05; done
  for _ in $(seq 200); do "$BIN/scrapectl" --server "$server" health >/dev/null 2>&1 && break; sleep 0.05; done
  r0=$(nginx_requests); c0=$(nginx_cpu); w0=$(tree_cpu "$spid"); b0=$(busy_cpu)
  /usr/bin/time -v -o "$OUT/$tag.time" "$BIN/scrapectl" --server "$server" -o json \
    start -k "$KEYWORDS" --watch > "$OUT/$tag.log" 2>&1 || true
  b1=$(busy_cpu); w1=$(tree_cpu "$spid"); c1=$(nginx_cpu); r1=$(nginx_requests)
  kill -TERM "$spid"
  wait "$tpid" || true
  # The crawl time as the server measured it (the task's elapsed time).
  "$PY" -c 'import json,sys; p=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]; print("SUMMARY " + json.dumps({"crawl_seconds": round(p["elapsed_seconds"], 2)}))' \
    "$OUT/$tag.log" >> "$OUT/$tag.log" || true
  "$PY" "$HERE/check_result.py" check "$MANIFEST" "$OUT/$tag.db" --keywords "$KEYWORDS" > "$OUT/$tag.check" || true
  "$PY" "$HERE/report.py" record --out "$OUT/results.jsonl" --peer scrape-tasks --run "$i" \
    --wall-time "$OUT/$tag.time" --time "$OUT/$tag.server.time" --log "$OUT/$tag.log" --check "$OUT/$tag.check" \
    --requests $((r1 - r0 - 1)) --nginx-cpu "$(cpu_delta "$c0" "$c1")" \
    --stamp "$STAMP" --machine-busy "$(cpu_delta "$b0" "$b1")" --window-cpu "$(cpu_delta "$w0" "$w1")" >&2
}

# run_once NAME CMD...: wait for a quiet machine, run, repeat while report.py flags the run disturbed (exit 3)
run_once() {
  local name=$1 attempt rc; shift
  for attempt in $(seq 0 "$RETRIES"); do
    wait_quiet
    if [ "$attempt" -gt 0 ]; then log "$name (attempt $((attempt + 1)))"; else log "$name"; fi
    rc=0; "$@" || rc=$?
    [ "$rc" -eq 3 ] || return "$rc"
    log "$name was disturbed by other processes"
  done
}

for i in $(seq "$RUNS"); do
  for peer in $PEERS; do
    case $peer in
      scrape-tasks) run_once "run $i: scrape-tasks" run_scrape_tasks "$i" ;;
      scrapy) run_once "run $i: scrapy" run_scrapy "$i" ;;
      celery) for pool in $CELERY_POOLS; do run_once "run $i: celery ($pool pool)" run_celery "$pool" "$i"; done ;;
      *) echo "unknown peer $peer" >&2; exit 2 ;;
    esac
  done
done

# ---------------------------------------------------------------- fixture limits
if [ "$LIMITS" = 1 ]; then
  wrk_args=()
  for r in $(seq "$RUNS"); do
    for t in 2 1; do
      wait_quiet
      log "wrk -t$t -c32 -d${WRK_SECONDS}s over the workload's pages (run $r)"
      WRK_PATHS="$OUT/paths.txt" wrk -t$t -c32 -d"${WRK_SECONDS}s" -s "$HERE/wrk_paths.lua" "$BASE_URL" \
        > "$OUT/wrk-t$t-$r.txt" 2>&1
      wrk_args+=(--wrk "$OUT/wrk-t$t-$r.txt:$t:32:$WRK_SECONDS")
    done
  done
  wait_quiet
  log "parse floor (lxml, parsel, BeautifulSoup) on the workload's pages"
  { printf 'STAMP '; cat "$STAMP"; } > "$OUT/parse_floor.txt"
  "$PY" "$HERE/parse_floor.py" "$MANIFEST" "$SITE_DIR" --keywords "$KEYWORDS" >> "$OUT/parse_floor.txt"
  wait_quiet
  log "parse floor of scrape-tasks' engine (scraper) on the same pages"
  "$BIN/scrape-bench" parse "$MANIFEST" "$SITE_DIR" --keywords "$KEYWORDS" >> "$OUT/parse_floor.txt"
  "$PY" "$HERE/report.py" limits "$OUT" "${wrk_args[@]}" --parse "$OUT/parse_floor.txt" --stamp "$STAMP"
fi

# ---------------------------------------------------------------- scrape-tasks at scale
if [ "$SCALE" = 1 ]; then
  wait_quiet
  log "scrape-tasks at scale (ListTasks latency, 1,000 subscribers, StartTask throughput, start-up, idle RSS)"
  pg_args=()
  if "$PY" -c "import socket,sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); socket.create_connection((p.hostname, p.port or 5432), 2)" "$POSTGRES_URL" 2>/dev/null; then
    pg_args=(--postgres "$POSTGRES_URL")
  else
    log "PostgreSQL not reachable at $POSTGRES_URL: scale figures on SQLite only"
  fi
  # scrape-bench prints one JSON line per measurement; the first line of the file is the stamp
  printf '{"measure": "stamp", "stamp": %s}\n' "$(cat "$STAMP")" > "$OUT/scale.jsonl"
  "$BIN/scrape-bench" scale --server-bin "$BIN/scrape-server" --work-dir "$OUT/scale" \
    --sizes "$SCALE_SIZES" "${pg_args[@]}" >> "$OUT/scale.jsonl"
fi

"$PY" "$HERE/report.py" summary "$OUT" | tee "$OUT/summary.txt"
