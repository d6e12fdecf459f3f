"""`shelfcheck links dismiss` and `links undismiss`: say "we know" about a link, or take it back."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from shelfcheck.app import App
from shelfcheck.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shelfcheck.catalog.dismissals import Dismissal


def _today(app: App) -> date:
    from shelfcheck.catalog.models import utcnow
    from shelfcheck.reports.templating import zone

    return utcnow().astimezone(zone(app.settings.timezone)).date()


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--until {value!r} is not a date (YYYY-MM-DD)") from None


@click.command("dismiss")
@click.argument("url")
@click.option("--reason", required=True, metavar="TEXT",
              help="Why: shown in the report next to the link.")
@click.option("--until", metavar="YYYY-MM-DD",
              help="Report the link again after this day (default: until its result changes).")
@click.pass_obj
def dismiss_cmd(app: App, url: str, reason: str, until: str | None) -> None:
    """Dismiss a broken, redirected or unverifiable link: it leaves "Action needed" and the
    warnings, and is counted as dismissed.

    The dismissal holds until --until, or until the link's result (state, verdict or redirect
    target) changes, whichever comes first; then the link is reported again.
    """
    from shelfcheck.catalog.dismissals import dismiss
    from shelfcheck.catalog.models import utcnow

    with app.session() as session:
        link, row = dismiss(session, url, reason=reason, until=_date(until), now=utcnow(),
                            today=_today(app))
        verdict = f", {row.verdict}" if row.verdict else ""
        holds = f"until {row.until.isoformat()} or " if row.until else "until "
        click.echo(f"dismissed {link.url} ({row.state}{verdict}): {row.reason}; "
                   f"it holds {holds}its result changes")


@click.command("undismiss")
@click.argument("url")
@click.pass_obj
def undismiss_cmd(app: App, url: str) -> None:
    """Take back the dismissal of a link: the report lists it again."""
    from shelfcheck.catalog.dismissals import undismiss

    with app.session() as session:
        link, removed = undismiss(session, url)
    click.echo(f"{link.url}: dismissal removed" if removed else f"{link.url} was not dismissed")


SUBCOMMANDS = [dismiss_cmd, undismiss_cmd]
"""Subcommands of `shelfcheck links`."""


def held_dismissals(app: App, session: Session) -> dict[int, Dismissal]:
    """The dismissals that hold today, by link id (for `links`)."""
    from shelfcheck.catalog.dismissals import dismissals_holding

    return dismissals_holding(session, _today(app))
