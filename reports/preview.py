"""A report preview: the files of the report that would be written now, and nothing recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from shelfcheck.catalog.db import snapshot
from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.notchecked import link_exclude
from shelfcheck.config import Settings
from shelfcheck.errors import UsageError
from shelfcheck.exports.atomic import atomic_write_chunks
from shelfcheck.reports.build import build_report
from shelfcheck.reports.reporters import get_reporter
from shelfcheck.reports.write import ReportOutcome, report_file_name, resolve_period


def preview_report(
    engine: Engine,
    settings: Settings,
    out_dir: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    formats: Sequence[str] | None = None,
    now: datetime | None = None,
) -> ReportOutcome:
    """Write the report of [since, until) into `out_dir`, read-only on the database.

    Only the dated files are written (no ``latest.*``), nothing is e-mailed or sent, and no
    report record is added, so the next real report's period and files are those it would
    have had without the preview. `record_id` is 0.
    """
    now = now or utcnow()
    kinds = list(dict.fromkeys(formats if formats is not None else settings.report_formats))
    if not kinds:
        raise UsageError("no report format chosen (report_formats is empty)")
    reporters = [get_reporter(kind)() for kind in kinds]
    with snapshot(engine) as session:
        start, end = resolve_period(session, since=since, until=until, now=now)
        report = build_report(session, start=start, end=end, now=now,
                              timezone=settings.timezone, exclude=link_exclude(settings))
    paths = []
    for reporter in reporters:  # each streamed into its file, as the real report's are
        path = out_dir / report_file_name(report, reporter.extension)
        atomic_write_chunks(path, reporter.chunks(report))
        paths.append(path)
    summary = report.summary
    return ReportOutcome(
        paths=paths, record_id=0, period_start=start, period_end=end, actions=summary.actions,
        summary={name: getattr(summary, name) for name in summary.__dataclass_fields__},
    )
