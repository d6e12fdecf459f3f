"""`recheck_every`: an ok link is rechecked only when due; failing, unknown and new links every run.

Real check-links runs against the loopback world; what was requested comes from the server's log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import Link, LinkCheck
from tests.crawler.test_linkcheck import check_links, last_run, sync
from tests.mockserver import MockServer


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    with MockServer(tmp_path_factory.mktemp("world")) as server:
        yield server


def requested(world: MockServer, mark: int) -> set[str]:
    return {e["path"] for e in world.requests()[mark:] if e["host"] == "main"}


def test_recheck_every_skips_ok_links_until_due(world: MockServer, db_url: str,
                                                tmp_path: Path) -> None:
    items = [("OK", world.url("main", "/ok")), ("Tagged", world.url("main", "/etag")),
             ("Dead", world.url("main", "/not-found"))]
    sync(db_url, tmp_path, {"Links": items})
    budget = {"SHELFCHECK_RECHECK_EVERY": "7"}
    first = check_links(db_url, tmp_path, env=budget)
    assert first.returncode == 0, first.stderr
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            checked_at = {link.url: link.last_checked_at for link in session.scalars(select(Link))}
        assert all(checked_at.values())  # new links are checked at once

        # Run 2: the ok links are not due; the failing one is checked, and confirmed broken.
        sync(db_url, tmp_path, {"Links": [*items, ("New", world.url("main", "/shared"))]})
        mark = len(world.requests())
        second = check_links(db_url, tmp_path, env=budget)
        assert second.returncode == 0, second.stderr
        assert "2 ok links not due yet (recheck_every = 7 days)" in second.stdout
        paths = requested(world, mark)
        assert "/not-found" in paths and "/shared" in paths
        assert "/ok" not in paths and "/etag" not in paths
        run = last_run(engine)
        assert run.stats is not None and run.stats["not_due"] == 2
        with transaction(engine) as session:
            links = {link.url: link for link in session.scalars(select(Link))}
            assert links[world.url("main", "/not-found")].state == "broken"
            assert links[world.url("main", "/shared")].state == "ok"
            ok = links[world.url("main", "/ok")]
            assert ok.state == "ok" and ok.last_checked_at == checked_at[ok.url]
            checks = set(session.scalars(select(LinkCheck.link_id)
                                         .where(LinkCheck.run_id == run.id)))
            assert ok.id not in checks

            # A week later the ok links are due again.
            session.execute(update(Link).where(Link.url == ok.url)
                            .values(last_checked_at=ok.last_checked_at - timedelta(days=8)))
        mark = len(world.requests())
        third = check_links(db_url, tmp_path, env=budget)
        assert third.returncode == 0, third.stderr
        paths = requested(world, mark)
        assert "/ok" in paths and "/etag" not in paths

        # Without the budget (the default, 0) every link is checked every run.
        mark = len(world.requests())
        assert check_links(db_url, tmp_path).returncode == 0
        assert {"/ok", "/etag", "/not-found", "/shared"} <= requested(world, mark)
    finally:
        engine.dispose()


def test_recheck_budget_keeps_confirming_a_first_failure(world: MockServer, db_url: str,
                                                         tmp_path: Path) -> None:
    """An ok link that failed once is still `ok` but is rechecked, so confirm_after works."""
    path = "/switchable"
    world.set_status(path, 200)
    sync(db_url, tmp_path, {"Links": [("Page", world.url("main", path))]})
    budget = {"SHELFCHECK_RECHECK_EVERY": "30"}
    assert check_links(db_url, tmp_path, env=budget).returncode == 0
    engine = open_database(db_url)
    try:
        # Make it due and let it fail once: still ok, one failure pending.
        with transaction(engine) as session:
            link = session.scalars(select(Link)).one()
            assert link.last_checked_at is not None
            link.last_checked_at -= timedelta(days=31)
        world.set_status(path, 404)
        assert check_links(db_url, tmp_path, env=budget).returncode == 0
        with transaction(engine) as session:
            link = session.scalars(select(Link)).one()
            assert (link.state, link.consecutive_failures) == ("ok", 1)
        out = check_links(db_url, tmp_path, "--fail-on", "broken", env=budget)
        assert out.returncode == 1, out.stdout
        with transaction(engine) as session:
            link = session.scalars(select(Link)).one()
            assert link.state == "broken"
    finally:
        engine.dispose()


def test_the_json_export_says_when_a_skipped_link_was_checked(world: MockServer, db_url: str,
                                                               tmp_path: Path) -> None:
    from tests.conftest import run_shelfcheck

    sync(db_url, tmp_path, {"Links": [("OK", world.url("main", "/ok"))]})
    budget = {"SHELFCHECK_RECHECK_EVERY": "7"}
    assert check_links(db_url, tmp_path, env=budget).returncode == 0
    assert check_links(db_url, tmp_path, env=budget).returncode == 0
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            checked = session.scalars(select(Link.last_checked_at)).one()
    finally:
        engine.dispose()
    out = tmp_path / "catalog.json"
    result = run_shelfcheck("export", "--format", "json", "--out", str(out), cwd=tmp_path,
                            env={"SHELFCHECK_DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    text = json.dumps(json.loads(out.read_text()))
    assert checked is not None and checked.isoformat()[:19] in text
