"""`shelfcheck report`: write the change report of a period, and e-mail it."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from shelfcheck.app import App
from shelfcheck.errors import UsageError
from shelfcheck.text import plural


def parse_time(option: str, value: str, timezone: str) -> datetime:
    """An ISO 8601 date or time; one without an offset is read in `timezone`."""
    from shelfcheck.reports.templating import zone

    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not an ISO 8601 date or time "
            "(e.g. 2027-01-04 or 2027-01-04T07:00:00+00:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(timezone))
    return parsed


@click.command("report")
@click.option("--since", metavar="ISO8601",
              help="Start of the period (default: the end of the last report, else 7 days ago).")
@click.option("--days", type=click.IntRange(min=1), metavar="N",
              help="The period is the N days before --until.")
@click.option("--until", metavar="ISO8601", help="End of the period (default: now).")
@click.option("--format", "formats", metavar="LIST",
              help="Comma-separated formats: md, html, json, csv (default: report_formats).")
@click.option("--out", type=click.Path(file_okay=False), metavar="DIR",
              help="Directory for the files (default: reports_dir).")
@click.option("--email/--no-email", default=None,
              help="Send the report by e-mail (default: email_enabled).")
@click.option("--preview", is_flag=True,
              help="Write the files into --out (default: a new temporary folder) and record "
              "nothing: no latest.* copies, no e-mail, the next report's period unchanged.")
@click.pass_obj
def report_cmd(app: App, since: str | None, days: int | None, until: str | None,
               formats: str | None, out: str | None, email: bool | None,
               preview: bool) -> None:
    """Write the change report: one file per format plus latest.* copies; print the paths.

    Times without an offset are read in the configured timezone. With --preview, see what the
    next report would say without moving its period.
    """
    from shelfcheck.catalog.models import utcnow
    from shelfcheck.preflight import check_settings
    from shelfcheck.reports.reporters import get_reporter
    from shelfcheck.reports.write import write_report

    check_settings(app.settings)
    if since and days:
        raise UsageError("give --since or --days, not both")
    tz = app.settings.timezone
    until_at = parse_time("--until", until, tz) if until else None
    since_at = parse_time("--since", since, tz) if since else None
    now = utcnow()
    if days:
        since_at = (until_at or now) - timedelta(days=days)
    kinds = None
    if formats is not None:
        kinds = [part.strip() for part in formats.split(",") if part.strip()]
        if not kinds:
            raise UsageError("--format needs at least one of: md, html, json, csv")
        for kind in kinds:
            get_reporter(kind)
    if preview:
        if email:
            raise UsageError("--preview sends nothing: drop --email")
        _preview(app, since_at, until_at, kinds, out, now)
        return
    outcome = write_report(app.engine, app.settings, since=since_at, until=until_at,
                           formats=kinds, out_dir=out, email=email, now=now)
    for path in outcome.paths:
        click.echo(f"wrote {path}")
    click.echo(f"period {outcome.period_start.isoformat()} to {outcome.period_end.isoformat()}: "
               f"{plural(outcome.actions, 'action')}")
    if outcome.emailed:
        click.echo(f"e-mailed to {', '.join(app.settings.email_to)}")
    if outcome.email_error:
        click.echo(f"shelfcheck: error: the report was written but not e-mailed: "
                   f"{outcome.email_error}", err=True)
    if outcome.notify_error:
        click.echo(f"shelfcheck: error: the report was written but {outcome.notify_error}",
                   err=True)
    if outcome.delivery_error:
        raise click.exceptions.Exit(1)


def _preview(app: App, since: datetime | None, until: datetime | None,
             kinds: list[str] | None, out: str | None, now: datetime) -> None:
    import tempfile
    from pathlib import Path

    from shelfcheck.reports.preview import preview_report

    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="shelfcheck-preview-"))
    outcome = preview_report(app.engine, app.settings, folder, since=since, until=until,
                             formats=kinds, now=now)
    for path in outcome.paths:
        click.echo(f"wrote {path}")
    click.echo(f"preview of the period {outcome.period_start.isoformat()} to "
               f"{outcome.period_end.isoformat()}: {plural(outcome.actions, 'action')}; "
               f"nothing was recorded (the files are in {folder})")


COMMANDS = [report_cmd]
