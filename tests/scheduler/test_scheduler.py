"""scheduler.py / `shelfcheck schedule`: cron jobs from the configuration, a persistent job store,
coalesced missed runs, the run lock, and a clean stop on SIGTERM."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, inspect

from shelfcheck import scheduler
from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.lock import lock_state
from shelfcheck.catalog.models import RunLock, utcnow
from shelfcheck.config import Settings
from shelfcheck.errors import ConfigError
from shelfcheck.schedule import cron
from shelfcheck.schedule import store as jobstore
from tests.cli.test_refresh import (
    CATALOG,
    SlowSite,
    _running_links,
    env_for,
    make_settings,
    meta_keys,
    runs,
    site_env,
    wait_for,
)
from tests.cli.test_refresh import site as site
from tests.conftest import ROOT
from tests.scheduling_steps import TARGET_SETS

NEVER = "0 0 1 1 *"  # midnight on January 1st: does not fire during a test


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def sched_settings(db_url: str, tmp_path: Path, catalog: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {"schedule_links": NEVER, "schedule_listings": NEVER,
                              "schedule_report": NEVER, "schedule_jitter": 0}
    values.update(extra)
    return make_settings(db_url, tmp_path, catalog, **values)


@contextmanager
def running(settings: Settings, engine: Engine, targets: str = "ok") -> Iterator[None]:
    """The scheduler in a thread, stopped (as SIGTERM would) when the block ends."""
    stop = threading.Event()
    thread = threading.Thread(
        target=scheduler.serve, args=(settings, engine),
        kwargs={"targets": TARGET_SETS[targets], "stop": stop}, daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def job_lines(caplog: pytest.LogCaptureFixture, kind: str, what: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.getMessage().startswith(f"job {kind}: {what}")]


@pytest.mark.parametrize(("expression", "weekdays"), [
    ("0 7 * * 1", {0}), ("0 7 * * 0", {6}), ("0 7 * * 7", {6}), ("0 7 * * mon", {0}),
    ("0 7 * * 1-5", {0, 1, 2, 3, 4}), ("0 7 * * 5-7", {4, 5, 6}), ("0 7 * * */2", {6, 1, 3, 5}),
    ("0 7 * * 0,6", {5, 6}), ("0 7 * * *", set(range(7))),
])
def test_weekdays_follow_crontab(expression: str, weekdays: set[int]) -> None:
    trigger = cron.parse_cron(expression, ZoneInfo("UTC"))
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    seen = set()
    for _ in range(14):
        fire = trigger.get_next_fire_time(None, moment)
        assert fire is not None and (fire.hour, fire.minute) == (7, 0)
        seen.add(fire.weekday())
        moment = fire + timedelta(seconds=1)
    assert seen == weekdays


def test_defaults_and_time_zone(tmp_path: Path) -> None:
    settings = make_settings("sqlite://", tmp_path, tmp_path / "none.yaml",
                             timezone="America/New_York")
    specs = {s.kind: s for s in cron.job_specs(settings)}
    assert {k: s.expression for k, s in specs.items()} == {
        "links": "0 2 * * *", "listings": "0 3 * * *", "report": "0 7 * * mon"}
    assert specs["links"].trigger.jitter == 60  # schedule_jitter
    tz = ZoneInfo("America/New_York")
    report = cron.parse_cron(specs["report"].expression, tz)
    fire = report.get_next_fire_time(None, datetime(2030, 3, 5, tzinfo=tz))
    assert fire == datetime(2030, 3, 11, 7, 0, tzinfo=tz)  # a Monday, after the DST change
    assert fire.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("schedule_links", "61 2 * * *", "key 'schedule_links': '61 2 * * *' is not a valid cron"),
    ("schedule_report", "0 7 * *", "expected 5 fields"),
    ("schedule_listings", "0 3 * * funday", "key 'schedule_listings'"),
    ("timezone", "Mars/Olympus", "key 'timezone': unknown time zone 'Mars/Olympus'"),
])
def test_bad_cron_expression_exits_2_naming_the_key(
    cli: Any, tmp_path: Path, key: str, value: str, message: str
) -> None:
    (tmp_path / "shelfcheck.toml").write_text(f'{key} = "{value}"\n', encoding="utf-8")
    for args in (["schedule"], ["schedule", "--list"]):
        result = cli("--database-url", f"sqlite:///{tmp_path}/x.db", *args)
        assert result.exit_code == 2
        assert message in result.output and "shelfcheck.toml" in result.output
    assert not (tmp_path / "x.db").exists()  # rejected before touching the database
    with pytest.raises(ConfigError):
        cron.job_specs(make_settings("sqlite://", tmp_path, tmp_path / "c.yaml",
                                          **{key: value}))


def test_job_fires_when_due(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shelfcheck.scheduler")
    settings = sched_settings(db_url, tmp_path, catalog_file, schedule_links="* * * * * *",
                              exports=["json"])
    with running(settings, engine):
        wait_for(lambda: job_lines(caplog, "links", "end"))
    assert [(r.kind, r.outcome) for r in runs(engine)][:2] == [("sync", "ok"), ("links", "ok")]
    assert (tmp_path / "exports" / "catalog.json").is_file()
    end = job_lines(caplog, "links", "end")[0]
    assert re.search(r"exit 0 in [\d.]+ s: sync ok \(run \d+\); links ok \(run \d+\); exports ok",
                     end), end
    assert job_lines(caplog, "links", "start")
    assert not job_lines(caplog, "listings", "start") and not job_lines(caplog, "report", "start")
    assert lock_state(engine) is None
    assert {"apscheduler_jobs"} <= set(inspect(engine).get_table_names())


def _daily_an_hour_ago() -> tuple[str, datetime]:
    last = (utcnow() - timedelta(hours=1)).replace(second=0, microsecond=0)
    return f"{last.minute} {last.hour} * * *", last


def _store(engine: Engine) -> Any:
    return jobstore.open_job_store(engine, BackgroundScheduler())


def _set_next_run(engine: Engine, job_id: str, when: datetime) -> None:
    """What a scheduler that is down for a while looks like: a stored next run in the past."""
    store = _store(engine)
    job = store.lookup_job(job_id)
    job._modify(next_run_time=when)
    store.update_job(job)


def _stored_next(engine: Engine, job_id: str) -> datetime | None:
    job = _store(engine).lookup_job(job_id)
    return job.next_run_time if job is not None else None


def test_job_store_persists_and_missed_runs_coalesce(
    cli: Any, db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path,
) -> None:
    expression, last = _daily_an_hour_ago()
    settings = sched_settings(db_url, tmp_path, catalog_file, schedule_links=expression,
                              schedule_misfire_grace_time=2 * 86400)
    with running(settings, engine):
        wait_for(lambda: _stored_next(engine, "links") is not None)
    tomorrow = last + timedelta(days=1)
    assert _stored_next(engine, "links") == tomorrow
    assert runs(engine) == []

    # The scheduler was down for three days: four run times passed.
    _set_next_run(engine, "links", last - timedelta(days=3))
    (tmp_path / "shelfcheck.toml").write_text(
        f'schedule_links = "{expression}"\nschedule_misfire_grace_time = {2 * 86400}\n'
        'schedule_jitter = 0\n', encoding="utf-8")
    listed = cli("--database-url", db_url, "schedule", "--list")
    assert listed.exit_code == 0, listed.output
    assert re.search(r"links .*at start \(missed .*\), then", listed.output), listed.output

    # (The CLI call above reconfigured logging: count runs in the database, not log lines.)
    with running(settings, engine):
        wait_for(lambda: [r for r in runs(engine) if r.kind == "links" and r.outcome == "ok"])
        threading.Event().wait(1.0)  # a second run would start right away: give it the chance
    assert [(r.kind, r.outcome) for r in runs(engine)] == [("sync", "ok"), ("links", "ok")]
    assert _stored_next(engine, "links") == tomorrow


def test_changed_expression_reschedules_from_now(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path,
) -> None:
    settings = sched_settings(db_url, tmp_path, catalog_file)
    with running(settings, engine):
        wait_for(lambda: _stored_next(engine, "links") is not None)
    _set_next_run(engine, "links", utcnow() - timedelta(days=3))
    changed = sched_settings(db_url, tmp_path, catalog_file, schedule_links="30 4 * * *")
    planned = {p.spec.kind: p for p in jobstore.planned_jobs(changed, engine, utcnow())}
    assert planned["links"].missed is None
    nxt = planned["links"].next_run_time
    assert nxt is not None and (nxt.hour, nxt.minute) == (4, 30) and nxt > utcnow()
    unchanged = {p.spec.kind: p for p in jobstore.planned_jobs(settings, engine, utcnow())}
    assert unchanged["links"].missed is not None and not unchanged["links"].runs_at_start


def test_job_finding_the_lock_held_logs_a_skip(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shelfcheck.scheduler")
    now = utcnow()
    with transaction(engine) as session:
        session.add(RunLock(name="refresh", holder="cron-host:77 refresh", acquired_at=now,
                            expires_at=now + timedelta(hours=1)))
    settings = sched_settings(db_url, tmp_path, catalog_file, schedule_links="* * * * * *")
    with running(settings, engine):
        wait_for(lambda: job_lines(caplog, "links", "skipped"))
    skip = job_lines(caplog, "links", "skipped")[0]
    assert "another run holds the run lock: cron-host:77 refresh since" in skip
    assert runs(engine) == []


@pytest.mark.slow  # the same with the real crawl: test_sigint_stops_a_scheduled_crawl_cleanly
def test_sigterm_stops_the_running_job_cleanly(
    db_url: str, engine: Engine, tmp_path: Path, catalog_file: Path,
) -> None:
    settings = sched_settings(db_url, tmp_path, catalog_file, schedule_links="* * * * * *")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.scheduling_steps", "schedule", "slow"], cwd=ROOT,
        env=env_for(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    run = wait_for(lambda: _running_links(engine))
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "job links: start" in err and "job links: end: exit 4" in err
    assert "SIGTERM received, stopping" in err and err.rstrip().endswith("scheduler stopped"), err
    final = next(r for r in runs(engine) if r.id == run.id)
    assert final.outcome == "aborted" and "stopped by a signal" in (final.detail or "")
    assert not [k for k in meta_keys(engine) if k.startswith("partial:")]
    assert lock_state(engine) is None


def test_sigint_stops_a_scheduled_crawl_cleanly(
    db_url: str, engine: Engine, tmp_path: Path, site: SlowSite
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    env.update(site_env(db_url, tmp_path, site))
    env.update({"SHELFCHECK_SCHEDULE_LINKS": "* * * * * *", "SHELFCHECK_SCHEDULE_LISTINGS": NEVER,
                "SHELFCHECK_SCHEDULE_REPORT": NEVER, "SHELFCHECK_SCHEDULE_JITTER": "0"})
    site.mode("b-slow")  # /res/slow hangs
    log_file = tmp_path / "scheduler.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shelfcheck", "schedule", "--log-file", str(log_file)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: site.requested("/res/slow"))
    running_run = wait_for(lambda: _running_links(engine))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    log = log_file.read_text(encoding="utf-8")
    assert "job links: start" in log and "job links: end: exit 4" in log
    assert "SIGINT received, stopping" in log and log.rstrip().endswith("scheduler stopped")
    assert "Running job" not in log  # apscheduler's INFO lines would repeat ours
    final = next(r for r in runs(engine) if r.id == running_run.id)
    assert final.outcome == "aborted" and "stopped by a signal" in (final.detail or "")
    assert [r.outcome for r in runs(engine) if r.kind == "sync"] == ["ok"]
    assert lock_state(engine) is None
