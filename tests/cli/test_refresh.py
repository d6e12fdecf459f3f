"""`shelfcheck refresh`: steps in order, each recorded; failures, time limits, signals, recovery.

Orchestration tests use real step functions (tests/scheduling_steps.py) in real child processes;
the crawl tests at the bottom run `python -m shelfcheck refresh` against a slow loopback server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.lock import lock_state
from shelfcheck.catalog.models import (
    ChangeEvent,
    CrawlRun,
    Meta,
    Offering,
    ReportRecord,
    RunLock,
    utcnow,
)
from shelfcheck.catalog.runs import StepResult
from shelfcheck.catalog.states import RunKind, RunOutcome, Step
from shelfcheck.config import Settings, load_settings
from shelfcheck.refresh import REFRESH_STEPS, STEP_TARGETS, RefreshResult, run_steps
from tests.conftest import ROOT, run_shelfcheck
from tests.loopback import LoopbackServer
from tests.scheduling_steps import TARGET_SETS

CATALOG = """\
schema: shelfcheck.catalogfile/1
guide:
  title: Test guide
providers:
  - slug: acme
    name: Acme Training
sections:
  - name: Training
    resources:
      - title: Acme webinars
        url: http://127.0.0.1:9/webinars
        provider: acme
      - title: Acme courses
        url: http://127.0.0.1:9/courses
        provider: acme
"""


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def make_settings(db_url: str, tmp_path: Path, catalog: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url, "catalog_file": str(catalog),
        "reports_dir": str(tmp_path / "reports"), "exports_dir": str(tmp_path / "exports"),
    }
    values.update(extra)
    return load_settings(None, values, environ={}, cwd=tmp_path)


def env_for(settings: Settings) -> dict[str, str]:
    """The settings as SHELFCHECK_* variables, for a child `python -m ...`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    for name, source in settings.sources.items():
        if source != "default":
            value = settings.values[name]
            env[f"SHELFCHECK_{name.upper()}"] = (
                ",".join(value) if isinstance(value, list) else str(value))
    return env


def runs(engine: Engine) -> list[CrawlRun]:
    with transaction(engine) as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def meta_keys(engine: Engine) -> list[str]:
    with transaction(engine) as session:
        return sorted(session.scalars(select(Meta.key)))


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def outcomes(result: Any) -> list[tuple[str, str]]:
    return [(s.kind, s.outcome) for s in result.steps]


def test_steps_run_in_order_each_recorded(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file, exports=["json"])
    seen: list[str] = []
    result = run_steps(settings, engine, REFRESH_STEPS, targets=TARGET_SETS["ok"],
                       on_step=lambda s: seen.append(s.kind))
    assert outcomes(result) == [("sync", "ok"), ("links", "ok"), ("listings", "ok"),
                                ("report", "ok"), ("exports", "ok")]
    assert seen == ["sync", "links", "listings", "report", "exports"]
    assert all(type(s.kind) is Step and isinstance(s.outcome, RunOutcome) for s in result.steps)
    assert result.exit_code == 0
    assert "synced" in result.steps[0].summary and "2 added" in result.steps[0].summary
    recorded = runs(engine)
    assert [(r.kind, r.outcome) for r in recorded] == [
        ("sync", "ok"), ("links", "ok"), ("listings", "ok"), ("report", "ok")]
    pids = {r.stats.get("pid") for r in recorded[1:]}
    assert os.getpid() not in pids and len(pids) == 3  # each step in its own process
    assert (tmp_path / "exports" / "catalog.json").is_file()
    assert lock_state(engine) is None

    again = run_steps(settings, engine, ["sync"], targets=TARGET_SETS["ok"])
    assert again.steps[0].outcome == "ok" and "unchanged" in again.steps[0].summary


def test_report_written_only_when_due(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file)
    now = utcnow()
    with transaction(engine) as session:
        session.add(ReportRecord(generated_at=now, period_start=now - timedelta(days=7),
                                 period_end=now, paths=[]))
    result = run_steps(settings, engine, ["report"], targets=TARGET_SETS["ok"])
    assert outcomes(result) == [("report", "skipped")]
    assert "not due" in result.steps[0].summary
    forced = run_steps(settings, engine, ["report"], force_report=True,
                       targets=TARGET_SETS["ok"])
    assert outcomes(forced) == [("report", "ok")]


