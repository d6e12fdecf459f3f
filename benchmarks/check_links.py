"""Benchmark `shelfcheck check-links` on a loopback world, optionally against LinkChecker.

The world (tests/mockserver/server.py --bench-hosts H --latency L) answers every request after
L seconds: 90% of the links answer 200, 5% answer 404, 5% answer 301 to a page that answers 200.
The catalog is written straight into a fresh SQLite database (the setup is not timed), then
`python -m shelfcheck check-links` runs in a child process at the polite defaults (robots.txt,
2 requests in flight per host). Reported: wall time, links/s, the child's peak RSS, verdict
counts, and the peak number of requests in flight per host as the server saw it.

    .venv/bin/python benchmarks/check_links.py --links 1000 5000 10000 100000
    .venv/bin/python benchmarks/check_links.py --links 5000 --peers linkchecker

LinkChecker runs from its own venv (benchmarks/.venv-peers, created on first use with
`pip install linkchecker`), linkinator from benchmarks/.node-peers (`npm install linkinator`),
each checking the same links from one index page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEERS_VENV = Path(__file__).with_name(".venv-peers")
NODE_PEERS = Path(__file__).with_name(".node-peers")


def world_links(hosts: list[str], n: int) -> list[tuple[str, str]]:
    """(url, expected) for n links spread round-robin over the hosts."""
    links = []
    for i in range(n):
        base = hosts[i % len(hosts)]
        kind = "missing" if i % 20 == 7 else "moved" if i % 20 == 13 else "page"
        links.append((f"{base}/{kind}/{i}", kind))
    return links


def build_catalog(db_url: str, links: list[tuple[str, str]]) -> None:
    """Write sections, resources and links with bulk inserts (fast for 100,000 links)."""
    from sqlalchemy import insert

    from shelfcheck.catalog.db import open_database
    from shelfcheck.catalog.models import Link, Resource, Section, utcnow
    from shelfcheck.catalog.urlnorm import host_of, normalize_url

    engine = open_database(db_url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Section.__table__), [{"id": 1, "name": "Bench", "position": 0,
                                                  "active": True}])
        for start in range(0, len(links), 5000):
            chunk = links[start:start + 5000]
            link_rows, res_rows = [], []
            for j, (url, _kind) in enumerate(chunk, start + 1):
                norm = normalize_url(url)
                link_rows.append({"id": j, "url": norm, "host": host_of(norm), "state": "unknown",
                                  "consecutive_failures": 0})
                res_rows.append({"id": j, "title": f"Resource {j}", "section_id": 1, "url": url,
                                 "link_id": j, "description": "", "position": j,
                                 "state": "active", "created_at": now, "updated_at": now})
            conn.execute(insert(Link.__table__), link_rows)
            conn.execute(insert(Resource.__table__), res_rows)
    engine.dispose()


def start_world(folder: Path, hosts: int,
                latency: float) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.mockserver.server", "--dir", str(folder),
         "--bench-hosts", str(hosts), "--latency", str(latency)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def run_child(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Run a command; returns (wall seconds, peak RSS in MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = 0
    return wall, usage.ru_maxrss / 1024, out


def peak_in_flight(log: Path, since: int) -> int:
    peaks: Counter[str] = Counter()
    with log.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i < since:
                continue
            entry = json.loads(line)
            peaks[entry["host"]] = max(peaks[entry["host"]], entry["in_flight"])
    return max(peaks.values()) if peaks else 0


def log_lines(log: Path) -> int:
    with log.open(encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def bench_shelfcheck(n: int, links: list[tuple[str, str]], work: Path, log: Path,
                     extra_env: dict[str, str]) -> dict[str, Any]:
    from sqlalchemy import func, select

    from shelfcheck.catalog.db import open_database
    from shelfcheck.catalog.models import LinkCheck

    db = work / f"bench-{n}.db"
    db.unlink(missing_ok=True)
    db_url = f"sqlite:///{db}"
    build_catalog(db_url, links)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    env.update({"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true",
                **extra_env})
    mark = log_lines(log)
    wall, rss, _out = run_child([sys.executable, "-m", "shelfcheck", "check-links"], env, work)
    engine = open_database(db_url)
    with engine.connect() as conn:
        verdicts = dict(conn.execute(select(LinkCheck.verdict, func.count())
                                     .group_by(LinkCheck.verdict)).all())
    engine.dispose()
    return {"tool": "shelfcheck", "links": n, "wall_s": round(wall, 2),
            "links_per_s": round(n / wall), "max_rss_mb": round(rss),
            "not_found": verdicts.get("not_found", 0), "redirected": verdicts.get("redirected", 0),
            "ok": verdicts.get("ok", 0), "other": sum(v for k, v in verdicts.items()
                                                     if k not in ("ok", "not_found",
                                                                  "redirected")),
            "peak_in_flight_per_host": peak_in_flight(log, mark),
            "requests": log_lines(log) - mark}


def ensure_peers() -> Path:
    """The LinkChecker executable in the benchmark's own venv (created on first use)."""
    exe = PEERS_VENV / "bin" / "linkchecker"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(PEERS_VENV / "bin" / "pip"), "install", "-q", "linkchecker"],
                       check=True)
    return exe


