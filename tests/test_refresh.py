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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from catalog.db import transaction
from catalog.lock import lock_state
from catalog.models import CrawlRun, Meta, ReportRecord, RunLock, utcnow
from shelfcheck.config import Settings, load_settings
from shelfcheck.refresh import REFRESH_STEPS, run_steps
from tests.conftest import ROOT
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

    inconclusive = {**TARGET_SETS["ok"], "links": TARGET_SETS["mixed"]["links"]}
    again = run_steps(settings, engine, ["links", "listings"], targets=inconclusive)
    assert again.exit_code == 3


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


def test_step_ignoring_sigterm_is_killed(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file, stop_timeout=0.5)
    stop = threading.Event()
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(run_steps(
        settings, engine, ["links", "listings"], stop=stop, targets=TARGET_SETS["deaf"])))
    thread.start()
    running = wait_for(lambda: _running_links(engine))
    stop.set()  # what the SIGTERM handler of `refresh` does
    thread.join(30)
    assert outcomes(results[0]) == [("links", "aborted"), ("listings", "skipped")]
    assert results[0].stopped
    assert "killed" in results[0].steps[0].summary
    links = runs(engine)[0]
    assert links.id == running.id and links.outcome == "aborted"
    assert "stopped by a signal; killed" in (links.detail or "")


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


@pytest.mark.parametrize("victims", ["group", "parent"])
def test_sigkill_is_recovered_on_the_next_start(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path, victims: str
) -> None:
    settings = make_settings(db_url, tmp_path, catalog_file)
    proc = _start_driver(settings, tmp_path, "slow", new_session=True)
    running = wait_for(lambda: _running_links(engine))
    child_pid = int((running.holder or "").rpartition(":")[2])
    if victims == "group":
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    wait_for(lambda: _pid_gone(child_pid))  # an orphaned step notices and stops by itself
    state = lock_state(engine)
    assert state is not None and state.holder.startswith(f"{socket.gethostname()}:{proc.pid} ")
    left = next(r for r in runs(engine) if r.id == running.id)
    assert left.outcome == ("running" if victims == "group" else "aborted")

    result = run_steps(settings, engine, ["links"], targets=TARGET_SETS["ok"])
    assert result.exit_code == 0
    assert result.recovered == ([running.id] if victims == "group" else [])
    final = {r.id: r.outcome for r in runs(engine)}
    assert final[running.id] == "aborted"
    assert "running" not in final.values()
    assert not [k for k in meta_keys(engine) if k.startswith("partial:")]
