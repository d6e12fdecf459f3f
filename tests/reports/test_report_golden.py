"""Golden files: a described database state renders to the checked-in report files beside it.

Each tests/golden/report/<case>.yaml is loaded into a fresh SQLite and PostgreSQL database and
rendered at the description's `now`; the output must equal <case>.md, .html, .json and .csv.
Regenerate the files (after a deliberate change) with:

    SHELFCHECK_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/reports/test_report_golden.py

Both databases write the same bytes; a plain run afterwards proves that they agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shelfcheck.config import load_settings
from shelfcheck.reports.write import write_report
from tests.report_state import at, load_state, read_state

GOLDEN = Path(__file__).parents[1] / "golden" / "report"
CASES = sorted(p.stem for p in GOLDEN.glob("*.yaml"))
FORMATS = ("md", "html", "json", "csv")
REGEN = os.environ.get("SHELFCHECK_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("case", CASES)
def test_golden_report(case: str, engine: Engine, tmp_path: Path) -> None:
    state = read_state(GOLDEN / f"{case}.yaml")
    load_state(engine, state)
    settings = load_settings(environ={}, cwd=tmp_path)
    outcome = write_report(engine, settings, formats=FORMATS, out_dir=tmp_path,
                           now=at(state["now"]), since=at(state.get("since")),
                           until=at(state.get("until")))
    written = {p.suffix.lstrip("."): p for p in outcome.paths if p.name.startswith("shelfcheck-")}
    assert sorted(written) == sorted(FORMATS)
    for fmt in FORMATS:
        expected_path = GOLDEN / f"{case}.{fmt}"
        actual = written[fmt].read_bytes()
        if REGEN:
            expected_path.write_bytes(actual)
        assert expected_path.exists(), f"{expected_path} is missing: regenerate (see docstring)"
        assert actual.decode("utf-8") == expected_path.read_bytes().decode("utf-8"), (
            f"{case}.{fmt} differs on {engine.dialect.name}")
        assert (tmp_path / f"latest.{fmt}").read_bytes() == actual
