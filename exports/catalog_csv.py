"""`csv`: resources.csv and offerings.csv (one row per offering, fee tiers flattened).

For spreadsheets: a cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading ``'``, so web-sourced text stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

from sqlalchemy.orm import Session

from shelfcheck.catalog.queries import offering_rows, resource_rows
from shelfcheck.exports.base import Exporter
from shelfcheck.exports.common import csv_cell, offering_uid, redirect_target

RESOURCE_COLUMNS = ["section", "title", "url", "provider", "description", "link_state",
                    "verdict", "http_status", "last_checked", "since", "suggestion",
                    "redirect_target"]
OFFERING_COLUMNS = ["provider", "title", "url", "format", "schedule", "start", "end",
                    "timezone", "fee_known", "fees", "lssc_approved", "state", "uid"]

def csv_chunks(columns: list[str], rows: Iterable[Sequence[object]],
               every: int = 2000) -> Iterator[bytes]:
    """The CSV file in UTF-8 chunks of `every` rows, written as the rows come."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for i, row in enumerate(rows, 1):
        writer.writerow([csv_cell(v) for v in row])
        if i % every == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def flatten_fees(fees: tuple[tuple[str, str, str], ...] | list[tuple[str, str, str]]) -> str:
    """Fee tiers as one cell: ``ALA members: 45.00 USD; non-members: 60.00 USD``."""
    return "; ".join(f"{tier + ': ' if tier else ''}{amount} {currency}"
                     for tier, amount, currency in fees)


class CsvExporter(Exporter):
    """Two CSV files for spreadsheets."""

    kind = "csv"
    default_name = "resources.csv"
    description = "resources.csv and offerings.csv"

    def stream(self, session: Session) -> Mapping[str, Iterable[bytes]]:
        resources = (
            [r.section, r.title, r.url, r.provider, r.description, r.link_state, r.verdict,
             r.http_status, r.last_checked_at, r.since, r.suggestion, redirect_target(r)]
            for r in resource_rows(session)
        )
        offerings = (
            [o.provider, o.title, o.url, o.format, o.schedule,
             o.start_at.isoformat() if o.start_at else None,
             o.end_at.isoformat() if o.end_at else None, o.timezone,
             "true" if o.fee_known else "false",
             flatten_fees([(f.tier, f.amount, f.currency) for f in o.fees]),
             "" if o.lssc_approved is None else str(o.lssc_approved).lower(), o.state,
             offering_uid(o.provider, o.key)]
            for o in offering_rows(session)
        )
        return {"resources.csv": csv_chunks(RESOURCE_COLUMNS, resources),
                "offerings.csv": csv_chunks(OFFERING_COLUMNS, offerings)}
