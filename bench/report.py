#!/usr/bin/env python3
"""Stamp a run with what it measured, record one peer run as a JSON line, and summarize runs (median, min, max).

  report.py stamp --repo DIR --out STAMP.json
                                  the commit of DIR (`git rev-parse HEAD`, "-dirty" if `git status` shows
                                  any change), the date (UTC) and the machine (nproc, CPU model, memory, kernel)
  report.py record --out RESULTS.jsonl --peer NAME --run N --wall-time FILE [--time FILE ...]
                   --log FILE --check FILE --requests N --nginx-cpu S [--tree-mem FILE] [--stamp STAMP.json]
  report.py limits RUN_DIR --wrk FILE:THREADS:CONNS:SECONDS ... --parse FILE [--stamp STAMP.json]
                                  writes RUN_DIR/limits.json from wrk outputs and parse_floor.py output
  report.py summary RUN_DIR       reads RUN_DIR/stamp.json, RUN_DIR/results.jsonl and RUN_DIR/limits.json

--wall-time: the /usr/bin/time -v file of the command a user waits for (its wall clock is "wall").
--time: further /usr/bin/time -v files whose CPU and peak RSS are added (e.g. the Celery worker).
--tree-mem: rss_tree.py output for a forking worker: its summed RSS/PSS replaces that worker's maxrss.
--stamp: a `stamp` output, copied into every row (record) or into limits.json (limits).
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys


def git(repo, *args):
    """Output of a git command in repo, or None when repo is not a git checkout or git is missing."""
    try:
        done = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    # /proc/cpuinfo of ARM machines has no "model name"; lscpu names them
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.machine() or None


def mem_total_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def stamp(a):
    """What a run measures, taken before it builds: any change to the tree after the commit makes it "-dirty"."""
    head = git(a.repo, "rev-parse", "HEAD")
    changes = git(a.repo, "status", "--porcelain")
    commit = "unknown" if head is None else head + ("-dirty" if changes else "")
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    value = {
        "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"nproc": nproc, "cpu_model": cpu_model(), "mem_total_gib": mem_total_gib(),
                    "kernel": platform.release() or None},
    }
    # one line, so that shell scripts can put it in front of text and JSON-lines outputs
    with open(a.out, "w") as f:
        f.write(json.dumps(value, ensure_ascii=False) + "\n")
    print(json.dumps(value, ensure_ascii=False))


def load_stamp(path):
    if not path:
        return None
    with open(path) as f:
        return json.load(f)


def stamp_lines(value):
    """The stamp as the summary's first lines."""
    if value is None:
        return ["Measured at: not recorded (no stamp.json; the commit and machine of these results are unknown)"]
    m = value.get("machine") or {}
    known = lambda v, unit="": "unknown" if v is None else f"{v}{unit}"
    how = " (reconstructed from history, not recorded by the run)" if value.get("reconstructed") else ""
    lines = [f"Measured at commit {value.get('commit', 'unknown')}{how} on {value.get('date', 'unknown')}",
             f"Machine: nproc {known(m.get('nproc'))}, CPU {known(m.get('cpu_model'))}, "
             f"memory {known(m.get('mem_total_gib'), ' GiB')}, kernel {known(m.get('kernel'))}"]
    if value.get("note"):
        lines.append(f"Note: {value['note']}")
    return lines


