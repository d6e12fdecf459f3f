"""Build a `Report` from the database: aggregate queries, streamed rows, nothing loaded twice.

Every count in the summary is the length of a list the report carries, so the numbers always
match what the sections show. Only links that are not ok are read row by row; the rest is counted
in SQL.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, or_, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.dismissals import Dismissal, dismissals_holding
from shelfcheck.catalog.events import EVENT_KINDS, SUMMARY_COUNTS
from shelfcheck.catalog.models import (
    ChangeEvent,
    CrawlRun,
    FeeTier,
    Link,
    LinkCheck,
    Offering,
    Provider,
    Resource,
    Section,
)
from shelfcheck.catalog.notchecked import LinkExclude
from shelfcheck.catalog.queries import offering_rows, suggestion_for
from shelfcheck.catalog.states import RunKind
from shelfcheck.catalog.verdicts import message_or_none as verdict_message
from shelfcheck.reports.model import (
    BAD_RUN_OUTCOMES,
    LINK_STATES,
    ChangeRow,
    FeeRow,
    LinkRow,
    NoUrlRow,
    ProviderChanges,
    Report,
    RunRow,
    RunWarning,
    Summary,
    UpcomingRow,
)
from shelfcheck.reports.notchecked import not_checked_links
from shelfcheck.reports.problems import inconclusive, merge_changes, open_links, open_providers
from shelfcheck.reports.templating import is_web_url, zone

RUN_KINDS = (RunKind.LINKS, RunKind.LISTINGS)
UPCOMING_DAYS = 30
STREAM = {"yield_per": 1000}


def build_report(
    session: Session, *, start: datetime, end: datetime, now: datetime, timezone: str = "UTC",
    exclude: LinkExclude | None = None,
) -> Report:
    """The report of the change events in [start, end) and of the current state of the catalog;
    links not checked (`check: false`, `exclude`) are listed apart, in no other list."""
    runs = _runs(session, start, end)
    changes = merge_changes(_changes(session, start, end))
    today = end.astimezone(zone(timezone)).date()
    skipped, not_checked = not_checked_links(session, exclude or LinkExclude())
    links = [link for link_id, link in _links(session, start, dismissals_holding(session, today))
             if link_id not in skipped]
    no_url = list(_no_url(session))
    by_kind: dict[str, list[ChangeRow]] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)
    run_warnings = _run_warnings(runs, by_kind.get("run_inconclusive", []))
    open_rows = open_providers(session, start) + open_links(session, links)
    training = _training(changes)
    upcoming = _upcoming(session, end, end + timedelta(days=UPCOMING_DAYS))

    def count(kind: str) -> int:
        return len(by_kind.get(kind, []))

    def undismissed(state: str) -> int:
        return sum(1 for link in links if link.state == state and link.dismissed is None)

    providers_open = sum(1 for row in open_rows if not row.is_link)
    summary = Summary(
        links_checked=_links_checked(session, start, end),
        broken=undismissed("broken"),
        redirected=undismissed("redirected"),
        unverifiable=undismissed("unverifiable"),
        unchecked=_unchecked(session) - sum(1 for row in not_checked if row.state == "unknown"),
        no_url=len(no_url),
        **{counter: count(kind) for kind, counter in SUMMARY_COUNTS.items()},
        warnings=providers_open + len(run_warnings),
        dismissed=sum(1 for link in links if link.dismissed is not None),
        open=len(open_rows),
        not_checked=len(not_checked),
    )
    return Report(
        generated_at=now, period_start=start, period_end=end, timezone=timezone,
        summary=summary, runs=runs, changes=changes, links=links, no_url=no_url,
        training=training, open=open_rows, run_warnings=run_warnings,
        recovered=by_kind.get("link_recovered", []), upcoming=upcoming,
        upcoming_days=UPCOMING_DAYS, inconclusive=inconclusive(runs), not_checked=not_checked,
    )


def _overlaps(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Runs that started before `end` and had not finished before `start`."""
    return and_(
        CrawlRun.started_at < end,
        or_(CrawlRun.finished_at.is_(None), CrawlRun.finished_at >= start),
    )


