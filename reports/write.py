"""Write the report: choose the period, render every format, write files, e-mail, record it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.db import snapshot, transaction
from shelfcheck.catalog.models import ReportRecord, Resource, utcnow
from shelfcheck.catalog.notchecked import link_exclude
from shelfcheck.catalog.states import ResourceState
from shelfcheck.config import Settings
from shelfcheck.errors import ConfigError, UsageError
from shelfcheck.exports.atomic import StagedFiles, file_chunks
from shelfcheck.reports.build import build_report
from shelfcheck.reports.model import Report
from shelfcheck.reports.reporters import Reporter, get_reporter
from shelfcheck.reports.templating import zone

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
FILE_PREFIX = "shelfcheck-report-"


class CatalogEmpty(UsageError):
    """There is nothing to report on: the catalog database has no resources."""


EMPTY_CATALOG = ("the catalog is empty: there are no resources to report on. Load the guide "
                 "with `shelfcheck catalog sync FILE` (or `shelfcheck refresh`, which syncs "
                 "`catalog_file`, else the packaged guide), then run `shelfcheck report` again")


@dataclass
class ReportOutcome:
    """What `write_report` did: the files, the ReportRecord, and the e-mail result."""

    paths: list[Path]
    record_id: int
    period_start: datetime
    period_end: datetime
    actions: int
    emailed: bool = False
    email_error: str | None = None
    summary: dict[str, int] = field(default_factory=dict)
    notify_error: str | None = None

    @property
    def delivery_error(self) -> str | None:
        """What failed to reach its readers (e-mail, notifications); the files were written."""
        errors = [f"e-mail failed: {self.email_error}" if self.email_error else None,
                  self.notify_error]
        return "; ".join(e for e in errors if e) or None


def default_since(session: Session, until: datetime) -> datetime:
    """The end of the latest report's period, or 7 days before `until` when there is none."""
    last = session.scalar(select(func.max(ReportRecord.period_end)))
    return last if last is not None else until - timedelta(days=DEFAULT_DAYS)


