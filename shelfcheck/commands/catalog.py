"""`shelfcheck catalog ...`: sync, list and import the guide's catalog."""

from __future__ import annotations

from pathlib import Path

import click

from shelfcheck.app import App
from shelfcheck.catalog.catalogfile import RecipeValidator, load_catalog
from shelfcheck.catalog.queries import resource_rows
from shelfcheck.catalog.sync import sync_catalog
from shelfcheck.errors import UsageError
from shelfcheck.table import format_table


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
    """
    path = file or app.settings.catalog_file
    spec = load_catalog(path, recipe_validator=recipe_validator())
    with app.session() as session:
        result = sync_catalog(session, spec)
    click.echo(f"synced {spec.source}: {result.summary()}")
    for label, items in (("added", result.added), ("updated", result.updated),
                         ("retired", result.retired), ("restored", result.restored),
                         ("provider", result.providers_changed)):
        for item in items:
            click.echo(f"  {label}: {item}")


@catalog_group.command("list")
@click.option("--retired", is_flag=True, help="Include retired resources.")
@click.pass_obj
def list_cmd(app: App, retired: bool) -> None:
    """Print sections, resources, URLs and link states as a table."""
    with app.session() as session:
        rows = list(resource_rows(session, include_retired=retired))
    if not rows:
        click.echo("The catalog is empty: run `shelfcheck catalog sync` first.")
        return
    table_rows = [
        (r.section, r.title, r.url or "(no URL)", r.link_state)
        + ((r.state,) if retired else ())
        for r in rows
    ]
    headers = ["section", "resource", "url", "link"] + (["state"] if retired else [])
    click.echo(format_table(headers, table_rows))
    sections = len({r.section for r in rows})
    click.echo(f"\n{len(rows)} resources in {sections} sections")


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


COMMANDS = [catalog_group]
