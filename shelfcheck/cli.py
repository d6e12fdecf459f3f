"""The composition root: the `shelfcheck` command and its subcommands."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from shelfcheck import __version__
from shelfcheck.app import App, configure_logging
from shelfcheck.config import Settings, load_settings, redact_url
from shelfcheck.errors import (
    DatabaseBusy,
    DatabaseFailed,
    NotSynced,
    ShelfcheckError,
    UsageError,
    short_error,
)

# Each module defines click commands and a `COMMANDS` list; order is the help order.
COMMAND_MODULES = (
    "shelfcheck.commands.catalog",
    "shelfcheck.commands.config",
    "shelfcheck.commands.db",
    "shelfcheck.commands.export",
    "shelfcheck.commands.links",
    "shelfcheck.commands.listings",
    "shelfcheck.commands.recipes",
    "shelfcheck.commands.report",
    "shelfcheck.commands.runs",
    "shelfcheck.commands.refresh",
    "shelfcheck.commands.schedule",
    "shelfcheck.commands.demo",
)


class ShelfcheckGroup(click.Group):
    """A group that turns ShelfcheckError into one clear line and its exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShelfcheckError as exc:
            click.echo(f"shelfcheck: error: {error_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except SQLAlchemyError as exc:  # the database failed under us: one line, no traceback
            error = database_error(exc, ctx.obj.settings if isinstance(ctx.obj, App) else None)
            click.echo(f"shelfcheck: error: {error}", err=True)
            ctx.exit(error.exit_code)
        finally:
            app = ctx.obj
            if isinstance(app, App):
                app.close()


def error_line(exc: ShelfcheckError) -> str:
    """The message of an error in command-line terms: the options it names, and a hint."""
    text = str(exc)
    if isinstance(exc, UsageError) and exc.options:
        flags = "/".join(f"--{option.replace('_', '-')}" for option in exc.options)
        text = f"{flags}: {text}"
    if isinstance(exc, NotSynced):
        text += "; run `shelfcheck catalog sync` first"
    return text


def database_error(exc: SQLAlchemyError, settings: Settings | None) -> ShelfcheckError:
    """The error to show for a database failure: locked (exit 75) or failed (exit 4)."""
    where = f"the database {redact_url(settings.database_url)}" if settings else "the database"
    if "database is locked" in str(exc):
        waited = f" for {settings.sqlite_busy_timeout:g} s" if settings else ""
        return DatabaseBusy(f"{where} is locked by another process (waited{waited}, "
                            "sqlite_busy_timeout); try again later")
    return DatabaseFailed(f"{where} failed: {short_error(exc)}; the unfinished work was "
                          "rolled back")


@click.group(cls=ShelfcheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shelfcheck")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML configuration file (default: ./shelfcheck.toml when present).")
@click.option("--database-url", help="Overrides database_url.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                               case_sensitive=False), help="Overrides log_level.")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Write the log to this file.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None,
        log_level: str | None, log_file: str | None) -> None:
    """shelfcheck keeps a curated guide of web resources true."""
    try:
        settings = load_settings(
            config_path, {"database_url": database_url, "log_level": log_level}
        )
    except ShelfcheckError as exc:
        click.echo(f"shelfcheck: error: {exc}", err=True)
        ctx.exit(exc.exit_code)
    for warning in settings.warnings:
        click.echo(f"shelfcheck: warning: {warning}", err=True)
    configure_logging(settings.log_level, log_file)
    ctx.obj = App(settings)


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="shelfcheck")
