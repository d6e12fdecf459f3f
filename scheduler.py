"""`shelfcheck schedule`: the long-running scheduler (APScheduler 3.x, BlockingScheduler).

Three jobs, links, listings and report, fire on cron expressions from the configuration
(`schedule_links`, `schedule_listings`, `schedule_report`, in `timezone`). The job store is a table
in the catalog database (`apscheduler_jobs`), so the schedule and a run missed while the scheduler
was down survive a restart: missed runs are coalesced into one, run late within
`schedule_misfire_grace_time`. Each job takes the database run lock (a held lock is logged as a
skip) and runs its step in a child process limited to `job_time_limit` seconds. SIGTERM/SIGINT stop
a running step cleanly (its run is marked `aborted`) and end the process.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from shelfcheck.config import Settings
from shelfcheck.errors import ConfigError, LockHeld

log = logging.getLogger("shelfcheck.scheduler")

JOBSTORE_TABLE = "apscheduler_jobs"
# job -> (its cron key, the refresh steps it runs)
JOBS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "links": ("schedule_links", ("sync", "links", "exports")),
    "listings": ("schedule_listings", ("sync", "listings", "exports")),
    "report": ("schedule_report", ("report",)),
}
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class JobSpec:
    """A configured job: its name, cron key and expression, and trigger."""

    kind: str
    key: str
    expression: str
    trigger: CronTrigger


def scheduler_timezone(settings: Settings) -> ZoneInfo:
    """The `timezone` key as a ZoneInfo, or ConfigError naming the key."""
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{settings.sources.get('timezone', 'configuration')}: key 'timezone': "
            f"unknown time zone {settings.timezone!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday) as APScheduler weekday names (0 = Monday)."""
    if not any(c.isdigit() for c in field):
        return field

    def day(token: str) -> int:
        if token.isdigit() and int(token) <= 7:
            return int(token)
        if token.lower() in _CRON_DAYS:
            return _CRON_DAYS.index(token.lower())
        raise ValueError(f"bad weekday {token!r}")

    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = day(first), day(last)
        else:
            low = day(span)
            high = 6 if step_text else low
        if low > high or step < 1:
            raise ValueError(f"bad weekday range {part!r}")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def parse_cron(expression: str, timezone: ZoneInfo, jitter: int | None = None) -> CronTrigger:
    """A crontab expression ("minute hour day month weekday", weekday 0/7 = Sunday) as a trigger.

    Six fields put seconds first ("second minute hour day month weekday").
    """
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        second=second, minute=minute, hour=hour, day=day, month=month,
        day_of_week=_crontab_weekdays(weekday), timezone=timezone, jitter=jitter or None,
    )


def job_specs(settings: Settings) -> list[JobSpec]:
    """The configured jobs; a cron expression that does not parse is a ConfigError naming it."""
    timezone = scheduler_timezone(settings)
    specs = []
    for kind, (key, _steps) in JOBS.items():
        expression = getattr(settings, key)
        try:
            trigger = parse_cron(expression, timezone, settings.schedule_jitter)
        except ValueError as exc:
            raise ConfigError(
                f"{settings.sources.get(key, 'configuration')}: key '{key}': "
                f"{expression!r} is not a valid cron expression: {exc}"
            ) from None
        specs.append(JobSpec(kind, key, expression, trigger))
    return specs


@dataclass
class _Context:
    settings: Settings
    engine: Engine
    stop: threading.Event
    targets: Mapping[str, str] | None
    active: threading.Condition
    running: int = 0

    def wait_idle(self) -> None:
        """Wait until no job is running."""
        with self.active:
            self.active.wait_for(lambda: self.running == 0)


_context: _Context | None = None


def run_job(kind: str) -> None:
    """The job function the job store refers to ("scheduler:run_job"): one run of `kind`."""
    from shelfcheck.refresh import STEP_TARGETS, run_steps

    ctx = _context
    if ctx is None:
        raise RuntimeError("run_job called outside a running scheduler")
    with ctx.active:
        if ctx.stop.is_set():
            return
        ctx.running += 1
    log.info("job %s: start", kind)
    started = time.monotonic()
    try:
        result = run_steps(
            ctx.settings, ctx.engine, JOBS[kind][1], purpose=f"job {kind}",
            force_report=True, stop=ctx.stop, targets=ctx.targets or STEP_TARGETS,
        )
    except LockHeld as exc:
        log.warning("job %s: skipped: %s", kind, exc)
        return
    except Exception:
        log.exception("job %s: end: crashed after %.1f s", kind, time.monotonic() - started)
        return
    finally:
        with ctx.active:
            ctx.running -= 1
            ctx.active.notify_all()
    steps = "; ".join(
        f"{s.kind} {s.outcome}" + (f" (run {s.run_id})" if s.run_id is not None else "")
        for s in result.steps
    )
    log.info("job %s: end: exit %d in %.1f s: %s", kind, result.exit_code,
             time.monotonic() - started, steps)


