"""End-to-end benchmark: the whole `shelfcheck refresh` on a synthetic world, in two states.

For each N (links) and database it
1. starts the world (benchmarks/e2e_world.py: H loopback hosts with latency L, P providers with
   listings) in state 1 and writes a catalog file of N resources (one link each) and the P
   providers with the benchmark recipe, and a shelfcheck.toml (allow_private_addresses = true,
   every report format and every export);
2. runs `shelfcheck refresh --report` in a child process (the real CLI, which runs each
   crawl in its own child), switches the world to state 2 (links die and move, offerings vanish,
   appear and change fees) and runs it again;
3. reports per run: wall time, each step's time (from the moment each step's line is printed),
   links/s of the link step, offerings/s of the listings step, peak RSS (whole process tree via
   wait4, and per step by polling /proc), database size, events written.
Then, on the same world in state 1, LinkChecker and linkinator check the same N links
(`--peers`), each installed in the benchmark's own environment on first use
(benchmarks/.venv-peers from PyPI, benchmarks/.node-peers from npm with the machine's Node.js,
the same installs as check_links.py).

    .venv/bin/python benchmarks/e2e.py                      # quick: N=1,000 on SQLite (< 1 min)
    .venv/bin/python benchmarks/e2e.py --links 10000 --db sqlite postgresql --peers all
    .venv/bin/python benchmarks/e2e.py --full                # 1k/10k/100k x SQLite/PostgreSQL,
                                                             # peers up to --peers-max-links
Benchmarks are not tests: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from check_links import NODE_PEERS, ensure_peers, log_lines, peak_in_flight  # noqa: E402
from e2e_world import STATE_KEY, WorldSpec, all_links, listing_url, recipe  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The console script, as a user runs it (`python -m` would put the working directory first on
# sys.path, where a folder named `reports` or `exports` shadows the packages).
SHELFCHECK = Path(sys.executable).with_name("shelfcheck")
EXPORTS = ["json", "csv", "ics", "atom", "html", "jsonld"]
STEP_LINE = re.compile(r"^(recover|sync|links|listings|report|exports): (\w+)")


# --- the world ---------------------------------------------------------------------------------


@dataclass
class RunningWorld:
    proc: subprocess.Popen[str]
    hosts: list[str]
    log: Path

    def set_state(self, state: int) -> None:
        url = f"{self.hosts[0]}/__control/?path={STATE_KEY}&status={state}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            answer.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def start_world(folder: Path, spec: WorldSpec, latency: float) -> RunningWorld:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "e2e_world.py"), "--dir", str(folder),
         "--hosts", str(spec.hosts), "--latency", str(latency), "--spec", spec.to_json()],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return RunningWorld(proc, list(info["hosts"].values()), Path(info["log"]))


def write_catalog(path: Path, spec: WorldSpec, hosts: list[str]) -> None:
    """The catalog file: P providers with the benchmark recipe, N resources in sections of 1,000.

    Written as text (a YAML dump of 100,000 resources would take longer than the run)."""
    def q(text: str) -> str:
        return json.dumps(text)  # JSON strings are YAML strings

    out = ["schema: shelfcheck.catalogfile/1",
           "guide: {title: Benchmark guide, url: 'https://guide.example.org/'}", "providers:"]
    for k in range(spec.providers):
        base = hosts[k % len(hosts)]
        rec = recipe(listing_url(base, k), spec.per_page, spec.offerings)
        out.append(f"  - slug: p{k}\n    name: Provider {k}\n    home: {q(base + '/')}\n"
                   f"    recipe: {json.dumps(rec)}")
    out.append("sections:")
    links = all_links(spec, hosts)
    for start in range(0, len(links), 1000):
        out.append(f"  - name: Section {start // 1000 + 1}\n    resources:")
        for i in range(start, min(start + 1000, len(links))):
            url = links[i][0]
            provider = f"\n        provider: p{i % spec.providers}" if i % 10 == 0 else ""
            out.append(f"      - title: Resource {i}\n        url: {q(url)}{provider}\n"
                       f"        description: Training resource number {i}.")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


# --- databases ---------------------------------------------------------------------------------


@dataclass
class Database:
    kind: str
    url: str
    name: str = ""
    path: Path | None = None

    def size_mb(self) -> float:
        if self.path is not None:
            total = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
            return total / 2**20
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN)
        with engine.connect() as conn:
            size = conn.scalar(text("SELECT pg_database_size(:n)"), {"n": self.name})
        engine.dispose()
        return float(size or 0) / 2**20

    def drop(self) -> None:
        if self.path is not None:
            return
        _pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def make_database(kind: str, work: Path, n: int) -> Database:
    if kind == "sqlite":
        path = work / f"e2e-{n}.db"
        for old in work.glob(path.name + "*"):
            old.unlink()
        return Database(kind, f"sqlite:///{path}", path=path)
    name = f"shelfcheck_e2e_{os.getpid()}_{n}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return Database(kind, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name=name)


# --- running refresh and watching its processes -------------------------------------------------


class TreeWatch(threading.Thread):
    """Polls /proc for the descendants of a process: each one's peak RSS (VmHWM) and lifetime."""

    def __init__(self, root: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.seen: dict[int, dict[str, Any]] = {}
        self.done = threading.Event()
        self.ticks = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.done.is_set():
            self.poll()
            self.done.wait(self.every)

    def poll(self) -> None:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, changed = {self.root}, True
        while changed:
            changed = False
            for pid, ppid in parents.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    changed = True
        now = time.perf_counter()
        for pid in tree:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if not match:
                continue
            info = self.seen.setdefault(pid, {"first": now, "hwm_mb": 0.0, "cmd": cmd})
            info["last"] = now
            info["hwm_mb"] = max(info["hwm_mb"], int(match.group(1)) / 1024)
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                info["cpu_s"] = (int(fields[11]) + int(fields[12])) / self.ticks
            except (OSError, IndexError, ValueError):
                pass


@dataclass
class RefreshRun:
    wall_s: float
    exit_code: int
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    output: str = ""


def run_refresh(work: Path, env: dict[str, str]) -> RefreshRun:
    """`python -m shelfcheck refresh --report` in `work`; each step timed by its output line."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(SHELFCHECK), "refresh", "--report"],
                            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    watch = TreeWatch(proc.pid)
    watch.start()
    assert proc.stdout is not None
    steps: dict[str, dict[str, Any]] = {}
    lines, last = [], started
    for line in proc.stdout:
        now = time.perf_counter()
        lines.append(line)
        match = STEP_LINE.match(line)
        if match:
            steps[match.group(1)] = {"outcome": match.group(2), "begin": last - started,
                                     "end": now - started, "s": round(now - last, 2),
                                     "line": line.strip()}
            last = now
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    watch.done.set()
    watch.join()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    # Each child process belongs to the step whose time window it started in.
    for pid, info in watch.seen.items():
        first = info["first"] - started
        owner = "refresh" if pid == proc.pid else next(
            (name for name, s in steps.items() if s["begin"] <= first <= s["end"]), "other")
        if owner in steps:
            steps[owner]["rss_mb"] = round(max(steps[owner].get("rss_mb", 0), info["hwm_mb"]))
            steps[owner]["cpu_s"] = round(steps[owner].get("cpu_s", 0) + info.get("cpu_s", 0), 1)
    parent = watch.seen.get(proc.pid, {}).get("hwm_mb", 0.0)
    for name in ("sync", "exports"):  # done in the refresh process itself
        if name in steps:
            steps[name]["rss_mb"] = round(parent)
    return RefreshRun(round(wall, 2), code, steps, round(usage.ru_maxrss / 1024),
                      round(usage.ru_utime + usage.ru_stime, 1), "".join(lines))


def run_stats(db_url: str) -> dict[str, Any]:
    """Per kind, the last run's stats; plus event counts and totals."""
    from sqlalchemy import create_engine, func, select

    from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, LinkCheck, Offering

    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url.removeprefix("postgresql://")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        runs = {}
        for kind in ("links", "listings"):
            row = conn.execute(select(CrawlRun.stats, CrawlRun.started_at, CrawlRun.finished_at)
                               .where(CrawlRun.kind == kind)
                               .order_by(CrawlRun.id.desc()).limit(1)).first()
            if row:
                runs[kind] = {"stats": row[0],
                              "s": (row[2] - row[1]).total_seconds() if row[2] else None}
        events = dict(conn.execute(select(ChangeEvent.kind, func.count())
                                   .group_by(ChangeEvent.kind)).all())
        totals = {
            "links": conn.scalar(select(func.count(Link.id))),
            "checks": conn.scalar(select(func.count(LinkCheck.id))),
            "offerings": conn.scalar(select(func.count(Offering.id))),
            "link_states": dict(conn.execute(select(Link.state, func.count())
                                             .group_by(Link.state)).all()),
        }
    engine.dispose()
    return {"runs": runs, "events": events, "totals": totals}


def bench_refresh(spec: WorldSpec, kind: str, world: RunningWorld, work: Path,
                  latency: float) -> dict[str, Any]:
    """Two refreshes (state 1, then state 2) of a fresh database; returns the figures."""
    n = spec.links
    case = work / f"{kind}-{n}"
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir(parents=True)
    write_catalog(case / "catalog.yaml", spec, world.hosts)
    db = make_database(kind, case, n)
    config = {
        "database_url": db.url, "catalog_file": str(case / "catalog.yaml"),
        "allow_private_addresses": True, "reports_dir": str(case / "report-out"),
        "exports": EXPORTS, "exports_dir": str(case / "export-out"), "log_level": "WARNING",
    }
    lines = [f"{k} = {json.dumps(v)}" for k, v in config.items()]
    (case / "shelfcheck.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    result: dict[str, Any] = {"links": n, "db": kind, "hosts": spec.hosts, "latency": latency,
                              "providers": spec.providers,
                              "offerings": spec.offerings * spec.providers, "runs": []}
    try:
        for state in (1, 2):
            world.set_state(state)
            run = run_refresh(case, env)
            stats = run_stats(db.url)
            links = stats["runs"].get("links", {}).get("stats", {})
            listings = stats["runs"].get("listings", {}).get("stats", {})
            steps = run.steps
            link_s = steps.get("links", {}).get("s")
            list_s = steps.get("listings", {}).get("s")
            figures = {
                "state": state, "exit": run.exit_code, "wall_s": run.wall_s,
                "step_s": {k: v["s"] for k, v in steps.items()},
                "step_rss_mb": {k: v.get("rss_mb") for k, v in steps.items()},
                "step_cpu_s": {k: v.get("cpu_s") for k, v in steps.items()},
                "peak_rss_mb": run.peak_rss_mb, "cpu_s": run.cpu_s,
                "load": round(os.getloadavg()[0], 1),
                "links_checked": links.get("checked"),
                "links_per_s": round(links.get("checked", 0) / link_s) if link_s else None,
                "link_crawl_s": links.get("elapsed_s"),
                "verdicts": links.get("verdicts"),
                "offerings_seen": listings.get("offerings"),
                "listing_pages": listings.get("pages"),
                "offerings_per_s": (round(listings.get("offerings", 0) / list_s)
                                    if list_s else None),
                "db_mb": round(db.size_mb(), 1),
                "events_total": stats["events"],
                "link_states": stats["totals"]["link_states"],
            }
            if run.exit_code not in (0, 3):
                figures["output"] = run.output[-3000:]
            result["runs"].append(figures)
            print(json.dumps(figures), flush=True)
    finally:
        db.drop()
    return result


# --- peers -------------------------------------------------------------------------------------


def ensure_linkinator() -> Path:
    """linkinator from npm, in check_links.py's prefix (benchmarks/.node-peers, on first use)."""
    exe = NODE_PEERS / "node_modules" / ".bin" / "linkinator"
    if not exe.exists():
        NODE_PEERS.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "linkinator"],
                       cwd=NODE_PEERS, check=True, stdout=subprocess.DEVNULL)
    return exe


