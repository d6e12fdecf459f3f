"""Problems as states in the report: the `open` list, and one line per problem in `changes`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.events import EVENT_KINDS
from shelfcheck.catalog.health import PROBLEM_EVENTS, open_problems
from shelfcheck.catalog.models import Link, LinkCheck
from shelfcheck.catalog.states import HealthState, LinkState, RunOutcome
from shelfcheck.reports.changes import STREAM
from shelfcheck.reports.model import LINK_STATES, ChangeRow, LinkRow, OpenRow, RunRow


def merge_changes(rows: Iterable[ChangeRow]) -> list[ChangeRow]:
    """One line per problem: the same event from several runs becomes one row with a count.

    The same event is the same kind about the same thing with the same values; the row keeps
    the first one's id and time, and the last one's detail.
    """
    merged: dict[tuple[Any, ...], ChangeRow] = {}
    for row in rows:
        key = (row.kind, row.provider, row.url, row.title, row.tier, row.old, row.new,
               row.verdict, row.http_status)
        first = merged.get(key)
        if first is None:
            merged[key] = row
        else:
            merged[key] = replace(first, count=first.count + 1,
                                  last_detected_at=row.detected_at, detail=row.detail)
    return list(merged.values())


def inconclusive(runs: list[RunRow]) -> str | None:
    """Why nothing could be checked in the period: no run, or no link run that completed."""
    if not runs:
        return "no link or listing run took place in this period"
    links = [run for run in runs if run.kind == "links"]
    if links and not any(run.outcome == RunOutcome.OK for run in links):
        last = links[-1]
        why = f": {last.detail}" if last.detail else ""
        runs_text = "the link check" if len(links) == 1 else f"all {len(links)} link checks"
        return f"{runs_text} of this period ended {last.outcome}{why}"
    return None


def open_providers(session: Session, start: datetime) -> list[OpenRow]:
    """Providers unreachable or drifting now, once each, with since and runs."""
    return [
        OpenRow(kind=PROBLEM_EVENTS[health.state],
                severity=EVENT_KINDS[PROBLEM_EVENTS[health.state]].severity,
                provider=provider.slug, provider_name=provider.name, url=health.url,
                title=provider.name, since=health.since, runs=health.runs,
                last_seen=health.last_seen_at, detail=health.detail,
                recipe=provider.recipe if health.state == HealthState.DRIFT else None,
                new=health.since >= start)
        for health, provider in open_problems(session)
    ]


LINK_EVENTS: dict[str, str] = {
    LinkState.BROKEN: "link_broken",
    LinkState.REDIRECTED: "link_redirected",
    LinkState.UNVERIFIABLE: "link_unverifiable",
}


def open_links(session: Session, links: list[LinkRow]) -> list[OpenRow]:
    """Links broken, redirected or unverifiable now and not dismissed, with their checks since."""
    listed = [link for link in links if link.dismissed is None]
    runs = dict.fromkeys((link.url for link in listed), 0)  # keyed by the rows' own URLs
    for url, checks in _checks_since(session):
        if url in runs:
            runs[url] = checks
    return [
        OpenRow(kind=LINK_EVENTS[link.state],
                severity=EVENT_KINDS[LINK_EVENTS[link.state]].severity,
                provider=link.providers[0] if link.providers else None, provider_name=None,
                url=link.url, title=None, since=link.since,
                runs=max(runs[link.url], 1 if link.last_checked else 0),
                last_seen=link.last_checked, detail=link.detail or link.verdict_message,
                resources=link.resources, new=link.new)
        for link in listed
    ]


def _checks_since(session: Session) -> Iterator[tuple[str, int]]:
    """Checks of each listed link since it went into its state."""
    query = (
        select(Link.url, func.count(LinkCheck.id))
        .join(LinkCheck, LinkCheck.link_id == Link.id)
        .where(Link.state.in_(LINK_STATES), LinkCheck.checked_at >= Link.state_since)
        .group_by(Link.url)
        .execution_options(**STREAM)
    )
    return ((url, checks) for url, checks in session.execute(query))
