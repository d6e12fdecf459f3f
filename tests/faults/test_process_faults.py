"""Process and storage faults: SIGKILL at random points of runs, a locked SQLite database, a
PostgreSQL connection terminated mid-run, and a full disk under a report or an export.

After every fault the database passes SQLite's integrity and foreign key checks (on SQLite) and
shelfcheck's own invariants (tests/faults/world.py: INVARIANTS), the next run completes, and no
data is lost: the catalog, the links' states and the offerings are what a clean run gives.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL
from tests.faults.world import (
    LINKS,
    World,
    check_integrity,
    clean_env,
    healthy_world,
    measure,
    query,
    run,
    shelfcheck_cmd,
    write_catalog,
)


def wait_group(process: subprocess.Popen[str], timeout: float = 15.0) -> None:
    """Wait for a process and every process left in its group (a refresh's step child)."""
    process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)


def sqlite_path(db_url: str) -> str:
    return db_url.removeprefix("sqlite:///")


def wait_for_apply(db_url: str, total: int, deadline: float) -> bool:
    """Poll until a running links run has stored all its checks (its apply is next)."""
    while time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(f"file:{sqlite_path(db_url)}?mode=ro", uri=True, timeout=1)
            try:
                row = conn.execute(
                    "SELECT count(*) FROM link_check c JOIN crawl_run r ON r.id = c.run_id "
                    "WHERE r.outcome = 'running' AND r.kind = 'links'").fetchone()
            finally:
                conn.close()
            if row and row[0] >= total:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.005)
    return False


KILLS = ("check-links", "crawl", "refresh", "refresh-group", "check-links-apply")


