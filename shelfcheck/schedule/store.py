"""The job store in the catalog database, and the plan `schedule --list` reads from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from shelfcheck.config import Settings
from shelfcheck.schedule.cron import JobSpec, job_specs, parse_cron, scheduler_timezone

JOBSTORE_TABLE = "apscheduler_jobs"


def open_job_store(engine: Engine, scheduler: BaseScheduler) -> SQLAlchemyJobStore:
    """The job store in the catalog database, its table created when missing."""
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
    try:
        store.start(scheduler, "default")
    except DBAPIError:  # another process created the table at the same moment
        if not inspect(engine).has_table(JOBSTORE_TABLE):
            raise
        store.start(scheduler, "default")
    return store


def stored_jobs(store: SQLAlchemyJobStore) -> dict[str, Job]:
    """The jobs in the store by id."""
    return {job.id: job for job in store.get_all_jobs()}


def same_trigger(job: Job, spec: JobSpec) -> bool:
    """True when a stored job still has the configured trigger (fields, time zone, jitter)."""
    return repr(job.trigger) == repr(spec.trigger)


@dataclass(frozen=True)
class PlannedJob:
    """A job as `schedule --list` shows it."""

    spec: JobSpec
    next_run_time: datetime | None  # stored, or computed from now for a new or changed job
    missed: datetime | None  # the latest run time that passed while no scheduler ran
    runs_at_start: bool  # the missed run is within the grace time: it runs once at start


def planned_jobs(settings: Settings, engine: Engine, now: datetime) -> list[PlannedJob]:
    """Each configured job with the time it runs next, as a started scheduler would see it."""
    stored = stored_jobs(open_job_store(engine, BlockingScheduler()))
    timezone = scheduler_timezone(settings)
    grace = timedelta(seconds=settings.schedule_misfire_grace_time)
    planned = []
    for spec in job_specs(settings):
        plain = parse_cron(spec.expression, timezone)  # without jitter: stable times
        old = stored.get(spec.kind)
        next_run: datetime | None = plain.get_next_fire_time(None, now)
        missed: datetime | None = None
        if old is not None and same_trigger(old, spec):
            next_run = old.next_run_time
            while next_run is not None and next_run <= now:
                missed = next_run
                next_run = plain.get_next_fire_time(missed, missed + timedelta(seconds=1))
        planned.append(PlannedJob(spec, next_run, missed,
                                  missed is not None and now - missed <= grace))
    return planned


def describe_next(job: PlannedJob) -> str:
    """The next-run column of `schedule --list`."""
    def fmt(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S %Z")

    if job.next_run_time is None:
        return "paused"
    if job.missed is None:
        return fmt(job.next_run_time)
    if job.runs_at_start:
        return f"at start (missed {fmt(job.missed)}), then {fmt(job.next_run_time)}"
    return (f"{fmt(job.next_run_time)} (missed {fmt(job.missed)}, "
            "older than schedule_misfire_grace_time: skipped)")