def _runs(session: Session, start: datetime, end: datetime) -> list[RunRow]:
    query = (
        select(CrawlRun.id, CrawlRun.kind, CrawlRun.started_at, CrawlRun.finished_at,
               CrawlRun.outcome, CrawlRun.detail)
        .where(CrawlRun.kind.in_(RUN_KINDS), _overlaps(start, end))
        .order_by(CrawlRun.started_at, CrawlRun.id)
    )
    return [RunRow(*row) for row in session.execute(query)]


def _links_checked(session: Session, start: datetime, end: datetime) -> int:
    """Distinct links checked in the period by link runs (uses the run_id index)."""
    runs = select(CrawlRun.id).where(CrawlRun.kind == "links", _overlaps(start, end))
    query = select(func.count(distinct(LinkCheck.link_id))).where(
        LinkCheck.run_id.in_(runs), LinkCheck.checked_at >= start, LinkCheck.checked_at < end
    )
    return session.scalar(query) or 0


def _in_use() -> ColumnElement[bool]:
    return exists().where(Resource.link_id == Link.id, Resource.state == "active")


def _unchecked(session: Session) -> int:
    query = select(func.count()).select_from(Link).where(Link.state == "unknown", _in_use())
    return session.scalar(query) or 0


def _changes(session: Session, start: datetime, end: datetime) -> Iterator[ChangeRow]:
    """Every change event in [start, end), oldest first, with its provider resolved.

    The provider is the event's own, else its offering's, else that of a resource using its link.
    """
    link_provider = (
        select(func.min(Resource.provider_id))
        .where(Resource.link_id == ChangeEvent.link_id, Resource.state == "active")
        .correlate(ChangeEvent)
        .scalar_subquery()
    )
    provider_id = func.coalesce(ChangeEvent.provider_id, Offering.provider_id, link_provider)
    currency = (
        select(func.min(FeeTier.currency))
        .where(FeeTier.offering_id == ChangeEvent.offering_id,
               FeeTier.tier == func.coalesce(ChangeEvent.tier, ""))
        .correlate(ChangeEvent)
        .scalar_subquery()
    )
    query = (
        select(
            ChangeEvent.id, ChangeEvent.kind, ChangeEvent.severity, ChangeEvent.detected_at,
            ChangeEvent.run_id, ChangeEvent.url, ChangeEvent.title, ChangeEvent.tier,
            ChangeEvent.old, ChangeEvent.new, ChangeEvent.verdict, ChangeEvent.http_status,
            ChangeEvent.detail, ChangeEvent.resources, ChangeEvent.sections,
            Offering.title, Offering.url, Offering.start_at, Offering.end_at,
            Provider.slug, Provider.name,
            case((ChangeEvent.kind == "fee_changed", currency), else_=None),
        )
        .outerjoin(Offering, Offering.id == ChangeEvent.offering_id)
        .outerjoin(Provider, Provider.id == provider_id)
        .where(ChangeEvent.detected_at >= start, ChangeEvent.detected_at < end)
        .order_by(ChangeEvent.detected_at, ChangeEvent.id)
        .execution_options(**STREAM)
    )
    drift_slugs: set[str] = set()
    rows: list[ChangeRow] = []
    for (id_, kind, severity, detected_at, run_id, url, title, tier, old, new, verdict,
         http_status, detail, resources, sections, off_title, off_url, off_start, off_end,
         slug, name, fee_currency) in session.execute(query):
        spec = EVENT_KINDS.get(kind)
        if kind in _CONTRACT:
            old, new, detail = _contract_values(kind, old, new, detail)
            if kind == "fee_changed":
                tier = tier or ""  # "" is the tier of a single price
                fee_currency = fee_currency or _currency_of(detail)
        if kind == "extractor_drift" and slug:
            drift_slugs.add(slug)
        rows.append(ChangeRow(
            id=id_, kind=kind, severity=severity, message=spec.message if spec else kind,
            detected_at=detected_at, run_id=run_id, url=url or off_url, provider=slug,
            provider_name=name, resources=tuple(resources or ()), sections=tuple(sections or ()),
            title=title if title is not None else off_title, old=old, new=new, tier=tier,
            verdict=verdict, http_status=http_status, detail=detail, start=off_start,
            end=off_end, currency=fee_currency if kind == "fee_changed" else None,
        ))
    if not drift_slugs:
        yield from rows
        return
    query_recipes = select(Provider.slug, Provider.recipe).where(Provider.slug.in_(drift_slugs))
    recipes = {slug: recipe for slug, recipe in session.execute(query_recipes)}
    for row in rows:
        if row.kind == "extractor_drift" and row.provider in recipes:
            yield _with_recipe(row, recipes[row.provider])
        else:
            yield row


