"""`shelfcheck export`: write the catalog for other front ends."""

from __future__ import annotations

from pathlib import Path

import click

from shelfcheck.app import App
from shelfcheck.catalog.db import snapshot
from shelfcheck.exports.base import export_kinds, get_exporter


@click.command("export")
@click.option("-f", "--format", "fmt", required=True,
              help=f"One of: {', '.join(export_kinds())}.")
@click.option("-o", "--out", type=click.Path(), help="Output file, or folder for several files.")
@click.option("--public", is_flag=True,
              help="For readers: leave broken links out, replace redirects by their target.")
@click.pass_obj
def export_cmd(app: App, fmt: str, out: str | None, public: bool) -> None:
    """Export the catalog (written atomically: temporary file, then rename)."""
    exporter = get_exporter(fmt)(public=public)
    with snapshot(app.engine) as session:  # several files show one state
        paths = exporter.write(session, Path(out) if out else None)
    for path in paths:
        click.echo(f"wrote {path}")


COMMANDS = [export_cmd]