def _timed(cmd: list[str], cwd: Path, stdout: Path) -> tuple[float, float, int]:
    """Run a command; (wall s, peak RSS MB of it and its children, exit code)."""
    started = time.perf_counter()
    with stdout.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, proc.returncode


def index_page(folder: Path, links: list[tuple[str, str]]) -> Path:
    """One page linking to every link (the peers start from a page, not a database)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # LinkChecker run as root drops to `nobody` and must read it
    index = folder / "index.html"
    index.write_text("<html><body>" + "".join(f'<a href="{u}">{i}</a>\n'
                                              for i, (u, _k) in enumerate(links))
                     + "</body></html>", encoding="utf-8")
    index.chmod(0o644)
    return index


def bench_linkchecker(spec: WorldSpec, world: RunningWorld, work: Path,
                      per_host: int) -> dict[str, Any]:
    exe = ensure_peers()
    folder = work / f"peer-linkchecker-{spec.links}"
    index = index_page(folder, all_links(spec, world.hosts))
    mark = log_lines(world.log)
    wall, rss, code = _timed(
        [str(exe), "--check-extern", "-r", "1", "--threads", str(spec.hosts * per_host),
         "--no-status", "--verbose", "-o", "csv", str(index)], folder, folder / "out.csv")
    text = (folder / "out.csv").read_text(encoding="utf-8", errors="replace")
    rows = [line for line in text.splitlines() if "/missing/" in line or "/moved/" in line]
    return {"tool": "LinkChecker " + _version([str(exe), "--version"]),
            "settings": f"--check-extern -r 1 --threads {spec.hosts * per_host}",
            "links": spec.links, "wall_s": round(wall, 2), "links_per_s": round(spec.links / wall),
            "max_rss_mb": round(rss), "exit": code,
            "not_found": sum(1 for r in rows if "/missing/" in r and "404" in r),
            "redirects": sum(1 for r in rows if "/moved/" in r and "redirect" in r.lower()),
            "peak_in_flight_per_host": peak_in_flight(world.log, mark),
            "requests": log_lines(world.log) - mark, "robots": "yes"}


def bench_linkinator(spec: WorldSpec, world: RunningWorld, work: Path,
                     concurrency: int) -> dict[str, Any]:
    """linkinator has no per-host limit: `--concurrency` bounds all hosts together."""
    exe = ensure_linkinator()
    folder = work / f"peer-linkinator-{spec.links}-{concurrency}"
    index = index_page(folder, all_links(spec, world.hosts))
    mark = log_lines(world.log)
    wall, rss, code = _timed(
        ["node", str(exe), str(index), "--concurrency", str(concurrency), "--format", "json",
         "--timeout", "20000"], folder, folder / "out.json")
    not_found = redirects = 0
    try:
        report = json.loads((folder / "out.json").read_text(encoding="utf-8"))
        for link in report.get("links", []):
            if "/missing/" in link.get("url", "") and link.get("status") == 404:
                not_found += 1
            if "/moved/" in link.get("url", "") and link.get("status") in (301, 308):
                redirects += 1
    except (OSError, ValueError):
        pass
    version = json.loads((NODE_PEERS / "node_modules" / "linkinator" / "package.json")
                         .read_text())["version"]
    return {"tool": f"linkinator {version} (Node {_version(['node', '--version'])})",
            "settings": f"--concurrency {concurrency} --format json",
            "links": spec.links, "wall_s": round(wall, 2), "links_per_s": round(spec.links / wall),
            "max_rss_mb": round(rss), "exit": code, "not_found": not_found,
            "redirects": redirects, "peak_in_flight_per_host": peak_in_flight(world.log, mark),
            "requests": log_lines(world.log) - mark, "robots": "no"}


def bench_check_links(spec: WorldSpec, world: RunningWorld, work: Path) -> dict[str, Any]:
    """`shelfcheck check-links` alone on a database synced from the same catalog (state 1)."""
    case = work / f"peer-shelfcheck-{spec.links}"
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir(parents=True)
    write_catalog(case / "catalog.yaml", spec, world.hosts)
    db_url = f"sqlite:///{case / 'links.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    env.update(SHELFCHECK_DATABASE_URL=db_url, SHELFCHECK_ALLOW_PRIVATE_ADDRESSES="true")
    subprocess.run([str(SHELFCHECK), "catalog", "sync",
                    str(case / "catalog.yaml")], cwd=case, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    mark = log_lines(world.log)
    started = time.perf_counter()
    proc = subprocess.Popen([str(SHELFCHECK), "check-links"], cwd=case,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stats = run_stats(db_url)["runs"].get("links", {}).get("stats", {})
    verdicts = Counter(stats.get("verdicts") or {})
    return {"tool": "shelfcheck check-links", "settings": "defaults (2 per host, robots.txt)",
            "links": spec.links, "wall_s": round(wall, 2), "links_per_s": round(spec.links / wall),
            "max_rss_mb": round(usage.ru_maxrss / 1024), "exit": proc.returncode,
            "not_found": verdicts["not_found"], "redirects": verdicts["redirected"],
            "peak_in_flight_per_host": peak_in_flight(world.log, mark),
            "requests": log_lines(world.log) - mark, "robots": "yes"}


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(r"v?(\d+\.\d+(\.\d+)?)", out)
    return match.group(1) if match else "?"


# --- output ------------------------------------------------------------------------------------


def machine() -> str:
    import platform
    import sqlite3

    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN)
        with engine.connect() as conn:
            pg = str(conn.scalar(text("SHOW server_version")))
        engine.dispose()
    except Exception:
        pg = "not reachable"
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return (f"{os.cpu_count()} cores ({cpu}), {int(mem) / 2**20:.1f} GiB memory, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"PostgreSQL {pg}, {platform.system()} {platform.release()}")


STEP_PROCESSES = {"links": "check-links child", "listings": "crawl child",
                  "report": "report child", "sync": "refresh itself (sync and exports)"}


def print_flatness(results: list[dict[str, Any]]) -> None:
    """Each step's peak RSS at the smallest and the largest N (state 1): flat is within ±20%."""
    sizes = sorted({res["links"] for res in results})
    if len(sizes) < 2:
        return
    small, large = sizes[0], sizes[-1]
    print(f"\n| DB | step (process) | peak RSS MB at {small:,} | at {large:,} | ratio | "
          "flat (±20%) |")
    print("|---|---|---|---|---|---|")
    for kind in dict.fromkeys(res["db"] for res in results):
        peaks: dict[int, dict[str, Any]] = {}
        for res in results:
            if res["db"] == kind and res["runs"]:
                peaks[res["links"]] = {
                    step: max(run["step_rss_mb"].get(step) or 0 for run in res["runs"])
                    for step in STEP_PROCESSES}
        if small not in peaks or large not in peaks:
            continue
        for step, process in STEP_PROCESSES.items():
            a, b = peaks[small][step], peaks[large][step]
            if a and b:
                ratio = b / a
                print(f"| {kind} | {step} ({process}) | {a} | {b} | {ratio:.2f} | "
                      f"{'yes' if abs(ratio - 1) <= 0.2 else 'no'} |")


