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

    Every format is checked first (UsageError for an unknown one). Each file is streamed into
    a temporary file beside its target, one format after the other, so memory stays that of
    one streamed export; only when every file is written are they renamed into place. A
    failure leaves every previous file as it was. Returns the paths written.
    """
    from shelfcheck.exports.atomic import StagedFiles
    from shelfcheck.exports.base import get_exporter

    classes = [get_exporter(kind) for kind in dict.fromkeys(kinds)]
    folder = Path(out_dir)
    with StagedFiles() as files:
        for cls in classes:
            for name, chunks in cls(public=public, now=now).stream(session).items():
                files.add(folder / name, chunks)
        return files.commit()
