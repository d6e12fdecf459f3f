"""Golden files: the fixed database state of tests/exports_data.py, with `now` pinned, renders
to the checked-in files in tests/golden/exports/, byte for byte, on SQLite and PostgreSQL.

After an intended change of a format, regenerate them with

    SHELFCHECK_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/exports/test_exports_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.exports.atomic import atomic_write_bytes
from shelfcheck.exports.base import get_exporter
from tests.exports_data import NOW, populate

GOLDEN = Path(__file__).parents[1] / "golden" / "exports"
REGENERATE = os.environ.get("SHELFCHECK_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize(("kind", "name"), [
    ("json", "catalog.json"),
    ("ics", "offerings.ics"),
    ("jsonld", "guide.jsonld"),
])
def test_export_matches_its_golden_file(engine: Engine, kind: str, name: str) -> None:
    with transaction(engine) as session:
        populate(session)
    with transaction(engine) as session:
        data = get_exporter(kind)(now=NOW).render(session)[name]
    golden = GOLDEN / name
    if REGENERATE:
        atomic_write_bytes(golden, data)
    assert golden.is_file(), f"{golden} is missing: run with SHELFCHECK_REGEN_GOLDEN=1"
    if data != golden.read_bytes():
        got = data.decode("utf-8").splitlines()
        want = golden.read_text(encoding="utf-8").splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                     min(len(got), len(want)))
        pytest.fail(f"{name} differs from {golden} at line {first + 1}:\n"
                    f"  got:  {got[first] if first < len(got) else '(end)'}\n"
                    f"  want: {want[first] if first < len(want) else '(end)'}")
