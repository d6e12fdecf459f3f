"""The two open points of the scheduling work, resolved:

1. `check-links` and `crawl` take the run lock, so a manual run and a refresh never overlap
   (before, the refresh's recovery marked the manual run `aborted` while it was still working).
2. A link check's states move in one transaction with its run's outcome: `apply_run` commits
   nothing on its own, so a run killed while applying has moved no link.
"""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.linkstate import apply_run
from shelfcheck.catalog.lock import acquire_lock
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, LinkCheck, utcnow
from shelfcheck.catalog.runs import finish_run, start_run
from tests.faults.world import (
    check_integrity,
    clean_env,
    healthy_world,
    provider_recipe,
    query,
    run,
    shelfcheck_cmd,
    write_catalog,
)


def test_manual_commands_wait_for_the_lock_holder(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = write_catalog(tmp_path / "catalog.yaml", [("a page", "http://127.0.0.1:9/")],
                            {"p1": provider_recipe("http://127.0.0.1:9/listing")})
    env = clean_env(SHELFCHECK_DATABASE_URL=db_url, SHELFCHECK_ALLOW_PRIVATE_ADDRESSES="true")
    done, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    engine = open_database(db_url)
    try:
        with acquire_lock(engine, stale_after=600, purpose="refresh"):
            for command in ("check-links", "crawl"):
                done, _ = run(command, cwd=tmp_path, env=env)
                assert done.returncode == 75, done.stdout + done.stderr
                assert "another run holds the run lock" in done.stderr
                assert "refresh" in done.stderr
        assert query(db_url, "SELECT count(*) FROM crawl_run") == [(0,)]
        assert query(db_url, "SELECT count(*) FROM run_lock") == [(0,)]
    finally:
        engine.dispose()


def test_refresh_during_a_manual_check_leaves_it_alone(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with healthy_world(tmp_path, db_url) as world:
        manual = subprocess.Popen(shelfcheck_cmd("check-links"), cwd=tmp_path, env=world.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not query(db_url, "SELECT id FROM crawl_run WHERE outcome = 'running'"):
            assert time.monotonic() < deadline and manual.poll() is None, "no run started"
            time.sleep(0.05)
        refresh, _ = run("refresh", cwd=tmp_path, env=world.env)
        assert refresh.returncode == 75, refresh.stdout + refresh.stderr
        assert "check-links" in refresh.stderr, refresh.stderr
        out, err = manual.communicate(timeout=60)
        assert manual.returncode == 0, out + err
        assert query(db_url, "SELECT kind, outcome FROM crawl_run") == [("links", "ok")]
        assert not check_integrity(db_url).problems


def test_apply_commits_nothing_on_its_own(engine: Engine) -> None:
    """2,500 checks are applied in three batches inside the caller's transaction: when that
    transaction fails after the last batch, no link has moved."""
    checked = utcnow() - timedelta(minutes=1)
    with transaction(engine) as session:
        session.add_all(Link(url=f"https://example.org/{i}", host="example.org",
                             state="unknown", consecutive_failures=0) for i in range(2500))
    run_id = start_run(engine, "links")
    with transaction(engine) as session:
        ids = list(session.scalars(select(Link.id)))
        session.add_all(LinkCheck(link_id=i, run_id=run_id, verdict="ok" if n % 250 else
                                  "not_found", http_status=200 if n % 250 else 404,
                                  checked_at=checked) for n, i in enumerate(ids))

    class Killed(Exception):
        pass

    try:
        with transaction(engine) as session:
            events = apply_run(session, run_id, confirm_after=1, batch=1000)
            assert events == {"link_broken": 10}
            raise Killed  # the process dies before the run's outcome is committed
    except Killed:
        pass
    with transaction(engine) as session:
        moved = session.scalar(select(func.count(Link.id)).where(Link.state != "unknown"))
        assert moved == 0, f"{moved} links moved for a run that never concluded"
        assert session.scalar(select(func.count(ChangeEvent.id))) == 0

    with transaction(engine) as session:
        apply_run(session, run_id, confirm_after=1, batch=1000)
        finish_run(session, run_id, "ok")
    with transaction(engine) as session:
        states = dict(session.execute(select(Link.state, func.count(Link.id))
                                      .group_by(Link.state)).all())
        assert states == {"ok": 2490, "broken": 10}, states
        assert session.get_one(CrawlRun, run_id).outcome == "ok"