def test_failing_step_does_not_stop_later_ones(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file)
    result = run_steps(settings, engine, REFRESH_STEPS, force_report=True,
                       targets=TARGET_SETS["mixed"])
    assert outcomes(result) == [("sync", "ok"), ("links", "inconclusive"),
                                ("listings", "failed"), ("report", "ok"),
                                ("exports", "skipped")]
    assert "the listings parser blew up" in result.steps[2].summary
    assert result.exit_code == 4
    by_kind = {r.kind: r for r in runs(engine)}
    assert by_kind["listings"].outcome == "failed"  # not left `running`
    assert "blew up" in (by_kind["listings"].detail or "")


@pytest.mark.parametrize(("outcomes_", "code"), [
    (["ok", "skipped"], 0), (["ok", "inconclusive"], 3), (["inconclusive", "failed"], 4),
    (["aborted", "ok"], 4), (["usage", "failed"], 2),
])
def test_exit_codes(outcomes_: list[str], code: int) -> None:
    steps = [StepResult("links", "failed", stats={"usage_error": True}) if o == "usage"
             else StepResult("links", o) for o in outcomes_]
    assert RefreshResult(steps).exit_code == code


def test_bad_catalog_file_fails_sync_and_names_the_line(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(CATALOG.replace("        provider: acme\n", "        provider: nobody\n",
                                      1), encoding="utf-8")
    settings = make_settings(db_url, tmp_path, broken)
    result = run_steps(settings, engine, ["sync", "links", "listings"],
                       targets=TARGET_SETS["ok"])
    assert outcomes(result) == [("sync", "failed"), ("links", "skipped"),
                                ("listings", "skipped")]
    assert f"{broken}:12" in result.steps[0].summary
    assert "unknown provider 'nobody'" in result.steps[0].summary
    assert result.exit_code == 2
    assert [(r.kind, r.outcome) for r in runs(engine)] == [("sync", "failed")]

    # Once a catalog was synced, a broken file no longer keeps the checks from running.
    good = make_settings(db_url, tmp_path, catalog_file)
    assert run_steps(good, engine, ["sync"], targets=TARGET_SETS["ok"]).exit_code == 0
    result = run_steps(settings, engine, ["sync", "links"], targets=TARGET_SETS["ok"])
    assert outcomes(result) == [("sync", "failed"), ("links", "ok")]
    assert result.exit_code == 2


def test_runs_left_running_are_recovered(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    with transaction(engine) as session:
        left = CrawlRun(kind="links", outcome="running", holder="gone-host:999999")
        session.add(left)
        session.flush()
        left_id = left.id
    settings = make_settings(db_url, tmp_path, catalog_file)
    result = run_steps(settings, engine, ["sync"], targets=TARGET_SETS["ok"])
    assert outcomes(result) == [("recover", "ok"), ("sync", "ok")]
    assert result.recovered == [left_id]
    first = runs(engine)[0]
    assert first.outcome == "aborted" and first.finished_at is not None


def test_time_limit_stops_the_step_and_rolls_back(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file, job_time_limit=2.5)
    result = run_steps(settings, engine, ["links", "sync"], targets=TARGET_SETS["slow"])
    assert outcomes(result) == [("links", "aborted"), ("sync", "ok")]
    assert "time limit of 2.5 s" in result.steps[0].summary
    assert result.exit_code == 4
    links = runs(engine)[0]
    assert links.kind == "links" and links.outcome == "aborted"
    assert not [k for k in meta_keys(engine) if k.startswith("partial:")]


def _in_thread(settings: Settings, engine: Engine, steps: list[str], targets: str,
               stop: threading.Event) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(run_steps(
        settings, engine, steps, stop=stop, targets=TARGET_SETS[targets])))
    thread.start()
    return thread, results


def test_stuck_step_is_killed(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file, stop_timeout=0.5)
    stop = threading.Event()
    thread, results = _in_thread(settings, engine, ["links", "listings"], "stuck", stop)
    running = wait_for(lambda: _running_links(engine))
    stop.set()  # what the SIGTERM handler of `refresh` does
    thread.join(30)
    assert outcomes(results[0]) == [("links", "aborted"), ("listings", "skipped")]
    assert results[0].stopped
    assert "killed" in results[0].steps[0].summary
    links = runs(engine)[0]
    assert links.id == running.id and links.outcome == "aborted"
    assert "stopped by a signal; killed" in (links.detail or "")


@pytest.mark.parametrize("targets", ["slow", "slow-driver"])
def test_sigterm_sent_to_the_step_itself_rolls_back(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path, targets: str
) -> None:
    """Aborted, not failed, also when the signal lands inside a driver that raises its own
    error for it."""
    settings = make_settings(db_url, tmp_path, catalog_file)
    thread, results = _in_thread(settings, engine, ["links", "sync"], targets, threading.Event())
    running = wait_for(lambda: _running_links(engine))
    os.kill(int((running.holder or "").rpartition(":")[2]), signal.SIGTERM)
    thread.join(30)
    assert outcomes(results[0]) == [("links", "aborted"), ("sync", "ok")]
    assert results[0].steps[0].summary == "stopped by SIGTERM"
    links = runs(engine)[0]
    assert links.outcome == "aborted" and "stopped by SIGTERM" in (links.detail or "")
    assert not [k for k in meta_keys(engine) if k.startswith("partial:")]


def test_lock_held_exits_75_with_a_clear_message(cli: Any, db_url: str, engine: Engine) -> None:
    now = utcnow()
    with transaction(engine) as session:
        session.add(RunLock(name="refresh", holder="cron-host:4242 refresh", acquired_at=now,
                            expires_at=now + timedelta(hours=6)))
    result = cli("--database-url", db_url, "refresh")
    assert result.exit_code == 75
    assert "another run holds the run lock: cron-host:4242 refresh since" in result.output
    assert runs(engine) == []


def _start_driver(settings: Settings, tmp_path: Path, target_set: str,
                  new_session: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.scheduling_steps", target_set], cwd=ROOT,
        env=env_for(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=new_session,
    )


def _running_links(engine: Engine) -> CrawlRun | None:
    return next((r for r in runs(engine) if r.kind == "links" and r.outcome == "running"), None)


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow  # the same case with the real crawl: test_sigterm_during_a_listings_crawl...
def test_sigterm_aborts_the_running_step_and_the_next_run_is_clean(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file)
    proc = _start_driver(settings, tmp_path, "slow")
    running = wait_for(lambda: _running_links(engine))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err
    assert "links: aborted" in out and "listings: skipped" in out
    run = next(r for r in runs(engine) if r.id == running.id)
    assert run.outcome == "aborted" and run.finished_at is not None
    assert not [k for k in meta_keys(engine) if k.startswith("partial:")]
    assert lock_state(engine) is None

    result = run_steps(settings, engine, ["sync", "links"], targets=TARGET_SETS["ok"])
    assert result.exit_code == 0 and result.recovered == []
    assert "recover" not in [s.kind for s in result.steps]


@pytest.mark.slow  # the same case with the real crawl: test_sigkill_during_a_link_check...
def test_sigkill_is_recovered_on_the_next_start(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file)
    proc = _start_driver(settings, tmp_path, "slow", new_session=True)
    running = wait_for(lambda: _running_links(engine))
    child_pid = int((running.holder or "").rpartition(":")[2])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    wait_for(lambda: _pid_gone(child_pid))  # the orphaned step notices and exits by itself
    state = lock_state(engine)
    assert state is not None and state.holder.startswith(f"{socket.gethostname()}:{proc.pid} ")
    left = next(r for r in runs(engine) if r.id == running.id)
    assert left.outcome == "running"

    result = run_steps(settings, engine, ["links"], targets=TARGET_SETS["ok"])
    assert outcomes(result) == [("recover", "ok"), ("links", "ok")]
    assert result.recovered == [running.id] and result.exit_code == 0
    final = {r.id: r.outcome for r in runs(engine)}
    assert final[running.id] == "aborted"
    assert "running" not in final.values()
    assert not [k for k in meta_keys(engine) if k.startswith("partial:")]


# --- `python -m shelfcheck refresh` with the real crawls, against a slow loopback site -----------

SITE_CATALOG = """\
schema: shelfcheck.catalogfile/1
guide:
  title: Test guide
providers:
  - slug: acme
    name: Acme Training
    home: {base}/res/1
    recipe:
      listing: {base}/listing
      paginate: "a.next"
      item: "li.course"
      link: "a"
      follow: false
      fields:
        title: "a"
        fee: ".fee"
sections:
  - name: Training
    resources:
      - title: Acme courses
        url: {base}/res/1
        provider: acme
      - title: Acme webinars
        url: {base}/res/slow
        provider: acme
"""


class SlowSite(LoopbackServer):
    """tests/slowserver.py in a child process; its mode file and request log."""

    module = "tests.slowserver"

    def __init__(self, folder: Path) -> None:
        self.mode_file = folder / "site-mode"
        self.log_file = folder / "site-requests.log"
        super().__init__("--mode-file", str(self.mode_file), "--log", str(self.log_file))
        self.mode("a")

    def mode(self, mode: str) -> None:
        """Switch the site's mode and forget the requests so far."""
        self.mode_file.write_text(mode, encoding="utf-8")
        self.log_file.write_text("", encoding="utf-8")

    def requested(self, path: str) -> bool:
        return self.log_file.exists() and path in self.log_file.read_text().split()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SlowSite]:
    with SlowSite(tmp_path) as server:
        yield server


def site_env(db_url: str, tmp_path: Path, site: SlowSite) -> dict[str, str]:
    catalog = tmp_path / "site.yaml"
    catalog.write_text(SITE_CATALOG.format(base=site.base), encoding="utf-8")
    return {"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_CATALOG_FILE": str(catalog),
            "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true", "SHELFCHECK_EXPORTS": "json"}


def start_refresh(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    full.update(env)
    return subprocess.Popen([sys.executable, "-m", "shelfcheck", "refresh", *args], cwd=tmp_path,
                            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def fees(engine: Engine) -> dict[str, list[str]]:
    with transaction(engine) as session:
        return {o.title: [str(f.amount) for f in o.fees]
                for o in session.scalars(select(Offering).where(Offering.state == "active"))}


def events_of(engine: Engine, run_id: int) -> list[str]:
    with transaction(engine) as session:
        return sorted(session.scalars(select(ChangeEvent.kind)
                                      .where(ChangeEvent.run_id == run_id)))


def test_sigterm_during_a_listings_crawl_changes_no_offering(
    db_url: str, engine: Engine, tmp_path: Path, site: SlowSite
) -> None:
    env = site_env(db_url, tmp_path, site)
    first = run_shelfcheck("refresh", "--skip-links", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "listings: ok" in first.stdout and "report: ok" in first.stdout
    assert "exports: ok" in first.stdout and (tmp_path / "shelfcheck-exports").is_dir()
    before = fees(engine)
    assert before == {"Course 1": ["100.00"], "Course 2": ["50.00"]}

    site.mode("b-slow")  # page 1 changes a fee; page 2 (with a new course) hangs
    proc = start_refresh(tmp_path, env, "--skip-links")
    wait_for(lambda: site.requested("/listing?page=2"))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert "listings: aborted" in out and "stopped by SIGTERM" in err
    stopped = [r for r in runs(engine) if r.kind == "listings"][-1]
    assert stopped.outcome == "aborted" and stopped.finished_at is not None
    assert fees(engine) == before  # page 1's fee change was not applied
    assert events_of(engine, stopped.id) == []
    assert lock_state(engine) is None

    site.mode("b")
    clean = run_shelfcheck("refresh", "--skip-links", cwd=tmp_path, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "recover" not in clean.stdout and "report: skipped" in clean.stdout
    assert fees(engine) == {"Course 1": ["150.00"], "Course 2": ["50.00"],
                            "Course 3": ["75.00"]}
    last = [r for r in runs(engine) if r.kind == "listings"][-1]
    assert last.outcome == "ok"
    assert events_of(engine, last.id) == ["fee_changed", "offering_added"]


def test_sigkill_during_a_link_check_is_recovered(
    db_url: str, engine: Engine, tmp_path: Path, site: SlowSite
) -> None:
    env = site_env(db_url, tmp_path, site)
    site.mode("b-slow")  # /res/slow hangs
    proc = start_refresh(tmp_path, env, "--skip-listings")
    wait_for(lambda: site.requested("/res/slow"))
    running = wait_for(lambda: _running_links(engine))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    child = int((running.holder or "").rpartition(":")[2])
    wait_for(lambda: _pid_gone(child))  # the orphaned crawl exits by itself
    assert _running_links(engine) is not None
    state = lock_state(engine)
    assert state is not None and state.holder.startswith(f"{socket.gethostname()}:{proc.pid} ")

    site.mode("a")
    again = run_shelfcheck("refresh", "--skip-listings", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"recover: ok: marked runs {running.id} aborted" in again.stdout
    assert "links: ok" in again.stdout and "2 ok" in again.stdout
    outcomes_by_id = {r.id: (r.kind, r.outcome) for r in runs(engine)}
    assert outcomes_by_id[running.id] == ("links", "aborted")
    assert "running" not in {o for _k, o in outcomes_by_id.values()}
    assert lock_state(engine) is None


def test_steps_are_declared_once() -> None:
    """Each run kind is the refresh step of its name, and refresh runs every step but the
    recovery line, in the order Step declares them."""
    assert {k.value for k in RunKind} <= {s.value for s in Step}
    assert REFRESH_STEPS == (Step.SYNC, Step.LINKS, Step.LISTINGS, Step.REPORT, Step.EXPORTS)
    assert set(STEP_TARGETS) <= set(REFRESH_STEPS)
