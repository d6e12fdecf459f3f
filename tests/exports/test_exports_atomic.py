"""Atomic replacement: a reader polling an export in another process while the exporter rewrites
it many times never reads a truncated or half-written file. The same reader does catch a plain
(truncate, then write) writer, which shows that it can see torn files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import Resource, Section
from shelfcheck.exports.atomic import WriteError, atomic_write_bytes
from shelfcheck.exports.base import get_exporter
from tests.exports_data import NOW, populate

WRITES = 40

# Reads the file as fast as it can until the stop file appears; every read must parse as a
# complete catalog document. Prints the counts as JSON.
READER = r"""
import json, os, sys
path, ready, stop = sys.argv[1:4]
ok = bad = 0
sizes = []
while not os.path.exists(stop):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        bad += 1
        continue
    try:
        doc = json.loads(data)
        assert doc["schema"] == "shelfcheck.catalog/1" and doc["sections"]
        ok += 1
    except Exception:
        bad += 1
        sizes.append(len(data))
    if ok == 1 and not os.path.exists(ready):
        open(ready, "w").close()
print(json.dumps({"ok": ok, "bad": bad, "sizes": sizes[:5]}))
"""


def big_catalog(engine: Engine) -> None:
    """The fixed state plus 300 resources with long descriptions (a JSON of about 1 MB)."""
    with transaction(engine) as session:
        populate(session)
        section = Section(name="Bulk", position=99, active=True)
        session.add(section)
        session.flush()
        session.add_all(
            Resource(title=f"Resource {i}", section_id=section.id, url=None, position=i,
                     description=f"{i} " + "long description text " * 120, state="active")
            for i in range(300)
        )


def poll_while(path: Path, tmp_path: Path, write: Callable[[int], None]) -> dict[str, Any]:
    """Run the reader in a child process while `write(i)` runs WRITES times."""
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    for marker in (ready, stop):
        marker.unlink(missing_ok=True)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(ready), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert reader.poll() is None and time.monotonic() < deadline, "reader did not start"
            time.sleep(0.01)
        for i in range(WRITES):
            write(i)
        time.sleep(0.05)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=30)
    result: dict[str, Any] = json.loads(out)
    return result


def test_a_polling_reader_never_sees_a_torn_export(engine: Engine, tmp_path: Path) -> None:
    big_catalog(engine)
    target = tmp_path / "exports" / "catalog.json"
    exporters = [get_exporter("json")(now=NOW), get_exporter("json")()]
    with transaction(engine) as session:
        exporters[0].write(session, target)
        size = target.stat().st_size
        assert size > 500_000

        def export(i: int) -> None:
            exporters[i % 2].write(session, target)

        seen = poll_while(target, tmp_path, export)
    assert seen["bad"] == 0, seen
    assert seen["ok"] > WRITES / 4, seen  # the reader really polled during the rewrites
    assert [p.name for p in target.parent.iterdir()] == ["catalog.json"]  # no temporary files

    # The control: the same reader against plain in-place writes of the same bytes.
    content = target.read_bytes()

    def plain(_: int) -> None:
        with open(target, "wb") as handle:
            handle.write(content[: len(content) // 2])
            handle.flush()
            handle.write(content[len(content) // 2:])

    control = poll_while(target, tmp_path, plain)
    assert control["bad"] > 0, control


def test_atomic_write_keeps_the_mode_of_the_file(tmp_path: Path) -> None:
    target = tmp_path / "feed.ics"
    old_umask = os.umask(0o022)
    try:
        atomic_write_bytes(target, b"first")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # readable by a web server
    target.chmod(0o640)
    atomic_write_bytes(target, b"second")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes() == b"second"


def test_a_failed_write_leaves_the_previous_export(engine: Engine, tmp_path: Path) -> None:
    with transaction(engine) as session:
        populate(session)
    target = tmp_path / "catalog.json"
    with transaction(engine) as session:
        get_exporter("json")(now=NOW).write(session, target)
    before = target.read_bytes()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a folder should be")
    with transaction(engine) as session, pytest.raises(WriteError, match="cannot write"):
        get_exporter("json")(now=NOW).write(session, blocker / "sub" / "catalog.json")
    assert target.read_bytes() == before
    assert not list(blocker.parent.glob(".*.tmp"))
