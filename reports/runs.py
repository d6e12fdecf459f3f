"""The period's runs: the link and listing runs that overlap it, and the warnings about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import CrawlRun, LinkCheck
from shelfcheck.catalog.states import RunKind, RunOutcome
from shelfcheck.reports.model import BAD_RUN_OUTCOMES, ChangeRow, RunRow, RunWarning

RUN_KINDS = (RunKind.LINKS, RunKind.LISTINGS)


def overlaps(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Runs that started before `end` and had not finished before `start`."""
    return and_(
        CrawlRun.started_at < end,
        or_(CrawlRun.finished_at.is_(None), CrawlRun.finished_at >= start),
    )


def period_runs(session: Session, start: datetime, end: datetime) -> list[RunRow]:
    """The link and listing runs overlapping [start, end), oldest first."""
    query = (
        select(CrawlRun.id, CrawlRun.kind, CrawlRun.started_at, CrawlRun.finished_at,
               CrawlRun.outcome, CrawlRun.detail)
        .where(CrawlRun.kind.in_(RUN_KINDS), overlaps(start, end))
        .order_by(CrawlRun.started_at, CrawlRun.id)
    )
    return [RunRow(*row) for row in session.execute(query)]


def links_checked(session: Session, start: datetime, end: datetime) -> int:
    """Distinct links checked in the period by link runs (uses the run_id index)."""
    runs = select(CrawlRun.id).where(CrawlRun.kind == "links", overlaps(start, end))
    query = select(func.count(distinct(LinkCheck.link_id))).where(
        LinkCheck.run_id.in_(runs), LinkCheck.checked_at >= start, LinkCheck.checked_at < end
    )
    return session.scalar(query) or 0


def run_warnings(runs: list[RunRow], inconclusive: list[ChangeRow]) -> list[RunWarning]:
    """Runs that ended inconclusive, failed or aborted, plus stray run_inconclusive events."""
    details = {e.run_id: e.detail for e in inconclusive if e.run_id is not None}
    warnings = [
        RunWarning(run.id, run.kind, run.outcome, run.finished_at or run.started_at,
                   details.get(run.id) or run.detail)
        for run in runs if run.outcome in BAD_RUN_OUTCOMES
    ]
    listed = {run.id for run in runs if run.outcome in BAD_RUN_OUTCOMES}
    warnings += [
        RunWarning(e.run_id, None, RunOutcome.INCONCLUSIVE, e.detected_at, e.detail)
        for e in inconclusive if e.run_id not in listed
    ]
    return warnings
