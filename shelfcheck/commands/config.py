"""`shelfcheck config show`: the settings in effect and where each came from."""

from __future__ import annotations

import click

from shelfcheck.app import App
from shelfcheck.commands.output import echo_json, format_option, wide_option
from shelfcheck.config import KEYS, toml_value
from shelfcheck.table import format_table


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show")
@click.option("--doc", is_flag=True, help="Print the documentation table of every key instead.")
@format_option
@wide_option
@click.pass_obj
def show_cmd(app: App, doc: bool, fmt: str, wide: bool) -> None:
    """Print each setting, its value and its source (default, file, env, command line).

    Secrets (passwords, and the password in database_url) are shown as ***.
    """
    if doc:
        click.echo("| key | default | meaning |\n|---|---|---|")
        for key in KEYS:
            click.echo(f"| `{key.name}` | `{toml_value(key.default)}` | {key.doc} |")
        return
    if fmt == "json":
        echo_json([{"key": k.name, "value": app.settings.redacted_value(k.name),
                    "source": app.settings.sources[k.name]} for k in KEYS])
        return
    rows = [(k.name, app.settings.redacted(k.name), app.settings.sources[k.name]) for k in KEYS]
    click.echo(format_table(["key", "value", "source"], rows, wide=wide))


COMMANDS = [config_group]
