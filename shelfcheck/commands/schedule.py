"""`shelfcheck schedule`: run the scheduler (scheduler.py), or list its jobs."""

from __future__ import annotations

import logging

import click

from shelfcheck.app import App, configure_logging
from shelfcheck.catalog.models import utcnow
from shelfcheck.table import format_table


@click.command("schedule")
@click.option("--list", "list_only", is_flag=True,
              help="Print each job with its cron expression and next run time, then exit.")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Write the log to this file.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                               case_sensitive=False),
              help="Logging level (default: INFO, or log_level when configured).")
@click.pass_obj
def schedule_cmd(app: App, list_only: bool, log_file: str | None, log_level: str | None) -> None:
    """Run the links, listings and report jobs on their cron schedules until stopped.

    The schedule lives in the catalog database, so a run missed while the scheduler was down
    runs once when it starts again (within schedule_misfire_grace_time). One log line per run
    start and end; a job that finds another run holding the lock logs a skip.
    """
    from shelfcheck import scheduler
    from shelfcheck.preflight import check_settings
    from shelfcheck.schedule.cron import job_specs
    from shelfcheck.schedule.store import describe_next, planned_jobs

    check_settings(app.settings)
    job_specs(app.settings)  # a bad cron expression stops here (exit 2)
    if list_only:
        planned = planned_jobs(app.settings, app.engine, utcnow())
        click.echo(format_table(
            ["job", "cron", "time zone", "next run"],
            [(p.spec.kind, f"{p.spec.key} = {p.spec.expression}", app.settings.timezone,
              describe_next(p)) for p in planned],
            max_width=90,
        ))
        return
    if log_level is None:
        log_level = "INFO" if app.settings.sources.get("log_level") == "default" \
            else app.settings.log_level
    if log_file:
        configure_logging(log_level, log_file)
    else:  # keep the handler the top-level options set up
        logging.getLogger().setLevel(log_level.upper())
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler.serve(app.settings, app.engine)


COMMANDS = [schedule_cmd]