def print_tables(results: list[dict[str, Any]], peers: list[dict[str, Any]]) -> None:
    """Markdown tables of every figure (the README's tables are pasted from these)."""
    print("\n| N links | DB | state | exit | wall s | CPU s | sync s | links s | links/s | "
          "listings s | offerings | offerings/s | report s | exports s | "
          "peak RSS MB links / listings / report / refresh | DB MB | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for res in results:
        for run in res["runs"]:
            s, r = run["step_s"], run["step_rss_mb"]
            print(f"| {res['links']:,} | {res['db']} | {run['state']} | {run['exit']} | "
                  f"{run['wall_s']} | {run['cpu_s']} | {s.get('sync')} | {s.get('links')} | "
                  f"{run['links_per_s']} | {s.get('listings')} | {run['offerings_seen']} | "
                  f"{run['offerings_per_s']} | {s.get('report')} | {s.get('exports')} | "
                  f"{r.get('links')} / {r.get('listings')} / {r.get('report')} / "
                  f"{r.get('sync')} | {run['db_mb']} | {run['load']} |")
    print_flatness(results)
    if peers:
        print("\n| tool | settings | N links | wall s | links/s | max RSS MB | 404s | "
              "301s reported | peak in flight/host | robots.txt | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for p in peers:
            print(f"| {p['tool']} | `{p['settings']}` | {p['links']:,} | {p['wall_s']} | "
                  f"{p['links_per_s']:,} | {p['max_rss_mb']} | {p['not_found']} | "
                  f"{p['redirects']} | {p['peak_in_flight_per_host']} | {p['robots']} | "
                  f"{p.get('load')} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, nargs="+", default=[1000])
    parser.add_argument("--db", nargs="*", default=["sqlite"], choices=["sqlite", "postgresql"],
                        help="databases to run refresh on (none: only the peers)")
    parser.add_argument("--full", action="store_true",
                        help="N = 1,000 10,000 100,000 on SQLite and PostgreSQL, all peers")
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--providers", type=int, default=10)
    parser.add_argument("--offerings", type=int, default=0,
                        help="offerings per provider (default N/100, at least 50)")
    parser.add_argument("--per-page", type=int, default=25)
    parser.add_argument("--peers", nargs="*", default=[],
                        choices=["linkchecker", "linkinator", "shelfcheck", "all"])
    parser.add_argument("--peers-max-links", type=int, default=10000,
                        help="run the peers only up to this N (LinkChecker takes ~1 min per "
                        "1,000 links)")
    parser.add_argument("--capped-max-links", type=int, default=1000,
                        help="also run linkinator with --concurrency = --per-host (its only way "
                        "to keep the per-host limit) up to this N")
    parser.add_argument("--per-host", type=int, default=2,
                        help="the per-host limit the peers get where they can take one")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.full:
        args.links, args.db = [1000, 10000, 100000], ["sqlite", "postgresql"]
        args.peers = args.peers or ["all"]
    peers_wanted = set(args.peers)
    if "all" in peers_wanted:
        peers_wanted = {"linkchecker", "linkinator", "shelfcheck"}

    print("machine:", machine(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="shelfcheck-e2e-"))
    work.chmod(0o755)  # LinkChecker run as root drops to `nobody` and must reach its index page
    results: list[dict[str, Any]] = []
    peers: list[dict[str, Any]] = []
    try:
        for n in args.links:
            spec = WorldSpec(links=n, hosts=args.hosts, providers=args.providers,
                             offerings=args.offerings or max(50, n // 100),
                             per_page=args.per_page)
            world = start_world(work / f"world-{n}", spec, args.latency)
            try:
                for kind in args.db:
                    print(f"== N={n:,} {kind}", flush=True)
                    results.append(bench_refresh(spec, kind, world, work, args.latency))
                if peers_wanted and n <= args.peers_max_links:
                    world.set_state(1)
                    runs: list[tuple[str, Any]] = [
                        ("shelfcheck", partial(bench_check_links, spec, world, work)),
                        # the same total budget as H hosts x the per-host limit (not per host)
                        ("linkinator", partial(bench_linkinator, spec, world, work,
                                               spec.hosts * args.per_host)),
                        ("linkchecker", partial(bench_linkchecker, spec, world, work,
                                                args.per_host)),
                    ]
                    if n <= args.capped_max_links:  # the only setting that keeps the limit
                        runs.insert(2, ("linkinator", partial(bench_linkinator, spec, world,
                                                              work, args.per_host)))
                    for name, run in runs:
                        if name not in peers_wanted:
                            continue
                        print(f"== N={n:,} peer {name}", flush=True)
                        row = run()
                        row["load"] = round(os.getloadavg()[0], 1)
                        peers.append(row)
                        print(json.dumps(row), flush=True)
            finally:
                world.stop()
    finally:
        if args.keep:
            print("work directory:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_tables(results, peers)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results,
                                         "peers": peers}, indent=1, default=str))


if __name__ == "__main__":
    main()
