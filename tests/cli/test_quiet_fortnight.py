"""A quiet fortnight (issue 14, Done): `refresh` nightly for 14 simulated days over a loopback web
in which one listing keeps failing and one recipe keeps drifting, on SQLite and PostgreSQL.

Each night is a real `python -m shelfcheck refresh` (its steps in their own processes); between
nights the database is aged by one day (tests/clock.py). Reports are due weekly: night 0 writes
the first, night 7 the first week's, night 14 the second week's. The second week changed
nothing, so its `changes` list is empty, and its `open` list holds the two problems once each.
A webhook (Apprise `json://`) with `notify_on` = every trigger gets one alert when the problems
start and one message per report, nothing else.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import ChangeEvent, ReportRecord
from tests.clock import age_database
from tests.conftest import run_shelfcheck
from tests.quietweb import QuietWeb, catalog
from tests.reports.test_notify import receiver as receiver  # the fixture

DAY = timedelta(days=1)


@pytest.fixture
def web() -> Iterator[QuietWeb]:
    server = QuietWeb().start()
    yield server
    server.stop()


@pytest.mark.timeout(900)  # 15 nights of real child processes: 2-3 minutes on a busy machine
def test_a_quiet_fortnight_reports_each_ongoing_problem_once(
        db_url: str, engine: Engine, tmp_path: Path, web: QuietWeb, receiver: Any) -> None:
    (tmp_path / "catalog.yaml").write_text(catalog(web.base), encoding="utf-8")
    hook = receiver()
    reports = tmp_path / "reports"
    env = {"SHELFCHECK_DATABASE_URL": db_url,
           "SHELFCHECK_CATALOG_FILE": str(tmp_path / "catalog.yaml"),
           "SHELFCHECK_REPORTS_DIR": str(reports), "SHELFCHECK_REPORT_EVERY": "weekly",
           "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true", "SHELFCHECK_RETRY_TIMES": "0",
           "SHELFCHECK_DOWNLOAD_TIMEOUT": "5",
           "SHELFCHECK_NOTIFY_URLS": f"json://127.0.0.1:{hook.port}/alerts",
           "SHELFCHECK_NOTIFY_ON": "report,link_broken,provider_problem"}
    kept: dict[int, Path] = {}
    for night in range(15):
        if night == 1:  # from now on one listing fails and one recipe no longer matches
            web.down = web.redesigned = True
        # the links are checked on the nights that matter, to save a child process a night
        skip = [] if night in (0, 1, 7, 14) else ["--skip-links"]
        result = run_shelfcheck("refresh", *skip, cwd=tmp_path, env=env, timeout=300)
        assert result.returncode == 0, f"night {night}: {result.stdout}{result.stderr}"
        if night in (7, 14):
            assert "report: ok" in result.stdout, result.stdout
            kept[night] = tmp_path / f"week-{night // 7}"
            shutil.copytree(reports, kept[night])
        if night < 14:
            age_database(engine, DAY)

    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ReportRecord)) == 3
        events = dict(session.execute(select(ChangeEvent.kind, func.count())
                                      .group_by(ChangeEvent.kind)).all())
    # one event at the start of each problem, none while they persisted
    assert events == {"provider_unreachable": 1, "extractor_drift": 1}

    first = json.loads((kept[7] / "latest.json").read_text())
    assert sorted((c["kind"], c["provider"], c["count"]) for c in first["changes"]) == [
        ("extractor_drift", "drifting", 1), ("provider_unreachable", "failing", 1)]

    second = json.loads((kept[14] / "latest.json").read_text())
    end = datetime.fromisoformat(second["period"]["end"])
    assert end - datetime.fromisoformat(second["period"]["start"]) == pytest.approx(
        7 * DAY, abs=timedelta(hours=1))
    assert second["changes"] == []
    open_ = sorted(second["open"], key=lambda o: o["kind"])
    assert [(o["kind"], o["provider"]) for o in open_] == [
        ("extractor_drift", "drifting"), ("provider_unreachable", "failing")]
    for problem in open_:
        since = datetime.fromisoformat(problem["since"])
        assert end - since == pytest.approx(13 * DAY, abs=timedelta(hours=1)), problem
        assert problem["runs"] == 14 and problem["new"] is False, problem
    assert problem["detail"] and "503" in open_[1]["detail"]
    assert second["summary"]["open"] == 2 and second["summary"]["warnings"] == 2
    assert second["inconclusive"] is None

    # one alert when the problems started, and one message per report: nothing else
    titles = [body["title"] for body in hook.bodies]
    assert len(titles) == 4 and titles[1] == "shelfcheck: 2 new problems", titles
    assert [t.startswith("shelfcheck report ") for t in titles] == [True, False, True, True]
    alert = hook.bodies[1]["message"]
    assert "provider unreachable: Failing Academy" in alert and "recipe drift: Drifting" in alert
    assert "2 problems still open" in hook.bodies[3]["message"]

    md = (kept[14] / "latest.md").read_text()
    assert md.count("(14 crawls)") == 2
    assert "### Still open (2)" in md and "No training changes in this period." in md
