"""`shelfcheck crawl`, `shelfcheck offerings` and `shelfcheck recipes test`: provider listings."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import select

from shelfcheck.app import App
from shelfcheck.catalog.events import kinds_in
from shelfcheck.catalog.models import ChangeEvent, Provider, utcnow
from shelfcheck.catalog.queries import OfferingRow, offering_rows
from shelfcheck.catalog.states import RunOutcome
from shelfcheck.commands.output import echo_json, format_option, wide_option
from shelfcheck.commands.progress import StepProgress
from shelfcheck.errors import UsageError
from shelfcheck.table import format_table
from shelfcheck.text import plural

_MARKS = {"offering_added": "+ added", "offering_removed": "- removed",
          "offering_ended": "  ended", "offering_rescheduled": "~ rescheduled",
          "fee_changed": "$ fee", "offering_updated": "~ updated"}
_WARNINGS = kinds_in("providers")  # unreachable listings, recipe drift


def local_time(value: datetime | None, tz: str | None) -> str:
    """A time in its offering's zone: "2027-06-15 12:00 PDT"."""
    if value is None:
        return ""
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
        value = value.astimezone(ZoneInfo(tz)) if tz else value
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def fee_text(fees: Any, known: bool) -> str:
    """Fee tiers in one line: "200.00 USD", "ALA members 45.00; non-members 60.00 USD", "free"."""
    if not known:
        return "unknown"
    if not fees:
        return "unknown"
    if all(float(f.amount) == 0 for f in fees):
        return "free"
    currency = fees[0].currency
    parts = [f"{f.tier + ' ' if f.tier else ''}{f.amount}" for f in fees]
    return "; ".join(parts) + f" {currency}"


def _event_line(event: ChangeEvent) -> str:
    title = event.title or event.url or ""
    if event.kind == "fee_changed":
        tier = f" [{event.tier}]" if event.tier else ""
        return f"{title}{tier}: {event.old or 'none'} → {event.new or 'none'}"
    if event.kind == "offering_rescheduled":
        return f"{title}: {event.detail}"
    if event.kind == "offering_updated":
        return f"{title}: {event.detail} {event.old} → {event.new}"
    if event.kind in ("offering_added", "offering_removed", "offering_ended") and event.detail:
        return f"{title} ({event.detail})"
    return title


@click.command("crawl")
@click.argument("providers", nargs=-1)
@format_option
@click.pass_obj
def crawl_cmd(app: App, providers: tuple[str, ...], fmt: str) -> None:
    """Crawl provider listings (default: every provider with a recipe) and show what changed.

    A line per provider as it finishes (on standard error with --format json); on a terminal, a
    progress bar below them. Exit status: 0 done, 3 inconclusive (no provider could be
    reached), 4 failed or aborted.
    """
    from shelfcheck.crawler.listings import run_crawl
    from shelfcheck.preflight import check_settings
    from shelfcheck.runguard import exclusive_run

    check_settings(app.settings)
    as_json = fmt == "json"

    def line(text: str) -> None:
        click.echo(text, err=as_json)
        bar.step()

    with exclusive_run(app, "crawl"), StepProgress("crawling", None) as bar:
        result = run_crawl(app.settings, providers=list(providers) or None, progress=line)
    events: list[tuple[str, ChangeEvent]] = []
    finished = result.outcome not in (RunOutcome.FAILED, RunOutcome.ABORTED)
    if result.run_id is not None and finished:
        events = _events(app, result.run_id)
    if as_json:
        echo_json({
            "run_id": result.run_id, "outcome": result.outcome, "summary": result.summary,
            "changes": [_event_json(slug, e) for slug, e in events if e.kind in _MARKS],
            "warnings": [_event_json(slug, e) for slug, e in events if e.kind in _WARNINGS],
            "stats": result.stats,
        })
    else:
        click.echo(f"\nlistings run {result.run_id}: {result.outcome} — {result.summary}")
        if result.run_id is not None and finished:
            _print_changes(events, result.stats)
    code = RunOutcome(result.outcome).exit_code
    if code:
        raise SystemExit(code)


