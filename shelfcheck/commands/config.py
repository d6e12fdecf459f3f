"""`shelfcheck config show`: the settings in effect and where each came from."""

from __future__ import annotations

import click

from shelfcheck.app import App
from shelfcheck.config import KEYS
from shelfcheck.table import format_table


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show")
@click.option("--doc", is_flag=True, help="Print the documentation table of every key instead.")
@click.pass_obj
def show_cmd(app: App, doc: bool) -> None:
    """Print each setting, its value and its source (default, file, env, command line)."""
    if doc:
        click.echo("| key | default | meaning |\n|---|---|---|")
        for key in KEYS:
            click.echo(f"| `{key.name}` | `{key.default!r}` | {key.doc} |")
        return
    rows = [(k.name, app.settings.redacted(k.name), app.settings.sources[k.name]) for k in KEYS]
    click.echo(format_table(["key", "value", "source"], rows, max_width=70))


COMMANDS = [config_group]
