"""Exports of the catalog for other front ends: thin writers over catalog.queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session


def write_exports(
    session: Session,
    kinds: Iterable[str],
    out_dir: Path | str,
    public: bool = False,
    *,
    now: datetime | None = None,
) -> list[Path]:
    """Write each format of `kinds` into `out_dir` under its default file names.

    Every format is checked (UsageError for an unknown one) and rendered before the first file
    is written; each file is replaced atomically. Returns the paths written.
    """
    from shelfcheck.exports.atomic import atomic_write_bytes
    from shelfcheck.exports.base import get_exporter

    classes = [get_exporter(kind) for kind in dict.fromkeys(kinds)]
    rendered = [cls(public=public, now=now).render(session) for cls in classes]
    folder = Path(out_dir)
    written: list[Path] = []
    for files in rendered:
        for name, content in files.items():
            atomic_write_bytes(folder / name, content)
            written.append(folder / name)
    return written