def resolve_period(
    session: Session, *, since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The period [start, end) of a report; a UsageError when it is empty or reversed."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise UsageError(f"{value.isoformat()} has no time zone offset", options=(name,))
    end = (until or now).astimezone(UTC)
    start = (since or default_since(session, end)).astimezone(UTC)
    if start >= end:
        if since is None:
            raise UsageError(
                f"the last report already covers the time up to {start.isoformat()}; "
                "choose the period", options=("since", "days"),
            )
        raise UsageError(f"the start {start.isoformat()} is not before the end "
                         f"{end.isoformat()}", options=("since", "until"))
    return start, end


def report_file_name(report: Report, extension: str) -> str:
    """``shelfcheck-report-2027-01-04.md``: named by the period's last day, in local time."""
    day = report.period_end.astimezone(zone(report.timezone)).strftime("%Y-%m-%d")
    return f"{FILE_PREFIX}{day}.{extension}"


def write_report(
    engine: Engine,
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    formats: Sequence[str] | None = None,
    out_dir: str | Path | None = None,
    email: bool | None = None,
    now: datetime | None = None,
) -> ReportOutcome:
    """Build the report of [since, until), write each format and its ``latest.*`` copy, send it.

    `email=None` follows `email_enabled`. A failure to send is returned in `email_error`; the
    files are written and the report recorded either way.
    """
    now = now or utcnow()
    kinds = list(dict.fromkeys(formats if formats is not None else settings.report_formats))
    if not kinds:
        raise UsageError("no report format chosen (report_formats is empty)")
    try:
        reporters = {kind: get_reporter(kind)() for kind in kinds}
    except UsageError as exc:
        if formats is not None:
            raise
        raise ConfigError(f"key 'report_formats': {exc}") from None
    send = settings.email_enabled if email is None else email
    out = Path(out_dir if out_dir is not None else settings.reports_dir)

    with snapshot(engine) as session:
        start, end = resolve_period(session, since=since, until=until, now=now)
        active = select(Resource.id).where(Resource.state == ResourceState.ACTIVE).limit(1)
        if session.scalar(active) is None:
            raise CatalogEmpty(EMPTY_CATALOG)
        report = build_report(session, start=start, end=end, now=now,
                              timezone=settings.timezone, exclude=link_exclude(settings))

    paths = _write_formats(report, reporters, out)

    email_error: str | None = None
    if send:
        written = {p.suffix[1:]: p for p in paths if p.name.startswith("latest.")}
        email_error = _send(settings, report, {kind: written[kind].read_bytes()
                                               for kind in ("md", "html") if kind in written})
    notify_error = _notify(settings, report, paths)

    with transaction(engine) as session:
        record = ReportRecord(generated_at=now, period_start=start, period_end=end,
                              paths=[str(p) for p in paths], emailed=send and not email_error)
        session.add(record)
        session.flush()
        record_id = record.id

    summary = report.summary
    return ReportOutcome(
        paths=paths, record_id=record_id, period_start=start, period_end=end,
        actions=summary.actions, emailed=send and not email_error, email_error=email_error,
        summary={name: getattr(summary, name) for name in summary.__dataclass_fields__},
        notify_error=notify_error,
    )


def _write_formats(report: Report, reporters: dict[str, Reporter], out: Path) -> list[Path]:
    """Render each format in turn into staged files (the dated file as it is rendered, then
    its ``latest.*`` copy), then rename them all into place: a streamed format is never held
    whole, and a failure leaves every earlier file as it was. Returns the dated paths, then
    the latest ones."""
    with StagedFiles() as files:
        for reporter in reporters.values():
            dated = files.add(out / report_file_name(report, reporter.extension),
                              reporter.chunks(report))
            files.add(out / f"latest.{reporter.extension}", file_chunks(dated))
        written = files.commit()
    return written[0::2] + written[1::2]


def _notify(settings: Settings, report: Report, paths: list[Path]) -> str | None:
    from shelfcheck.reports.notify import notify_report

    if not settings.notify_urls:
        return None
    html = [p for p in paths if p.suffix == ".html"]
    where = (html or paths)[-1].resolve() if paths else None
    return notify_report(settings, report, where)


def _send(settings: Settings, report: Report, rendered: dict[str, bytes]) -> str | None:
    from shelfcheck.reports.email import EmailError, send_report

    text = rendered.get("md") or get_reporter("md")().render(report)
    html = rendered.get("html") or get_reporter("html")().render(report)
    try:
        send_report(settings, report, text.decode("utf-8"), html.decode("utf-8"))
    except EmailError as exc:
        log.error("%s", exc)
        return str(exc)
    return None


_EVERY = re.compile(r"\s*(\d+)\s*(?:d|days?)?\s*")


def report_interval_days(value: str) -> int:
    """Days between reports for `report_every`: daily, weekly, or a number of days."""
    named = {"daily": 1, "weekly": 7}
    text = str(value).strip().lower()
    if text in named:
        return named[text]
    match = _EVERY.fullmatch(text)
    if match and int(match.group(1)) >= 1:
        return int(match.group(1))
    raise ConfigError(
        f"key 'report_every': expected daily, weekly or a number of days (got {value!r})"
    )


def report_due(engine: Engine, settings: Settings, now: datetime) -> bool:
    """True when no report was written yet, or the last one is `report_every` days old.

    Days are counted as calendar days in `timezone`, so a report that ran a few minutes late
    (scheduler jitter) does not push the next one back a whole period.
    """
    days = report_interval_days(settings.report_every)
    with transaction(engine) as session:
        last = session.scalar(select(func.max(ReportRecord.generated_at)))
    if last is None:
        return True
    tz = zone(settings.timezone)
    return (now.astimezone(tz).date() - last.astimezone(tz).date()).days >= days