def _on_missed(event: JobExecutionEvent) -> None:
    log.warning("job %s: skipped the run due at %s: later than schedule_misfire_grace_time",
                event.job_id, event.scheduled_run_time)


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


def _stored_jobs(store: SQLAlchemyJobStore) -> dict[str, Job]:
    return {job.id: job for job in store.get_all_jobs()}


def _same_trigger(job: Job, spec: JobSpec) -> bool:
    """True when a stored job still has the configured trigger (fields, time zone, jitter)."""
    return repr(job.trigger) == repr(spec.trigger)


def build_scheduler(
    settings: Settings, engine: Engine, *, stop: threading.Event | None = None,
    targets: Mapping[str, str] | None = None,
) -> BlockingScheduler:
    """A scheduler whose job store holds the configured jobs.

    A stored job whose trigger is unchanged keeps its next run time, so a run missed while the
    scheduler was down runs (once) when it starts; a changed or new job is scheduled from now.
    """
    global _context
    specs = job_specs(settings)
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=len(JOBS))},
        timezone=scheduler_timezone(settings),
    )
    store = open_job_store(engine, scheduler)  # the scheduler starts it again: harmless
    scheduler.add_jobstore(store, "default")
    stored = _stored_jobs(store)
    for spec in specs:
        options: dict[str, Any] = {}
        old = stored.pop(spec.kind, None)
        if old is not None and _same_trigger(old, spec):
            options["next_run_time"] = old.next_run_time
        scheduler.add_job(
            run_job, spec.trigger, args=[spec.kind], id=spec.kind,
            name=f"{spec.kind} [{spec.key} = {spec.expression}]", replace_existing=True,
            coalesce=True, max_instances=1,
            misfire_grace_time=settings.schedule_misfire_grace_time, **options,
        )
    for job_id in stored:
        log.info("removing job %s: no longer configured", job_id)
        store.remove_job(job_id)
    scheduler.add_listener(_on_missed, EVENT_JOB_MISSED)
    _context = _Context(settings, engine, stop or threading.Event(), targets,
                        threading.Condition())
    return scheduler


@dataclass(frozen=True)
class PlannedJob:
    """A job as `schedule --list` shows it."""

    spec: JobSpec
    next_run_time: datetime | None  # stored, or computed from now for a new or changed job
    missed: datetime | None  # the latest run time that passed while no scheduler ran
    runs_at_start: bool  # the missed run is within the grace time: it runs once at start


def planned_jobs(settings: Settings, engine: Engine, now: datetime) -> list[PlannedJob]:
    """Each configured job with the time it runs next, as a started scheduler would see it."""
    stored = _stored_jobs(open_job_store(engine, BlockingScheduler()))
    timezone = scheduler_timezone(settings)
    grace = timedelta(seconds=settings.schedule_misfire_grace_time)
    planned = []
    for spec in job_specs(settings):
        plain = parse_cron(spec.expression, timezone)  # without jitter: stable times
        old = stored.get(spec.kind)
        next_run: datetime | None = plain.get_next_fire_time(None, now)
        missed: datetime | None = None
        if old is not None and _same_trigger(old, spec):
            next_run = old.next_run_time
            while next_run is not None and next_run <= now:
                missed = next_run
                next_run = plain.get_next_fire_time(missed, missed + timedelta(seconds=1))
        planned.append(PlannedJob(spec, next_run, missed,
                                  missed is not None and now - missed <= grace))
    return planned


class _Shutdown(BaseException):
    """Raised by the signal handler to leave the scheduler's main loop."""


def serve(
    settings: Settings, engine: Engine, *, targets: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the scheduler until SIGTERM/SIGINT (or `stop`); a running step is stopped cleanly."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(settings, engine, stop=stop, targets=targets)
    done = threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            return
        stop.set()
        raise _Shutdown(signal.Signals(signum).name)

    def watch_stop() -> None:
        stop.wait()
        while not done.is_set():  # `stop` may come before the scheduler runs
            if scheduler.running:
                _shutdown(scheduler)
                return
            done.wait(0.05)

    threading.Thread(target=watch_stop, name="scheduler-stop", daemon=True).start()
    try:
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.signal(sig, on_signal)
                        for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("scheduler started (time zone %s): %s", settings.timezone,
                 "; ".join(job.name for job in scheduler.get_jobs()))
        scheduler.start()
    except _Shutdown as exc:
        log.info("scheduler: %s received, stopping", exc)
    finally:
        stop.set()
        done.set()
        _shutdown(scheduler)
        if _context is not None:
            _context.wait_idle()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped")


def _shutdown(scheduler: BlockingScheduler) -> None:
    """Stop the scheduler's loop without waiting for running jobs (they see `stop`)."""
    with contextlib.suppress(SchedulerNotRunningError):
        scheduler.shutdown(wait=False)


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
