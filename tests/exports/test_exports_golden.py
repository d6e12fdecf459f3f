"""Golden files: the fixed database state of tests/exports_data.py, with `now` pinned, renders
to the checked-in files in tests/golden/exports/, byte for byte, on SQLite and PostgreSQL
(the streamed guide page and JSON-LD in both views too).

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


@pytest.mark.parametrize(("kind", "name", "public"), [
    ("json", "catalog.json", False),
    ("ics", "offerings.ics", False),
    ("jsonld", "guide.jsonld", False),
    ("jsonld", "guide.jsonld", True),
    ("html", "guide.html", False),
    ("html", "guide.html", True),
])
def test_export_matches_its_golden_file(engine: Engine, kind: str, name: str,
                                        public: bool) -> None:
    with transaction(engine) as session:
        populate(session)
    with transaction(engine) as session:
        data = get_exporter(kind)(public=public, now=NOW).render(session)[name]
    golden = GOLDEN / (name.replace(".", "-public.", 1) if public else name)
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
