"""`shelfcheck crawl`, `shelfcheck offerings` and `shelfcheck recipes test`: provider listings."""

from __future__ import annotations

import contextlib
import json
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
from shelfcheck.errors import ExitCode, UsageError
from shelfcheck.table import format_table

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
@click.pass_obj
def crawl_cmd(app: App, providers: tuple[str, ...]) -> None:
    """Crawl provider listings (default: every provider with a recipe) and show what changed.

    Exit status: 0 done, 3 inconclusive (no provider could be reached), 4 failed or aborted.
    """
    from shelfcheck.crawler.listings import run_crawl
    from shelfcheck.preflight import check_settings
    from shelfcheck.runguard import exclusive_run

    check_settings(app.settings)
    with exclusive_run(app, "crawl"):
        result = run_crawl(app.settings, providers=list(providers) or None,
                           progress=lambda line: click.echo(line))
    click.echo(f"\nlistings run {result.run_id}: {result.outcome} — {result.summary}")
    if result.run_id is not None and result.outcome not in ("failed", "aborted"):
        _print_changes(app, result.run_id, result.stats)
    code = RunOutcome(result.outcome).exit_code
    if code:
        raise SystemExit(code)


def _print_changes(app: App, run_id: int, stats: dict[str, Any]) -> None:
    with app.session() as session:
        events = list(session.scalars(
            select(ChangeEvent).where(ChangeEvent.run_id == run_id).order_by(ChangeEvent.id)))
        slugs = {p.id: p.slug for p in session.scalars(select(Provider))}
        by_provider: dict[str, list[ChangeEvent]] = defaultdict(list)
        for event in events:
            by_provider[slugs.get(event.provider_id or -1, "?")].append(event)
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
        warnings = [(slugs.get(e.provider_id or -1, "?"), e) for e in events
                    if e.kind in _WARNINGS]
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_obj
def offerings_cmd(app: App, provider: str | None, upcoming: bool, fmt: str) -> None:
    """List the current offerings with their dates and fees."""
    with app.session() as session:
        if provider and session.scalar(
                select(Provider.id).where(Provider.slug == provider)) is None:
            raise UsageError(f"unknown provider {provider!r}")
        rows = list(offering_rows(session, provider=provider,
                                  upcoming_from=utcnow() if upcoming else None))
    if fmt == "json":
        click.echo(json.dumps([_row_json(r) for r in rows], indent=2, ensure_ascii=False))
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
    click.echo(format_table(["provider", "title", "starts", "fee", "format", "lssc"], table))
    click.echo(f"\n{len(rows)} offerings")


@click.group("recipes")
def recipes_group() -> None:
    """Check the listing recipes of the catalog file."""


@recipes_group.command("test")
@click.argument("provider")
@click.option("--url", help="Fetch this page instead of the first listing page "
              "(a listing page if the item selector matches there, else a detail page).")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False),
              help="Catalog file with the recipe (default: catalog_file, or the packaged guide).")
@click.option("--items", default=3, show_default=True, help="Items to show (and follow).")
@click.pass_obj
def recipes_test_cmd(app: App, provider: str, url: str | None, catalog_path: str | None,
                     items: int) -> None:
    """Fetch a page and show, field by field, what PROVIDER's recipe extracts and from where."""
    from shelfcheck.catalog.catalogfile import load_catalog
    from shelfcheck.crawler.extract.items import finalize
    from shelfcheck.crawler.listings import crawl_walks
    from shelfcheck.crawler.recipe import parse_recipe, validate_recipe
    from shelfcheck.crawler.walk import ProviderWalk

    spec = load_catalog(catalog_path or app.settings.catalog_file,
                        recipe_validator=validate_recipe)
    found = next((p for p in spec.providers if p.slug == provider), None)
    if found is None:
        raise UsageError(f"unknown provider {provider!r} in {spec.source}")
    if not found.recipe:
        raise UsageError(f"provider {provider!r} has no recipe in {spec.source}")
    recipe = parse_recipe(provider, found.recipe)
    tz = recipe.timezone or app.settings.timezone
    walk = ProviderWalk(provider, recipe, tz=tz, now=utcnow(), max_items=max(items, 1),
                        max_listing_pages=1, probe_url=url)
    crawl_walks(app.settings, [walk], use_cache=False)
    crawl = walk.crawl
    page = url or recipe.listing[0]
    click.echo(f"{provider}: fetched {crawl.pages} pages from {page}"
               + (f" (preset {recipe.preset})" if recipe.preset else ""))
    if walk.probed_detail:
        click.echo("  the item selector matched nothing there: read as a detail page")
    for failure in crawl.failures:
        click.echo(f"  failed: {failure.url}: {failure.reason}")
    for warning in crawl.warnings:
        click.echo(f"  warning: {warning}")
    if not walk.drafts:
        click.echo("no items extracted")
        raise SystemExit(ExitCode.ERROR)
    drafts = sorted(walk.drafts, key=lambda d: walk.order.get(d.link or "", len(walk.order)))
    for number, draft in enumerate(drafts, 1):
        record = finalize(recipe, draft, walk.feed_events, tz=tz)
        where = f" (detail page {draft.detail_url})" if draft.detail_url else ""
        click.echo(f"\nitem {number}{where}")
        if record is None:
            click.echo("  no title: the item is dropped")
            continue
        values = [
            ("title", record.title), ("url", record.url or ""),
            ("schedule", record.schedule),
            ("start", local_time(record.start, record.timezone)),
            ("end", local_time(record.end, record.timezone)),
            ("fee", fee_text(record.fees, record.fee_known)),
            ("format", record.format or ""),
            ("lssc", "" if record.lssc is None else ("yes" if record.lssc else "no")),
            ("description", record.description or ""),
            ("status", record.status or ""), ("platform_id", record.platform_id or ""),
        ]
        rows = [(name, value, record.sources.get(name, "—" if not value else "")
                 ) for name, value in values]
        click.echo(format_table(["field", "value", "source"], rows, max_width=70))
        chosen = set(record.sources.values())
        others = [c for c in draft.candidates if c.field in dict(values)
                  and f"{c.source} ({c.detail})" not in chosen and c.field != "url"]
        for cand in others:
            value = cand.value
            if cand.field == "fee":
                value = fee_text(value.tiers, value.known)
            elif isinstance(value, datetime):
                value = value.isoformat()
            click.echo(f"  also {cand.field}: {str(value)[:60]!s} from {cand.source} "
                       f"({cand.detail})")
        for warning in record.warnings:
            click.echo(f"  warning: {warning}")


COMMANDS = [crawl_cmd, offerings_cmd, recipes_group]
