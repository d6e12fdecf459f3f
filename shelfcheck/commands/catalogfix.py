"""`shelfcheck catalog fix`: write the targets of permanent redirects into the catalog file."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from shelfcheck.app import App
from shelfcheck.catalog.catalogfix import apply_fixes, plan_fixes, read_catalog_text, redirects
from shelfcheck.errors import UsageError
from shelfcheck.text import plural


@click.command("fix")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show the replacements; change nothing.")
@click.pass_obj
def fix_cmd(app: App, file: str | None, dry_run: bool) -> None:
    """Replace each permanently redirected URL of the catalog FILE (default: catalog_file) with
    its target, in place, keeping comments, key order, quoting and layout.

    Each replacement is printed as a diff line. A redirect to a home page, a login page or a
    target that many links share (a catch-all page) is never applied. The next `catalog sync`
    (or `refresh`) moves the link's history to the new URL, with no resource added or removed.
    """
    name = file or app.settings.catalog_file
    if not name:
        raise UsageError("no catalog file to fix: give FILE or set catalog_file (the packaged "
                         "guide is not rewritten)")
    path = Path(name)
    text = read_catalog_text(path)
    with app.session() as session:
        known = redirects(session)
    plan = plan_fixes(text, str(path), known)
    new_text = apply_fixes(text, str(path), plan)
    for line in difflib.unified_diff(text.splitlines(), new_text.splitlines(),
                                     f"a/{path.name}", f"b/{path.name}", n=0, lineterm=""):
        click.echo(line)
    for skip in (r for r in plan if r.skipped):
        click.echo(f"{path}:{skip.line}: not applied: {skip.old} → {skip.new}: {skip.skipped}")
    applied = sum(1 for r in plan if r.skipped is None)
    if dry_run:
        click.echo(f"dry run: {plural(applied, 'URL')} would be replaced in {path}; "
                   "nothing was changed")
        return
    if applied:
        from shelfcheck.exports.atomic import atomic_write_text

        atomic_write_text(path, new_text)
        click.echo(f"replaced {plural(applied, 'URL')} in {path}; run `shelfcheck catalog sync` "
                   "(or `refresh`) to load it")
    else:
        click.echo(f"nothing to fix in {path}: no resource has a redirect that can be applied")
