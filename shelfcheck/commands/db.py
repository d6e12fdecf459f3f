"""`shelfcheck db upgrade`: apply the schema migrations."""

from __future__ import annotations

import click

from shelfcheck.app import App
from shelfcheck.config import redact_url


@click.group("db")
def db_group() -> None:
    """Manage the catalog database."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_cmd(app: App) -> None:
    """Apply the migrations (every command also does this on an empty database)."""
    _ = app.engine  # opening upgrades
    click.echo(f"database {redact_url(app.settings.database_url)} is at the newest schema")


COMMANDS = [db_group]