def kill_once(world: World, rng: random.Random, kind: str) -> dict[str, object]:
    """Start a run, SIGKILL it at a random moment (or as its link states are applied)."""
    args = {"check-links": ["check-links"], "check-links-apply": ["check-links"],
            "crawl": ["crawl"], "refresh": ["refresh"], "refresh-group": ["refresh"]}[kind]
    process = subprocess.Popen(shelfcheck_cmd(*args), cwd=world.cwd, env=world.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    started = time.monotonic()
    if kind == "check-links-apply":
        hit = wait_for_apply(world.db_url, LINKS, started + 30)
        delay = time.monotonic() - started
    else:
        delay = rng.uniform(0.3, 4.0 if kind.startswith("refresh") else 3.0)
        hit = process.poll() is None
        time.sleep(delay)
    if kind == "refresh-group":
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
    wait_group(process)
    return {"kind": kind, "at_s": round(delay, 2), "while_running": hit,
            "exit": process.returncode}


def assert_nothing_lost(world: World) -> None:
    """The runs after the faults give the catalog a clean run gives: nothing lost, no alarm."""
    links = dict(query(world.db_url, "SELECT state, count(*) FROM link GROUP BY state"))
    assert links == {"ok": LINKS}, links
    resources = query(world.db_url, "SELECT count(*) FROM resource WHERE state = 'active'")
    assert resources == [(LINKS,)]
    offerings = dict(query(world.db_url, "SELECT state, count(*) FROM offering GROUP BY state"))
    assert offerings == {"active": world.offerings}, offerings
    alarms = query(world.db_url, "SELECT kind, count(*) FROM change_event WHERE kind IN "
                                 "('link_broken', 'offering_removed', 'fee_changed', "
                                 "'offering_rescheduled', 'extractor_drift') GROUP BY kind")
    assert not alarms, f"false alarms after the kills: {alarms}"
    running = query(world.db_url, "SELECT id FROM crawl_run WHERE outcome = 'running'")
    assert not running, running


def kill_loop(world: World, iterations: int, seed: int) -> None:
    rng = random.Random(seed)
    # Every kind once (the apply-targeted kill first among them), then at random.
    kinds = ["check-links-apply", "crawl", "refresh-group", rng.choice(["check-links", "refresh"])]
    kinds += [rng.choice(KILLS) for _ in range(iterations - len(kinds))]
    kinds = kinds[:iterations]
    log: list[dict[str, object]] = []
    started = time.monotonic()
    for number, kind in enumerate(kinds):
        log.append(kill_once(world, rng, kind))
        integrity = check_integrity(world.db_url)
        assert not integrity.problems, (f"seed {seed}, kill {number} {log[-1]}: "
                                        f"{integrity.problems}")
    killed_s = time.monotonic() - started
    recovery: dict[str, float] = {}
    for command in ("check-links", "crawl"):
        done, seconds = run(command, cwd=world.cwd, env=world.env, timeout=120)
        assert done.returncode == 0, f"seed {seed}: {command}: {done.stdout}{done.stderr}"
        recovery[command] = round(seconds, 1)
    integrity = check_integrity(world.db_url)
    assert not integrity.problems, integrity.problems
    assert_nothing_lost(world)
    outcomes = dict(query(world.db_url, "SELECT outcome, count(*) FROM crawl_run "
                                        "GROUP BY outcome"))
    measure("SIGKILL loop", db=world.db_url.split(":")[0], seed=seed, kills=len(log),
            while_running=sum(bool(e["while_running"]) for e in log), kill_loop_s=round(
                killed_s, 1), recovery_s=recovery, run_outcomes=outcomes,
            counts=integrity.counts, kills_detail=log)


def test_sigkill_at_random_points(tmp_path: Path) -> None:
    seed = int(os.environ.get("SHELFCHECK_FAULT_SEED", random.randrange(1 << 30)))
    with healthy_world(tmp_path, f"sqlite:///{tmp_path / 'catalog.db'}") as world:
        kill_loop(world, iterations=4, seed=seed)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_many_times(tmp_path: Path) -> None:
    seed = int(os.environ.get("SHELFCHECK_FAULT_SEED", random.randrange(1 << 30)))
    with healthy_world(tmp_path, f"sqlite:///{tmp_path / 'catalog.db'}") as world:
        kill_loop(world, iterations=int(os.environ.get("SHELFCHECK_FAULT_KILLS", "30")),
                  seed=seed)


# --- a locked SQLite database ---------------------------------------------------------------

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO meta (key, value) VALUES ('held-by-test', 'x')")
print("held", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def test_locked_sqlite_database(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with healthy_world(tmp_path, db_url, links=5) as world:
        env = {**world.env, "SHELFCHECK_SQLITE_BUSY_TIMEOUT": "1"}
        (tmp_path / "changed.yaml").write_text(
            (tmp_path / "catalog.yaml").read_text(encoding="utf-8").replace("page 0", "page 00"),
            encoding="utf-8")
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, sqlite_path(db_url)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        try:
            dump = list(sqlite3.connect(sqlite_path(db_url)).iterdump())
            waits = {}
            for args in (["check-links"], ["catalog", "sync", "changed.yaml"], ["refresh"]):
                done, seconds = run(*args, cwd=tmp_path, env=env)
                assert done.returncode == 75, f"{args}: {done.returncode} {done.stderr}"
                assert "is locked by another process (waited for 1 s" in done.stderr
                assert "Traceback" not in done.stderr, done.stderr
                assert 1 <= seconds < 15, f"{args} gave up after {seconds:.1f} s"
                waits[" ".join(args)] = round(seconds, 1)
            assert list(sqlite3.connect(sqlite_path(db_url)).iterdump()) == dump
        finally:
            holder.stdin.close()
            holder.wait(timeout=10)
            holder.stdout.close()
        integrity = check_integrity(db_url)
        assert not integrity.problems, integrity.problems
        measure("locked SQLite", busy_timeout_s=1, gave_up_after_s=waits)


# --- a PostgreSQL connection dropped mid-run --------------------------------------------------

class BackendKiller(threading.Thread):
    """Terminates every backend of one PostgreSQL database, every `every` seconds."""

    def __init__(self, database: str, every: float) -> None:
        super().__init__(daemon=True)
        self.database, self.every = database, every
        self.stop = threading.Event()
        self.terminated = 0
        self.engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.wait(self.every):
                rows = conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": self.database})
                self.terminated += sum(1 for (ok,) in rows if ok)
        self.engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("command", ["check-links", pytest.param("crawl", marks=pytest.mark.slow)])
def test_postgres_connection_dropped(db_url: str, tmp_path: Path, command: str) -> None:
    database = db_url.rsplit("/", 1)[1]
    with healthy_world(tmp_path, db_url, links=60) as world:
        killer = BackendKiller(database, every=0.15)
        process = subprocess.Popen(shelfcheck_cmd(command), cwd=tmp_path, env=world.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # let it start its run, then keep cutting its connections
        killer.start()
        try:
            stdout, stderr = process.communicate(timeout=120)
        finally:
            killer.stop.set()
            killer.join(timeout=10)
        assert killer.terminated > 0, "no backend was terminated: nothing was tested"
        # 0: it got through; 1/4: the run failed; 2: the database could not be opened.
        assert process.returncode in (0, 1, 2, 4), f"exit {process.returncode}: {stderr[-2000:]}"
        assert "Traceback" not in stderr, stderr[:3000]
        said = [line for line in (stdout + stderr).splitlines()
                if line.startswith(("shelfcheck: error:", "listings run"))]
        if process.returncode:
            assert said and ("error" in said[-1] or "failed" in said[-1]), stdout + stderr
        last = said[-1] if said else ""
        integrity = check_integrity(db_url)
        assert not integrity.problems, integrity.problems
        failed = query(db_url, "SELECT id FROM crawl_run WHERE outcome <> 'ok'")
        for (run_id,) in failed:  # nothing of a run that did not conclude was committed
            assert not query(db_url, "SELECT id FROM change_event WHERE run_id = :r", r=run_id)
        again, seconds = run(command, cwd=tmp_path, env=world.env)
        assert again.returncode == 0, again.stdout + again.stderr
        integrity = check_integrity(db_url)
        assert not integrity.problems, integrity.problems
        measure("PostgreSQL backends terminated", command=command,
                terminated=killer.terminated, exit=process.returncode,
                message=last[:200], next_run_s=round(seconds, 1))


# --- a full disk ------------------------------------------------------------------------------

FALLBACK_LIMIT = 48 * 1024  # above SQLite's 32 kB WAL index, below the fallback's guide.html


def mount_tiny_filesystem(folder: Path) -> bool:
    """Mount a 64 kB tmpfs at `folder` (needs root); False when that is not permitted."""
    if os.environ.get("SHELFCHECK_FAULT_NO_MOUNT"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False).returncode == 0


def limit_file_size() -> None:
    """In the child: writes past FALLBACK_LIMIT fail with EFBIG ("File too large")."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FALLBACK_LIMIT, FALLBACK_LIMIT))


def fill(folder: Path) -> None:
    """Fill the filesystem of `folder` to the last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
            if not p.name.startswith("filler")}


def test_full_disk_keeps_the_previous_report_and_export(tmp_path: Path) -> None:
    """A 64 kB tmpfs filled to the last byte (as root); else, for the export, a file size
    limit on the writing process (a write that fails the same way)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = mount_tiny_filesystem(disk)
    if not mounted and not hasattr(resource, "RLIMIT_FSIZE"):
        pytest.skip("neither a tmpfs mount nor a file size limit is possible here")
    try:
        full_disk_case(tmp_path, disk, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)


def full_disk_case(tmp_path: Path, disk: Path, mounted: bool) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    count = 12 if mounted else 400  # the fallback's guide.html must outgrow FALLBACK_LIMIT
    catalog = write_catalog(tmp_path / "catalog.yaml",
                            [(f"<b>Resource {i}</b>", f"http://127.0.0.1:9/{i}")
                             for i in range(count)])
    env = clean_env(SHELFCHECK_DATABASE_URL=db_url)
    done, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    commands = {"export": ["export", "--format", "html", "--out", str(disk / "guide.html")]}
    if mounted:
        commands["report"] = ["report", "--days", "7", "--format", "md,html", "--out", str(disk)]
    for args in commands.values():  # the previous files
        first = subprocess.run(shelfcheck_cmd(*args), cwd=tmp_path, env=env,
                               capture_output=True, text=True, check=False)
        assert first.returncode == 0, first.stderr
    reports = query(db_url, "SELECT count(*) FROM report_record")
    # Sync a changed catalog, so that the new files differ from the old ones.
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("Resource 1<",
                                                                   "Resource one<"),
                       encoding="utf-8")
    done, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    before = digests(disk)
    if mounted:
        fill(disk)
    messages = {}
    for name, args in commands.items():
        started = time.monotonic()
        second = subprocess.run(shelfcheck_cmd(*args), cwd=tmp_path, env=env,
                                capture_output=True, text=True, check=False,
                                preexec_fn=None if mounted else limit_file_size)
        seconds = time.monotonic() - started
        assert second.returncode == 4, f"{name}: exit {second.returncode}: {second.stderr}"
        assert "Traceback" not in second.stderr, second.stderr
        assert "cannot write" in second.stderr and (
            "No space left on device" in second.stderr
            or "File too large" in second.stderr), second.stderr
        messages[name] = (second.stderr.strip().splitlines()[-1][-100:], round(seconds, 2))
    assert digests(disk) == before, "a previous file was changed or a temporary file left"
    assert query(db_url, "SELECT count(*) FROM report_record") == reports
    measure("full disk", how="tmpfs 64k" if mounted else "RLIMIT_FSIZE", messages=messages)