def parse_time_v(path):
    vals = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if ":" not in line:
                continue
            key, _, val = line.rpartition(": ")
            vals[key] = val
    wall = vals["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    parts = [float(p) for p in wall.split(":")]
    secs = 0.0
    for p in parts:
        secs = secs * 60 + p
    return {
        "wall_s": secs,
        "cpu_s": float(vals["User time (seconds)"]) + float(vals["System time (seconds)"]),
        "user_s": float(vals["User time (seconds)"]),
        "sys_s": float(vals["System time (seconds)"]),
        "maxrss_kb": int(vals["Maximum resident set size (kbytes)"]),
        "exit": int(vals.get("Exit status", "0")),
    }


def record(a):
    main = parse_time_v(a.wall_time)
    others = [parse_time_v(p) for p in a.time]
    summary = {}
    with open(a.log, errors="replace") as f:
        for line in f:
            if line.startswith("SUMMARY "):
                summary = json.loads(line[len("SUMMARY "):])
    with open(a.check) as f:
        check = json.loads(f.read().strip().splitlines()[-1])
    rss_kb = main["maxrss_kb"] + sum(o["maxrss_kb"] for o in others)
    pss_kb = None
    tree = None
    if a.tree_mem:
        with open(a.tree_mem) as f:
            tree = json.load(f)
        # the forking worker: summed tree memory instead of its largest single process
        rss_kb = main["maxrss_kb"] + tree["peak_rss_kb"]
        pss_kb = main["maxrss_kb"] + tree["peak_pss_kb"]
    row = {
        "peer": a.peer,
        "run": a.run,
        "wall_s": round(main["wall_s"], 2),
        "crawl_s": summary.get("crawl_seconds"),
        "pages": check["pages"],
        "cards": check["cards"],
        "documents": check["documents"],
        "http_requests": a.requests,
        "pages_per_s": round(check["pages"] / main["wall_s"], 1) if main["wall_s"] else None,
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "peak_pss_mb": round(pss_kb / 1024, 1) if pss_kb is not None else None,
        "cpu_s": round(main["cpu_s"] + sum(o["cpu_s"] for o in others), 2),
        # CPU of the peer's own processes inside the timed window (Celery: without worker start-up)
        "job_cpu_s": round(main["cpu_s"] + a.window_cpu, 2),
        "nginx_cpu_s": a.nginx_cpu,
        "redis_cpu_s": a.redis_cpu,
        # CPU used by anything else on the machine while the peer ran (background load)
        "other_cpu_s": round(a.machine_busy - main["cpu_s"] - a.window_cpu - a.nginx_cpu - (a.redis_cpu or 0)
                             - a.harness_cpu, 2),
        "sampler_cpu_s": a.harness_cpu or None,
        "machine_busy_pct": round(100 * a.machine_busy / (main["wall_s"] * os.cpu_count()), 1) if main["wall_s"] else None,
        "ok": bool(check["ok"]) and main["exit"] == 0,
        "mismatches": check["mismatches"],
        "examples": check["examples"][:3],
        "tree_procs": tree["peak_procs"] if tree else None,
    }
    if a.stamp:
        row["stamp"] = load_stamp(a.stamp)
    # other processes used more than 10% of one core on average while the peer ran
    row["disturbed"] = row["other_cpu_s"] > 0.10 * main["wall_s"]
    with open(a.out, "a") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps(row, ensure_ascii=False))
    return 3 if row["disturbed"] else 0


def fmt(values, digits=1):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    med = statistics.median(values)
    if min(values) == max(values):
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}–{max(values):.{digits}f}]"


