"""Sharding the link check by host: the plan, and a sharded run against the loopback world.

The sharded run is compared with a one-process run of the same catalog: the same verdict for
every link, each host owned by one worker (one robots.txt and one soft-404 probe per host), at
most `max_in_flight_per_host` requests in flight per host (from the server's log), and no
request to a path robots.txt disallows.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import CrawlRun, Link, LinkCheck, Resource, Section, utcnow
from shelfcheck.catalog.urlnorm import host_of, normalize_url
from shelfcheck.config import load_settings
from shelfcheck.crawler.cpuuse import cpu_in_use
from shelfcheck.crawler.hostclaims import SharedHosts, dedicated_host
from shelfcheck.crawler.linkfeed import Feeder
from shelfcheck.crawler.linkshards import (
    MIN_LINKS_PER_WORKER,
    merge_crawls,
    worker_count,
)
from shelfcheck.crawler.linksource import LinkSource
from tests.conftest import run_shelfcheck
from tests.crawler.test_linkfeed import catalog
from tests.mockserver import MockServer

HOSTS = 12


def _shared(workers: int, dedicate: bool = False) -> Any:
    return SharedHosts.shared_state(multiprocessing.get_context("spawn"), workers, dedicate)


def test_workers_claim_whole_hosts_busiest_first_each_once() -> None:
    hosts = (("big", 2000), ("d", 1000), ("c", 990), ("a", 10), ("b", 10))
    shared = _shared(2)
    one, two = SharedHosts(hosts, shared, 0), SharedHosts(hosts, shared, 1)
    assert one.claim() == ("big", 2000)  # the largest queue starts first
    assert two.claim() == ("d", 1000)
    assert two.claim() == ("c", 990)  # whoever has room takes the next host
    assert one.claim() == ("a", 10)
    assert one.claim() == ("b", 10)
    assert one.claim() is None and two.claim() is None
    assert (one.links, two.links) == (2020, 1990)


def test_the_first_worker_to_start_takes_only_its_fair_part() -> None:
    hosts = tuple((f"h{i}", 10) for i in range(12))
    shared = _shared(2)
    first, late = SharedHosts(hosts, shared, 0), SharedHosts(hosts, shared, 1)
    claimed = [first.claim() for _ in range(12)]
    assert sum(1 for c in claimed if c) == 6  # half of what is left for the other
    assert sum(1 for _ in range(12) if late.claim()) == 6
    for _ in range(6):
        late.release()  # the late worker finished its hosts
    assert late.claim() is None  # nothing is left to claim
    assert first.links == late.links == 60


def test_a_slower_worker_claims_fewer_hosts(engine: Engine) -> None:
    """Two feeders share one queue; only one of them keeps finishing links, and it checks
    every host the other did not claim at the start."""
    per_host = {f"h{i}.example": 5 for i in range(40)}
    catalog(engine, per_host)
    source = LinkSource(engine)
    shared = _shared(2)
    queues = [SharedHosts(tuple(source.hosts()), shared, i) for i in range(2)]
    slow, fast = (Feeder(source, per_host=2, max_in_flight=4, hosts=q) for q in queues)
    slow.refill(False)
    steps = fast.refill(False)
    slow_hosts = set(slow.feeds)
    fast_hosts: set[str] = set()
    out = [row.host for _k, row, _p in steps]
    while out:
        host = out.pop(0)
        fast_hosts.add(host)
        fast.done(host)
        out.extend(row.host for _k, row, _p in fast.refill(False, host))
    assert slow_hosts and not slow_hosts & fast_hosts
    assert slow_hosts | fast_hosts == set(per_host)
    assert fast.total == 5 * len(fast_hosts) and slow.total == 5 * len(slow_hosts)
    assert list(shared)[2:] == [len(slow_hosts), 0]  # the fast one released all it finished


def test_a_dedicated_worker_keeps_the_busiest_host_alone_until_it_is_done() -> None:
    hosts = (("big", 2000), *((f"h{i}", 200) for i in range(9)))
    shared = _shared(2, dedicate=True)
    one, two = SharedHosts(hosts, shared, 0), SharedHosts(hosts, shared, 1)
    assert one.claim() == ("big", 2000)
    assert one.claim() is None  # its worker stays on the busiest host
    claimed = [two.claim() for _ in range(9)]
    assert all(claimed)  # the other worker's fair part is everything else
    assert two.claim() is None
    one.release()
    hosts = (("big", 2000), ("h0", 200), ("h1", 200), ("h2", 200))
    shared = _shared(2, dedicate=True)
    one, two = SharedHosts(hosts, shared, 0), SharedHosts(hosts, shared, 1)
    assert one.claim() and two.claim() == ("h0", 200)
    one.release()  # the busiest host is done: its worker takes its part again
    assert one.claim() == ("h1", 200)


def test_the_busiest_host_gets_a_worker_when_it_is_the_critical_path() -> None:
    heavy = [("big", 2000), *((f"h{i}", 200) for i in range(49))]  # issue 15's world
    even = [(f"h{i}", 100) for i in range(50)]  # the peer-bench world
    quiet, busy = (lambda: 0.1), (lambda: 0.9)
    assert dedicated_host(heavy, 2, 2, 0.05, quiet)
    assert not dedicated_host(even, 2, 2, 0.05, quiet)
    assert not dedicated_host(heavy, 2, 2, 0.05, busy)  # the others would starve
    assert not dedicated_host(heavy, 1, 2, 0.05, quiet)
    assert not dedicated_host([("", 5000), *heavy], 2, 2, 0.05, quiet)
    assert dedicated_host(heavy, 2, 2, None, quiet)  # never checked: 100 ms
    assert not dedicated_host(heavy, 2, 2, 0.001, quiet)  # a fast host


def test_cpu_in_use_is_a_share_of_the_machine() -> None:
    assert 0.0 <= cpu_in_use(0.05) <= 1.0


def test_worker_count_is_bounded_by_hosts_and_links() -> None:
    settings = load_settings(environ={}, overrides={"link_workers": 8}, cwd=Path("/"))
    many = [(f"h{i}", 1000) for i in range(20)]
    assert worker_count(settings, many) == 8
    assert worker_count(settings, [("h", 100_000)]) == 1  # one host: one worker
    assert worker_count(settings, [("h1", 300), ("h2", 300)]) == 1  # too few links
    assert worker_count(settings, [("", 5000), ("h1", 10)]) == 1  # "" is not a host
    assert worker_count(settings, many[:3]) == 3
    cores = load_settings(environ={}, cwd=Path("/"))
    assert cores.link_workers == 0
    assert 1 <= worker_count(cores, many) <= 20


def test_merge_sums_counts_and_keeps_the_first_problem() -> None:
    merged = merge_crawls([
        {"total": 3, "checked": 3, "requests": 5, "canary_failure": None, "error": None,
         "finish_reason": "finished"},
        {"total": 4, "checked": 2, "requests": 4, "canary_failure": "x: timeout",
         "error": "storing checks failed", "finish_reason": "pipeline_error"},
    ])
    assert merged == {"total": 7, "checked": 5, "requests": 9, "canary_failure": "x: timeout",
                      "error": "storing checks failed", "finish_reason": "pipeline_error"}


@pytest.fixture
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    folder = tmp_path_factory.mktemp("bench")
    with MockServer(folder, "--bench-hosts", str(HOSTS), "--latency", "0.02") as server:
        yield server


def heavy_tailed_links(server: MockServer, n: int) -> list[str]:
    """n links: a third on host 0, the rest round-robin; pages, 404s, 301s, robots-blocked."""
    urls = []
    for i in range(n):
        host = 0 if i % 3 == 0 else 1 + i % (HOSTS - 1)
        kind = ("missing" if i % 20 == 7 else "moved" if i % 20 == 13
                else "private" if i % 50 == 11 else "page")
        urls.append(server.url(f"bench-{host}", f"/{kind}/{i}"))
    return urls


def load_links(db_url: str, urls: list[str]) -> None:
    engine = open_database(db_url)
    now = utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(insert(Section.__table__), [{"id": 1, "name": "Bench", "position": 0,
                                                      "active": True}])
            conn.execute(insert(Link.__table__), [
                {"id": i, "url": normalize_url(u), "host": host_of(normalize_url(u)),
                 "state": "unknown", "consecutive_failures": 0}
                for i, u in enumerate(urls, 1)])
            conn.execute(insert(Resource.__table__), [
                {"id": i, "title": f"Resource {i}", "section_id": 1, "url": u, "link_id": i,
                 "description": "", "position": i, "state": "active", "created_at": now,
                 "updated_at": now}
                for i, u in enumerate(urls, 1)])
    finally:
        engine.dispose()


def check(db_url: str, cwd: Path, workers: int) -> Any:
    return run_shelfcheck("check-links", cwd=cwd, timeout=240, env={
        "SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true",
        "SHELFCHECK_LINK_WORKERS": str(workers), "SHELFCHECK_DOWNLOAD_TIMEOUT": "10"})


def run_of(db_url: str, run_id: int) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            run = session.get(CrawlRun, run_id)
            assert run is not None
            rows = session.execute(
                select(Link.url, LinkCheck.verdict, LinkCheck.http_status, LinkCheck.final_url)
                .join(Link).where(LinkCheck.run_id == run_id)).all()
            return dict(run.stats or {}), {url: tuple(rest) for url, *rest in rows}
    finally:
        engine.dispose()


def test_sharded_run_matches_one_process_and_keeps_hosts_whole(
        bench: MockServer, db_url: str, tmp_path: Path) -> None:
    n = 2 * MIN_LINKS_PER_WORKER + 300
    load_links(db_url, heavy_tailed_links(bench, n))

    single = check(db_url, tmp_path, 1)
    assert single.returncode == 0, single.stderr
    mark = len(bench.requests())
    sharded = check(db_url, tmp_path, 2)
    assert sharded.returncode == 0, sharded.stderr
    log = bench.requests()[mark:]

    stats1, checks1 = run_of(db_url, 1)
    stats2, checks2 = run_of(db_url, 2)
    assert (stats1["workers"], stats2["workers"]) == (1, 2)
    assert len(checks2) == n
    assert {u: (v, t) for u, (v, _s, t) in checks2.items()} == \
        {u: (v, t) for u, (v, _s, t) in checks1.items()}  # the same verdict and target
    # The second run asks conditionally: the pages that sent validators answer 304.
    pages = [u for u, (v, s, _t) in checks1.items() if s == 200 and "/page/" in u]
    assert {checks2[u][1] for u in pages} == {304}
    verdicts = Counter(v for v, *_ in checks2.values())
    assert verdicts["not_found"] == n // 20 + (n % 20 > 7)
    assert verdicts["redirected"] > 0 and verdicts["blocked"] > 0
    assert stats2["links"] == n and stats2["checked"] == n

    robots: Counter[str] = Counter()
    probes: Counter[str] = Counter()
    peak: dict[str, int] = defaultdict(int)
    for entry in log:
        peak[entry["host"]] = max(peak[entry["host"]], entry["in_flight"])
        robots[entry["host"]] += entry["path"] == "/robots.txt"
        probes[entry["host"]] += entry["path"].startswith("/shelfcheck-probe-")
        assert not entry["path"].startswith("/private/"), entry  # robots.txt obeyed
    assert len(peak) == HOSTS
    assert max(peak.values()) <= 2, peak
    assert set(robots.values()) == {1}, robots  # each host owned by one worker
    assert set(probes.values()) == {1}, probes


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@contextmanager
def _sharded_check(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, latency: str,
                   *, until_requests: int, capture: bool = True,
                   ) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A `check-links` child over two workers, once the server has seen `until_requests`."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    folder = tmp_path_factory.mktemp("slow")
    with MockServer(folder, "--bench-hosts", str(HOSTS), "--latency", latency) as server:
        db_url = f"sqlite:///{tmp_path / 'shards.db'}"
        load_links(db_url, heavy_tailed_links(server, 2 * MIN_LINKS_PER_WORKER + 100))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
        env.update(SHELFCHECK_DATABASE_URL=db_url, SHELFCHECK_ALLOW_PRIVATE_ADDRESSES="true",
                   SHELFCHECK_LINK_WORKERS="2")
        proc = subprocess.Popen([sys.executable, "-m", "shelfcheck", "check-links"],
                                cwd=tmp_path, env=env, stdout=output, stderr=output, text=True)
        try:
            deadline = time.monotonic() + 60
            while len(server.requests()) < until_requests and time.monotonic() < deadline:
                time.sleep(0.2)
            yield proc, db_url
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait_gone(workers: list[int]) -> None:
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]


def test_workers_exit_when_their_parent_is_killed(tmp_path_factory: pytest.TempPathFactory,
                                                  tmp_path: Path) -> None:
    """A SIGKILLed check-links leaves no worker behind: each sees its control pipe close."""
    with _sharded_check(tmp_path_factory, tmp_path, "0.5", until_requests=2 * HOSTS,
                        capture=False) as (proc, _):
        workers = _children(proc.pid)
        assert len(workers) >= 2, workers  # the resource tracker may be a child too
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _wait_gone(workers)


def test_a_worker_that_dies_fails_the_run_and_moves_no_state(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """SIGKILL one worker mid-crawl: the run fails, the other worker is stopped, no link moves."""
    with _sharded_check(tmp_path_factory, tmp_path, "0.3",
                        until_requests=4 * HOSTS) as (proc, db_url):
        workers = [pid for pid in _children(proc.pid)
                   if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
                   and b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) >= 2, workers
        os.kill(workers[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, out + err
        assert "ended without a result" in err, err
        _wait_gone(workers)
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            run = session.scalars(select(CrawlRun)).one()
            assert run.outcome == "failed" and "link worker" in (run.detail or "")
            states = set(session.scalars(select(Link.state)))
            assert states == {"unknown"}  # nothing moved
    finally:
        engine.dispose()


def test_a_worker_does_not_rerun_the_console_script(tmp_path: Path) -> None:
    """Started from a script (as the `shelfcheck` console script is), a spawned worker does
    not import the CLI again: the script's path is hidden while the child is prepared."""
    (tmp_path / "probe.py").write_text(
        "import sys\n"
        "def probe(q):\n"
        "    q.put('shelfcheck.cli' in sys.modules)\n")
    (tmp_path / "script.py").write_text(
        "import multiprocessing, sys\n"
        "from shelfcheck.cli import main  # what the console script does\n"
        "from shelfcheck.crawler.linkshards import _main_not_reimported\n"
        "import probe\n"
        "if __name__ == '__main__':\n"
        "    ctx = multiprocessing.get_context('spawn')\n"
        "    for hidden in (False, True):\n"
        "        q = ctx.Queue()\n"
        "        p = ctx.Process(target=probe.probe, args=(q,))\n"
        "        if hidden:\n"
        "            with _main_not_reimported():\n"
        "                p.start()\n"
        "        else:\n"
        "            p.start()\n"
        "        print(hidden, q.get(), hasattr(sys.modules['__main__'], '__file__'))\n"
        "        p.join()\n")
    done = subprocess.run([sys.executable, str(tmp_path / "script.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split("\n")[:2] == ["False True True", "True False True"], done.stderr