def _events(app: App, run_id: int) -> list[tuple[str, ChangeEvent]]:
    with app.session() as session:
        slugs = {p.id: p.slug for p in session.scalars(select(Provider))}
        return [(slugs.get(e.provider_id or -1, "?"), e) for e in session.scalars(
            select(ChangeEvent).where(ChangeEvent.run_id == run_id).order_by(ChangeEvent.id))]


def _event_json(slug: str, event: ChangeEvent) -> dict[str, Any]:
    return {"provider": slug, "kind": event.kind, "title": event.title, "url": event.url,
            "tier": event.tier, "old": event.old, "new": event.new, "detail": event.detail,
            "line": _event_line(event)}


def _print_changes(events: list[tuple[str, ChangeEvent]], stats: dict[str, Any]) -> None:
    by_provider: dict[str, list[ChangeEvent]] = defaultdict(list)
    for slug, event in events:
        by_provider[slug].append(event)
    changes = {s: [e for e in evs if e.kind in _MARKS] for s, evs in by_provider.items()}
    if any(changes.values()):
        click.echo("\nchanges:")
        for slug in sorted(changes):
            if changes[slug]:
                click.echo(f"  {slug}")
            for event in changes[slug]:
                click.echo(f"    {_MARKS[event.kind]:<14} {_event_line(event)}")
    else:
        click.echo("\nno changes to offerings")
    warnings = [(slug, e) for slug, e in events if e.kind in _WARNINGS]
    lines = [f"  {slug}: {event.kind.replace('_', ' ')}: {event.detail}"
             for slug, event in warnings]
    shown = " ".join(event.detail or "" for _slug, event in warnings)
    for slug, info in sorted(stats.get("providers", {}).items()):
        lines += [f"  {slug}: {warning}" for warning in info.get("warnings", [])
                  if warning not in shown]
    if lines:
        click.echo("\nwarnings:")
        click.echo("\n".join(lines))


def _row_json(row: OfferingRow) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "provider": row.provider, "title": row.title, "url": row.url, "format": row.format,
        "schedule": row.schedule, "start": iso(row.start_at), "end": iso(row.end_at),
        "timezone": row.timezone, "start_raw": row.start_raw, "fee_known": row.fee_known,
        "fees": [{"tier": f.tier, "amount": f.amount, "currency": f.currency} for f in row.fees],
        "lssc_approved": row.lssc_approved, "description": row.description,
        "state": row.state, "first_seen_at": iso(row.first_seen_at),
        "last_seen_at": iso(row.last_seen_at), "sequence": row.sequence, "key": row.key,
    }


@click.command("offerings")
@click.option("--provider", "provider", metavar="SLUG", help="Only this provider's offerings.")
@click.option("--upcoming", is_flag=True, help="Only offerings that start from now on.")
@format_option
@wide_option
@click.pass_obj
def offerings_cmd(app: App, provider: str | None, upcoming: bool, fmt: str,
                  wide: bool) -> None:
    """List the current offerings with their dates and fees."""
    with app.session() as session:
        if provider and session.scalar(
                select(Provider.id).where(Provider.slug == provider)) is None:
            raise UsageError(f"unknown provider {provider!r}")
        rows = list(offering_rows(session, provider=provider,
                                  upcoming_from=utcnow() if upcoming else None))
    if fmt == "json":
        echo_json([_row_json(r) for r in rows])
        return
    if not rows:
        click.echo("No offerings: run `shelfcheck crawl` first." if not upcoming
                   else "No upcoming offerings.")
        return
    table = [
        (r.provider, r.title,
         local_time(r.start_at, r.timezone) if r.schedule == "scheduled" else r.schedule,
         fee_text(r.fees, r.fee_known), r.format or "",
         "" if r.lssc_approved is None else ("yes" if r.lssc_approved else "no"))
        for r in rows
    ]
    click.echo(format_table(["provider", "title", "starts", "fee", "format", "lssc"], table,
                            wide=wide))
    click.echo(f"\n{plural(len(rows), 'offering')}")


COMMANDS = [crawl_cmd, offerings_cmd]
