"""`shelfcheck catalog ...`: sync, list and import the guide's catalog."""

from __future__ import annotations

from pathlib import Path

import click

from shelfcheck.app import App
from shelfcheck.catalog.catalogfile import CatalogReader, RecipeValidator
from shelfcheck.catalog.notchecked import link_exclude, not_checked, state_label
from shelfcheck.catalog.queries import ResourceRow, resource_rows
from shelfcheck.catalog.sync import sync_catalog_file
from shelfcheck.commands.catalogfix import fix_cmd
from shelfcheck.commands.output import echo_json, format_option, wide_option
from shelfcheck.errors import UsageError
from shelfcheck.table import format_table
from shelfcheck.text import plural


def recipe_validator() -> RecipeValidator | None:
    """The crawler's recipe checker, used while loading catalog files."""
    try:
        from shelfcheck.crawler.recipe import validate_recipe
    except ImportError:
        return None
    return validate_recipe


@click.group("catalog")
def catalog_group() -> None:
    """Load, list and import the catalog of resources."""


@catalog_group.command("sync")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.pass_obj
def sync_cmd(app: App, file: str | None) -> None:
    """Load a catalog FILE (default: catalog_file, or the packaged guide) into the database.

    Idempotent: a second sync changes nothing. Resources dropped from the file are retired.
    The file is read and written a section at a time in one transaction: a problem anywhere
    writes nothing. Up to 100 changes of each kind are listed, the rest counted.
    """
    reader = CatalogReader(file or app.settings.catalog_file,
                           recipe_validator=recipe_validator())
    with app.session() as session:
        result = sync_catalog_file(session, reader)
    click.echo(f"synced {reader.source}: {result.summary()}")
    for label, changes in (("added", result.added), ("updated", result.updated),
                           ("retired", result.retired), ("restored", result.restored),
                           ("provider", result.providers_changed)):
        for item in changes.lines:
            click.echo(f"  {label}: {item}")
        if changes.more:
            click.echo(f"  {label}: ... and {changes.more:,} more")


@catalog_group.command("list")
@click.option("--retired", is_flag=True, help="Include retired resources.")
@format_option
@wide_option
@click.pass_obj
def list_cmd(app: App, retired: bool, fmt: str, wide: bool) -> None:
    """Print sections, resources, URLs and link states as a table (or JSON).

    A link that is not checked (`check: false`, `link_exclude`) shows as "not checked".
    """
    with app.session() as session:
        rows = list(resource_rows(session, include_retired=retired))
        skipped = not_checked(session, link_exclude(app.settings))
    if fmt == "json":
        echo_json([resource_json(r, skipped.get(r.link_id or 0)) for r in rows])
        return
    if not rows:
        click.echo("The catalog is empty: run `shelfcheck catalog sync` first.")
        return
    table_rows = [
        (r.section, r.title, r.url or "(no URL)",
         state_label(r.link_state, skipped.get(r.link_id or 0)))
        + ((r.state,) if retired else ())
        for r in rows
    ]
    headers = ["section", "resource", "url", "link"] + (["state"] if retired else [])
    click.echo(format_table(headers, table_rows, wide=wide))
    sections = len({r.section for r in rows})
    click.echo(f"\n{plural(len(rows), 'resource')} in {plural(sections, 'section')}")


def resource_json(row: ResourceRow, not_checked: str | None = None) -> dict[str, object]:
    """The documented JSON shape of one resource (docs/cli.md); `not_checked` is why its link
    is not checked, if it is not."""
    return {
        "section": row.section, "title": row.title, "url": row.url,
        "description": row.description, "provider": row.provider, "state": row.state,
        "link_state": row.link_state, "link_url": row.link_url, "verdict": row.verdict,
        "http_status": row.http_status, "last_checked_at": row.last_checked_at,
        "since": row.since, "suggestion": row.suggestion, "check": row.check,
        "not_checked": not_checked,
    }


@catalog_group.command("import-guide")
@click.argument("source")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="Write the catalog file here (default: standard output).")
def import_guide_cmd(source: str, out: str | None) -> None:
    """Read a LibGuides-style page (file or URL) and write a catalog file that `sync` accepts."""
    from shelfcheck.catalog.importguide import ImportGuideError, dump_catalog, import_guide

    warnings: list[str] = []
    try:
        data = import_guide(source, warnings=warnings)
    except ImportGuideError as exc:
        raise UsageError(str(exc)) from None
    for warning in warnings:
        click.echo(f"warning: {source}: {warning}", err=True)
    text = dump_catalog(data)
    if out:
        from shelfcheck.exports.atomic import atomic_write_text

        atomic_write_text(Path(out), text)
        count = sum(len(s["resources"]) for s in data["sections"])
        click.echo(f"wrote {out}: {count} resources in {len(data['sections'])} sections")
    else:
        click.echo(text, nl=False)


catalog_group.add_command(fix_cmd)

COMMANDS = [catalog_group]
