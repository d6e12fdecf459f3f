"""`shelfcheck demo`: see shelfcheck work in a minute, offline."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo's catalog, configuration, database, report and exports "
                   "(default: a new temporary folder, kept afterwards).")
def demo_cmd(folder: Path | None) -> None:
    """Run shelfcheck on a bundled loopback copy of the providers' sites, offline.

    Week one, then week two with a fee change, a new and a cancelled webinar, a moved page, a
    dead link, a blocked host and a listing outage: the real `refresh` runs on each (twice in
    week two, to confirm the dead link), then `report` writes every format. Prints what the
    report says and the path of every file written. Uses only its own files in --dir, never the
    configured database.

    Exit status: 0 the report shows every case, 1 it does not, 2 --dir holds other files.
    """
    from shelfcheck.demo.run import run_demo

    code = run_demo(folder, click.echo)
    if code:
        raise click.exceptions.Exit(code)


COMMANDS = [demo_cmd]
