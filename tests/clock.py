"""Simulated days for tests that run real child processes: move every stored time back.

`refresh` runs its steps in spawned children that read the real clock, so a test cannot
patch it. Moving every aware time in the database back by `delta` is the same, for everything
shelfcheck computes from the database (periods, report_due, since, staleness), as the clock
moving forward by `delta`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select, update

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import Base, UTCDateTime


def age_database(engine: Engine, delta: timedelta) -> int:
    """Move every UTCDateTime value of every table back by `delta`; the rows changed."""
    changed = 0
    with transaction(engine) as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
            if not columns:
                continue
            keys = list(table.primary_key.columns)
            for row in session.execute(select(*keys, *columns)).all():
                values = {c.name: v - delta for c, v in zip(columns, row[len(keys):],
                                                             strict=True) if v is not None}
                if values:
                    where = [k == v for k, v in zip(keys, row[:len(keys)], strict=True)]
                    session.execute(update(table).where(*where).values(**values))
                    changed += 1
    return changed