def summary(run_dir):
    rows = []
    path = os.path.join(run_dir, "results.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    stamp_path = os.path.join(run_dir, "stamp.json")
    run_stamp = load_stamp(stamp_path) if os.path.exists(stamp_path) else next(
        (r["stamp"] for r in rows if r.get("stamp")), None)
    for line in stamp_lines(run_stamp):
        print(line)
    commits = {r["stamp"].get("commit") for r in rows if r.get("stamp")}
    if len(commits) > 1:
        print(f"WARNING: the runs were measured at different commits: {', '.join(sorted(commits))}")
    peers = []
    for r in rows:
        if r["peer"] not in peers:
            peers.append(r["peer"])
    cols = [("runs", None), ("wall s", "wall_s"), ("crawl s", "crawl_s"), ("pages", "pages"),
            ("cards", "cards"), ("docs", "documents"), ("HTTP req", "http_requests"),
            ("pages/s", "pages_per_s"), ("peak RSS MB", "peak_rss_mb"), ("peak PSS MB", "peak_pss_mb"),
            ("CPU s", "cpu_s"), ("CPU s in window", "job_cpu_s"), ("nginx CPU s", "nginx_cpu_s"), ("redis CPU s", "redis_cpu_s"),
            ("other CPU s", "other_cpu_s"), ("machine busy %", "machine_busy_pct"), ("matches manifest", "ok")]
    print(f"Results in {run_dir}: median [min–max] over runs")
    for peer in peers:
        all_rs = [r for r in rows if r["peer"] == peer]
        rs = [r for r in all_rs if not r.get("disturbed")]
        note = ""
        if len(rs) < len(all_rs):
            note = f"; {len(all_rs) - len(rs)} disturbed run(s) left out"
        if not rs:
            rs, note = all_rs, "; ALL runs disturbed by other processes: figures unreliable"
        print(f"\n== {peer} ({len(rs)} runs{note})")
        for label, key in cols[1:]:
            vals = [r.get(key) for r in rs]
            if key == "ok":
                text = f"{sum(1 for v in vals if v)}/{len(vals)} runs exact"
            elif all(v is None for v in vals):
                continue
            elif key in ("pages", "cards", "documents", "http_requests"):
                text = fmt(vals, 0)
            elif key in ("crawl_s", "wall_s", "cpu_s", "job_cpu_s", "nginx_cpu_s", "redis_cpu_s", "other_cpu_s"):
                text = fmt(vals, 2)
            else:
                text = fmt(vals, 1)
            print(f"  {label:17s} {text}")
        bad = [r for r in rs if not r["ok"]]
        for r in bad:
            print(f"  run {r['run']}: {r['mismatches']} mismatches, e.g. {r['examples']}")
    ratios(rows, peers)
    lim = os.path.join(run_dir, "limits.json")
    if os.path.exists(lim):
        with open(lim) as f:
            limits = json.load(f)
        print("\n== fixture limits")
        by_threads = {}
        for w in limits.get("wrk", []):
            by_threads.setdefault((w["threads"], w["connections"], w["seconds"]), []).append(w)
        for (threads, conns, secs), ws in sorted(by_threads.items(), reverse=True):
            print(f"  wrk {threads} thread(s), {conns} conns, {len(ws)} x {secs} s: "
                  f"{fmt([w['requests_per_s'] for w in ws], 0)} req/s, "
                  f"transfer {', '.join(w['transfer'] + '/s' for w in ws)}, errors/non-2xx {sum(w['errors'] for w in ws)}")
        pf = limits.get("parse_floor")
        if pf:
            n = limits.get("parse_pages")
            for name, v in pf.items():
                print(f"  parse {name:13s} median {v['median_ms']:.2f} ms/page, {n} pages in {v['total_s']:.2f} s "
                      f"on one core ({v['pages_per_s_one_core']:.0f} pages/s)")


def medians(rows, peer):
    rs = [r for r in rows if r["peer"] == peer and not r.get("disturbed")] or [r for r in rows if r["peer"] == peer]
    med = lambda key: statistics.median([r[key] for r in rs if r.get(key) is not None] or [0])
    return {key: med(key) for key in ("wall_s", "pages_per_s", "peak_rss_mb", "cpu_s", "job_cpu_s")} | {
        "exact": f"{sum(1 for r in rs if r['ok'])}/{len(rs)}", "runs": len(rs)}


def ratios(rows, peers):
    """scrape-tasks against each peer, and the table of the README."""
    if "scrape-tasks" not in peers:
        return
    ours = medians(rows, "scrape-tasks")
    print("\n== scrape-tasks / peer (medians)")
    for peer in peers:
        if peer == "scrape-tasks":
            continue
        theirs = medians(rows, peer)
        speed = ours["pages_per_s"] / theirs["pages_per_s"] if theirs["pages_per_s"] else float("nan")
        rss = ours["peak_rss_mb"] / theirs["peak_rss_mb"] if theirs["peak_rss_mb"] else float("nan")
        cpu = ours["cpu_s"] / theirs["cpu_s"] if theirs["cpu_s"] else float("nan")
        print(f"  vs {peer:16s} pages/s x{speed:.1f}   peak RSS x{rss:.2f} (1/{1 / rss:.1f})   CPU s x{cpu:.2f}")
    print("\n== table (markdown)")
    print("| system | wall s | pages/s | peak RSS MB | CPU s | runs exact |")
    print("|---|---|---|---|---|---|")
    for peer in peers:
        m = medians(rows, peer)
        print(f"| {peer} | {m['wall_s']:.2f} | {m['pages_per_s']:.0f} | {m['peak_rss_mb']:.0f} | {m['cpu_s']:.2f} | {m['exact']} |")


def limits(a):
    out = {"stamp": load_stamp(a.stamp), "wrk": []}
    for spec in a.wrk:
        path, threads, conns, secs = spec.rsplit(":", 3)
        with open(path) as f:
            text = f.read()
        rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
        transfer = re.search(r"Transfer/sec:\s+(\S+)", text)
        errors = 0
        socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
        if socket:
            errors += sum(int(x) for x in socket.groups())
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        if non2xx:
            errors += int(non2xx.group(1))
        total = re.search(r"(\d+) requests in ([\d.]+)s", text)
        out["wrk"].append({"threads": int(threads), "connections": int(conns), "seconds": int(secs),
                           "requests_per_s": float(rps.group(1)) if rps else 0.0,
                           "transfer": transfer.group(1) if transfer else "?",
                           "requests": int(total.group(1)) if total else None, "errors": errors})
    if a.parse:
        with open(a.parse) as f:
            for line in f:
                if line.startswith("PARSE_FLOOR "):
                    out["parse_floor"] = json.loads(line[len("PARSE_FLOOR "):])
                elif line.startswith("SCRAPE_TASKS_PARSE "):
                    out.setdefault("parse_floor", {})["scrape-tasks"] = json.loads(line[len("SCRAPE_TASKS_PARSE "):])
                elif line.startswith("pages="):
                    out["parse_pages"] = int(line.split()[0].split("=")[1])
    with open(os.path.join(a.run_dir, "limits.json"), "w") as f:
        json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--out", required=True)
    r.add_argument("--peer", required=True)
    r.add_argument("--run", type=int, required=True)
    r.add_argument("--wall-time", required=True)
    r.add_argument("--time", action="append", default=[])
    r.add_argument("--log", required=True)
    r.add_argument("--check", required=True)
    r.add_argument("--requests", type=int, required=True)
    r.add_argument("--nginx-cpu", type=float, required=True)
    r.add_argument("--tree-mem")
    r.add_argument("--machine-busy", type=float, required=True,
                   help="CPU seconds the whole machine was busy during the timed window")
    r.add_argument("--window-cpu", type=float, default=0.0,
                   help="CPU seconds of peer processes in the window not covered by --wall-time (Celery worker)")
    r.add_argument("--redis-cpu", type=float)
    r.add_argument("--harness-cpu", type=float, default=0.0, help="CPU of the memory sampler in the window")
    r.add_argument("--stamp", help="the run's stamp.json, copied into the row")
    lm = sub.add_parser("limits")
    lm.add_argument("run_dir")
    lm.add_argument("--wrk", action="append", default=[])
    lm.add_argument("--parse")
    lm.add_argument("--stamp", help="the run's stamp.json, copied into limits.json")
    st = sub.add_parser("stamp")
    st.add_argument("--repo", required=True, help="the checkout whose commit is measured")
    st.add_argument("--out", required=True)
    s = sub.add_parser("summary")
    s.add_argument("run_dir")
    a = ap.parse_args()
    if a.cmd == "stamp":
        stamp(a)
    elif a.cmd == "record":
        return record(a)
    elif a.cmd == "limits":
        limits(a)
    else:
        summary(a.run_dir)


if __name__ == "__main__":
    sys.exit(main())
