"""`report --preview`: the files of the next report, with nothing recorded or overwritten."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import ReportRecord
from tests.report_state import load_state, read_state

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "report"


def records(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(ReportRecord)) or 0


def test_preview_records_nothing(cli: Any, tmp_path: Path, db_url: str, engine: Engine) -> None:
    load_state(engine, read_state(GOLDEN / "week.yaml"))
    reports = tmp_path / "reports"
    (tmp_path / "shelfcheck.toml").write_text(
        f'database_url = "{db_url}"\nreports_dir = "{reports}"\n')
    first = cli("report", "--since", "2026-12-28T07:00:00+00:00",
                "--until", "2027-01-04T07:00:00+00:00")
    assert first.exit_code == 0, first.output
    latest = {p.name: p.read_bytes() for p in reports.glob("latest.*")}
    assert set(latest) == {"latest.md", "latest.html", "latest.json", "latest.csv"}
    before = records(engine)

    preview = cli("report", "--preview", "--until", "2027-01-11T07:00:00+00:00")
    assert preview.exit_code == 0, preview.output
    folder = Path(re.search(r"the files are in (\S+)\)", preview.output).group(1))  # type: ignore[union-attr]
    assert folder.is_dir() and folder != reports
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"shelfcheck-report-2027-01-11.{ext}" for ext in ("csv", "html", "json", "md")]
    doc = json.loads((folder / "shelfcheck-report-2027-01-11.json").read_text())
    assert doc["period"]["start"].startswith("2027-01-04T07:00:00")  # follows the last report
    assert "nothing was recorded" in preview.output
    assert records(engine) == before
    assert {p.name: p.read_bytes() for p in reports.glob("latest.*")} == latest
    assert not list(reports.glob("shelfcheck-report-2027-01-11.*"))

    out = tmp_path / "chosen"
    again = cli("report", "--preview", "--format", "json", "--out", str(out),
                "--until", "2027-01-11T07:00:00+00:00")
    assert again.exit_code == 0, again.output
    assert [p.name for p in out.iterdir()] == ["shelfcheck-report-2027-01-11.json"]

    real = cli("report", "--until", "2027-01-11T07:00:00+00:00")
    assert real.exit_code == 0, real.output
    assert records(engine) == before + 1
    real_doc = json.loads((reports / "latest.json").read_text())
    assert real_doc["period"] == doc["period"]


def test_preview_refuses_email(cli: Any, tmp_path: Path, db_url: str) -> None:
    (tmp_path / "shelfcheck.toml").write_text(f'database_url = "{db_url}"\n')
    result = cli("report", "--preview", "--email")
    assert result.exit_code == 2
    assert "--preview sends nothing" in result.output
