"""`shelfcheck schedule`: the long-running scheduler (APScheduler 3.x, BlockingScheduler).

Three jobs, links, listings and report, fire on cron expressions from the configuration
(`schedule_links`, `schedule_listings`, `schedule_report`, in `timezone`). The job store is a table
in the catalog database (`apscheduler_jobs`), so the schedule and a run missed while the scheduler
was down survive a restart: missed runs are coalesced into one, run late within
`schedule_misfire_grace_time`. Each job takes the database run lock (a held lock is logged as a
skip) and runs its step in a child process limited to `job_time_limit` seconds. SIGTERM/SIGINT stop
a running step cleanly (its run is marked `aborted`) and end the process.

The jobs and their triggers are in `shelfcheck.schedule.cron`, the job store and the plan of
`schedule --list` in `shelfcheck.schedule.store`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from shelfcheck.catalog.states import Step
from shelfcheck.config import Settings
from shelfcheck.errors import LockHeld
from shelfcheck.schedule.cron import JOBS, job_specs, scheduler_timezone
from shelfcheck.schedule.store import open_job_store, same_trigger, stored_jobs

log = logging.getLogger("shelfcheck.scheduler")


@dataclass
class _Context:
    settings: Settings
    engine: Engine
    stop: threading.Event
    targets: Mapping[Step, str] | None
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


def build_scheduler(
    settings: Settings, engine: Engine, *, stop: threading.Event | None = None,
    targets: Mapping[Step, str] | None = None,
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
    stored = stored_jobs(store)
    for spec in specs:
        options: dict[str, Any] = {}
        old = stored.pop(spec.kind, None)
        if old is not None and same_trigger(old, spec):
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


class _Shutdown(BaseException):
    """Raised by the signal handler to leave the scheduler's main loop."""


def serve(
    settings: Settings, engine: Engine, *, targets: Mapping[Step, str] | None = None,
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
