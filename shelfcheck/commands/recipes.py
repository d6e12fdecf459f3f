"""`shelfcheck recipes test`: what a provider's listing recipe extracts, field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from shelfcheck.app import App
from shelfcheck.catalog.models import utcnow
from shelfcheck.commands.listings import fee_text, local_time
from shelfcheck.commands.output import echo_json, format_option, wide_option
from shelfcheck.errors import UsageError
from shelfcheck.table import format_table
from shelfcheck.text import plural


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
@format_option
@wide_option
@click.pass_obj
def recipes_test_cmd(app: App, provider: str, url: str | None, catalog_path: str | None,
                     items: int, fmt: str, wide: bool) -> None:
    """Fetch a page and show, field by field, what PROVIDER's recipe extracts and from where.

    Exit status 1 when no item is extracted.
    """
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
                        max_listing_pages=1, probe_url=url, keep_drafts=True)
    crawl_walks(app.settings, [walk], use_cache=False)
    crawl = walk.crawl
    page = url or recipe.listing[0]
    drafts = sorted(walk.drafts, key=lambda d: walk.order.get(d.link or "", len(walk.order)))
    tested = []
    for draft in drafts:
        record = finalize(recipe, draft, walk.feed_events, tz=tz)
        tested.append((draft, record, _field_values(record) if record else []))
    if fmt == "json":
        echo_json({
            "provider": provider, "page": page, "preset": recipe.preset, "pages": crawl.pages,
            "read_as_detail_page": bool(walk.probed_detail),
            "failures": [{"url": f.url, "reason": f.reason} for f in crawl.failures],
            "warnings": list(crawl.warnings),
            "items": [_item_json(draft, record, values) for draft, record, values in tested],
        })
        if not drafts:
            raise SystemExit(1)
        return
    click.echo(f"{provider}: fetched {plural(crawl.pages, 'page')} from {page}"
               + (f" (preset {recipe.preset})" if recipe.preset else ""))
    if walk.probed_detail:
        click.echo("  the item selector matched nothing there: read as a detail page")
    for failure in crawl.failures:
        click.echo(f"  failed: {failure.url}: {failure.reason}")
    for warning in crawl.warnings:
        click.echo(f"  warning: {warning}")
    if not drafts:
        click.echo("no items extracted")
        raise SystemExit(1)
    for number, (draft, record, values) in enumerate(tested, 1):
        where = f" (detail page {draft.detail_url})" if draft.detail_url else ""
        click.echo(f"\nitem {number}{where}")
        if record is None:
            click.echo("  no title: the item is dropped")
            continue
        rows = [(name, value, record.sources.get(name, "—" if not value else "")
                 ) for name, value in values]
        click.echo(format_table(["field", "value", "source"], rows, wide=wide))
        for name, value, source in _alternatives(draft, record, values):
            click.echo(f"  also {name}: {value[:60]} from {source}")
        for warning in record.warnings:
            click.echo(f"  warning: {warning}")


def _field_values(record: Any) -> list[tuple[str, str]]:
    return [
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


def _alternatives(draft: Any, record: Any,
                  values: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The candidates a field had besides the one chosen: (field, value, source)."""
    chosen = set(record.sources.values())
    found = []
    for cand in draft.candidates:
        if (cand.field not in dict(values) or cand.field == "url"
                or f"{cand.source} ({cand.detail})" in chosen):
            continue
        value = cand.value
        if cand.field == "fee":
            value = fee_text(value.tiers, value.known)
        elif isinstance(value, datetime):
            value = value.isoformat()
        found.append((cand.field, str(value), f"{cand.source} ({cand.detail})"))
    return found


def _item_json(draft: Any, record: Any, values: list[tuple[str, str]]) -> dict[str, Any]:
    if record is None:
        return {"detail_url": draft.detail_url, "dropped": "no title", "fields": [],
                "alternatives": [], "warnings": []}
    return {
        "detail_url": draft.detail_url, "dropped": None,
        "fields": [{"field": name, "value": value or None,
                    "source": record.sources.get(name)} for name, value in values],
        "alternatives": [{"field": f, "value": v, "source": s}
                         for f, v, s in _alternatives(draft, record, values)],
        "warnings": list(record.warnings),
    }


COMMANDS = [recipes_group]