_CURRENCY = re.compile(r"([A-Z]{3}):")


def _currency_of(detail: str | None) -> str | None:
    """The currency a fee_changed event's detail starts with ("USD: ..."), when it does."""
    match = _CURRENCY.match(detail or "")
    return match.group(1) if match else None


def _with_recipe(row: ChangeRow, recipe: dict[str, Any] | None) -> ChangeRow:
    return replace(row, recipe=recipe)


def _amount(value: str) -> str | None:
    """A fee amount as a decimal string with two places ("200" -> "200.00"), or None."""
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return f"{amount:.2f}" if amount == amount.quantize(Decimal("0.01")) else str(amount)


def _date_or_time(value: str) -> str | None:
    """An ISO 8601 date, or an aware time normalized to UTC, or None."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC).isoformat() if parsed.tzinfo else None


_CONTRACT = {"fee_changed": (_amount, "an amount"),
             "offering_rescheduled": (_date_or_time, "a date or a time with an offset")}


def _contract_values(
    kind: str, old: str | None, new: str | None, detail: str | None
) -> tuple[str | None, str | None, str | None]:
    """Old and new as the JSON contract types them; a stored value that is not moves to detail."""
    convert, what = _CONTRACT[kind]
    notes = [detail] if detail else []
    values: list[str | None] = []
    for name, value in (("old", old), ("new", new)):
        converted = convert(value) if value is not None else None
        if value is not None and converted is None:
            notes.append(f"the stored {name} value {value!r} is not {what}")
        values.append(converted)
    return values[0], values[1], "; ".join(notes) or None


def _links(session: Session, start: datetime,
           dismissed: dict[int, Dismissal]) -> Iterator[tuple[int, LinkRow]]:
    """Links that are not ok and used by an active resource: broken, redirected, unverifiable
    (with their ids)."""
    state_order = case({state: i for i, state in enumerate(LINK_STATES)}, value=Link.state)
    query = (
        select(
            Link.id, Link.url, Link.state, Link.last_verdict, Link.last_http_status,
            Link.last_detail, Link.state_since, Link.first_failed_at, Link.last_checked_at,
            Link.redirect_target, Resource.title, Section.name, Provider.slug,
        )
        .join(Resource, Resource.link_id == Link.id)
        .join(Section, Section.id == Resource.section_id)
        .outerjoin(Provider, Provider.id == Resource.provider_id)
        .where(Link.state.in_(LINK_STATES), Resource.state == "active")
        .order_by(state_order, Link.state_since.desc().nulls_last(), Link.url,
                  Section.position, Resource.position, Resource.id)
        .execution_options(**STREAM)
    )
    for link_id, group in itertools.groupby(session.execute(query), key=lambda r: r[0]):
        rows = list(group)
        (_, url, state, verdict, status, detail, since, first_failed, checked,
         target) = rows[0][:10]
        yield link_id, LinkRow(
            url=url, state=state, verdict=verdict, verdict_message=verdict_message(verdict),
            http_status=status, detail=detail,
            since=since, first_failed=first_failed, last_checked=checked,
            redirect_target=target, suggestion=_suggestion(url, state, target),
            resources=tuple(r[10] for r in rows),
            sections=_unique(r[11] for r in rows),
            providers=_unique(r[12] for r in rows if r[12]),
            new=since is not None and since >= start,
            dismissed=dismissed.get(link_id),
        )


def _suggestion(url: str, state: str, target: str | None) -> str | None:
    """The redirect target, or a Wayback Machine search link for a broken http(s) URL."""
    suggestion = suggestion_for(Link(url=url, state=state, redirect_target=target))
    if suggestion and state == "broken" and not is_web_url(url):
        return None  # an archive search for javascript: or a typo helps nobody
    return suggestion


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _no_url(session: Session) -> Iterator[NoUrlRow]:
    query = (
        select(Resource.title, Section.name, Provider.slug)
        .join(Section, Section.id == Resource.section_id)
        .outerjoin(Provider, Provider.id == Resource.provider_id)
        .where(Resource.state == "active", Resource.link_id.is_(None))
        .order_by(Section.position, Resource.position, Resource.id)
    )
    for title, section, provider in session.execute(query):
        yield NoUrlRow(title, section, provider)


def _run_warnings(runs: list[RunRow], inconclusive: list[ChangeRow]) -> list[RunWarning]:
    """Runs that ended inconclusive, failed or aborted, plus stray run_inconclusive events."""
    details = {e.run_id: e.detail for e in inconclusive if e.run_id is not None}
    warnings = [
        RunWarning(run.id, run.kind, run.outcome, run.finished_at or run.started_at,
                   details.get(run.id) or run.detail)
        for run in runs if run.outcome in BAD_RUN_OUTCOMES
    ]
    listed = {run.id for run in runs if run.outcome in BAD_RUN_OUTCOMES}
    warnings += [
        RunWarning(e.run_id, None, "inconclusive", e.detected_at, e.detail)
        for e in inconclusive if e.run_id not in listed
    ]
    return warnings


def _training(changes: list[ChangeRow]) -> list[ProviderChanges]:
    """Offering and fee changes grouped by provider (by slug; events without one last)."""
    groups: dict[str | None, ProviderChanges] = {}
    for change in changes:
        if change.kind not in _TRAINING_LISTS and change.kind != "offering_ended":
            continue
        group = groups.get(change.provider)
        if group is None:
            group = ProviderChanges(change.provider, change.provider_name or "(no provider)")
            groups[change.provider] = group
        if change.kind == "offering_ended":
            group.ended += 1
        else:
            getattr(group, _TRAINING_LISTS[change.kind]).append(change)
    return sorted(groups.values(), key=lambda g: (g.slug is None, g.slug or ""))


_TRAINING_LISTS = {
    "fee_changed": "fee_changed",
    "offering_added": "added",
    "offering_removed": "removed",
    "offering_rescheduled": "rescheduled",
    "offering_updated": "updated",
}


def _upcoming(session: Session, start: datetime, end: datetime) -> list[UpcomingRow]:
    """Active offerings starting in [start, end), in start order."""
    rows = [
        UpcomingRow(
            provider=row.provider, provider_name=row.provider_name, title=row.title,
            url=row.url, format=row.format, start=row.start_at, end=row.end_at,
            timezone=row.timezone, fee_known=row.fee_known,
            fees=tuple(FeeRow(f.tier, f.amount, f.currency) for f in row.fees),
        )
        for row in offering_rows(session, upcoming_from=start, upcoming_until=end)
        if row.start_at is not None
    ]
    return sorted(rows, key=lambda r: (r.start, r.provider, r.title))