def bench_linkchecker(n: int, links: list[tuple[str, str]], work: Path,
                      log: Path) -> dict[str, Any]:
    exe = ensure_peers()
    work.chmod(0o777)  # LinkChecker run as root drops to user nobody, who must read and write here
    index = work / f"index-{n}.html"
    index.write_text("<html><body>" + "".join(f'<a href="{u}">{i}</a>\n'
                                              for i, (u, _k) in enumerate(links))
                     + "</body></html>")
    out_csv = work / f"linkchecker-{n}.csv"
    mark = log_lines(log)
    env = dict(os.environ)
    wall, rss, _out = run_child(
        [str(exe), "--check-extern", "-r", "1", "--threads", "20", "--no-status",
         "-o", "csv", "--file-output", f"csv/{out_csv}", str(index)], env, work)
    text = out_csv.read_text(encoding="utf-8", errors="replace") if out_csv.exists() else ""
    not_found = text.count("404 Not Found")
    redirected = sum(1 for line in text.splitlines()
                     if "/moved/" in line and "redirect" in line.lower())
    return {"tool": "LinkChecker", "links": n, "wall_s": round(wall, 2),
            "links_per_s": round(n / wall), "max_rss_mb": round(rss), "not_found": not_found,
            "redirected": redirected, "peak_in_flight_per_host": peak_in_flight(log, mark),
            "requests": log_lines(log) - mark}


def bench_linkinator(n: int, links: list[tuple[str, str]], work: Path,
                     log: Path) -> dict[str, Any]:
    """linkinator (npm, in benchmarks/.node-peers) on an index page of the same links."""
    exe = NODE_PEERS / "node_modules" / ".bin" / "linkinator"
    if not exe.exists():
        NODE_PEERS.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "linkinator"],
                       cwd=NODE_PEERS, check=True)
    site = work / f"site-{n}"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="{u}">{i}</a>\n' for i, (u, _k) in enumerate(links))
        + "</body></html>")
    mark = log_lines(log)
    wall, rss, out = run_child([str(exe), str(site / "index.html"), "--concurrency", "100",
                                "--format", "json"], dict(os.environ), work)
    try:
        found = json.loads(out).get("links", [])
    except ValueError:
        found = []
    not_found = sum(1 for link in found if link.get("status") == 404)
    return {"tool": "linkinator", "links": n, "wall_s": round(wall, 2),
            "links_per_s": round(n / wall), "max_rss_mb": round(rss), "not_found": not_found,
            "redirected": 0, "peak_in_flight_per_host": peak_in_flight(log, mark),
            "requests": log_lines(log) - mark}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=1, help="runs per size; the median is shown")
    parser.add_argument("--peers", nargs="*", default=[], choices=["linkchecker", "linkinator"])
    parser.add_argument("--env", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra SHELFCHECK_* settings for shelfcheck")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    work = Path(tempfile.mkdtemp(prefix="shelfcheck-bench-"))
    proc, info = start_world(work / "world", args.hosts, args.latency)
    log = Path(info["log"])
    hosts = list(info["hosts"].values())
    results = []
    try:
        for n in args.links:
            links = world_links(hosts, n)
            runs = [bench_shelfcheck(n, links, work, log, extra_env) for _ in range(args.runs)]
            best = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
            best["wall_s_runs"] = [r["wall_s"] for r in runs]
            results.append(best)
            print(json.dumps(best), flush=True)
            if "linkchecker" in args.peers:
                peer = bench_linkchecker(n, links, work, log)
                results.append(peer)
                print(json.dumps(peer), flush=True)
            if "linkinator" in args.peers:
                peer = bench_linkinator(n, links, work, log)
                results.append(peer)
                print(json.dumps(peer), flush=True)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| tool | links | wall s | links/s | max RSS MB | 404s | redirects "
          "| peak in flight/host |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tool']} | {r['links']:,} | {r['wall_s']} | {r['links_per_s']:,} | "
              f"{r['max_rss_mb']} | {r['not_found']} | {r['redirected']} | "
              f"{r['peak_in_flight_per_host']} |")
    if any("wall_s_runs" in r for r in results):
        print("\nruns:", {r["links"]: r.get("wall_s_runs") for r in results
                          if "wall_s_runs" in r})


if __name__ == "__main__":
    main()
