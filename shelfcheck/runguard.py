"""The run lock for the manual commands that change the catalog (`check-links`, `crawl`).

`refresh` and the scheduler take the lock themselves and call the step functions
(`run_check_links`, `run_crawl`) while holding it, so those stay lock-free; the commands wrap
them here. A manual run started during a refresh exits with status 75 instead of racing it, and
a refresh started during a manual run does the same, so neither marks the other's run aborted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError

from shelfcheck.app import App
from shelfcheck.catalog.lock import HeldLock, acquire_lock
from shelfcheck.catalog.runs import abort_running
from shelfcheck.errors import short_error

log = logging.getLogger(__name__)


def _heartbeat(lock: HeldLock, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            lock.heartbeat()
        except Exception:  # a busy or briefly unreachable database is not a lost lock
            continue


@contextmanager
def exclusive_run(app: App, purpose: str) -> Iterator[None]:
    """Hold the run lock for the block (LockHeld, exit 75, when another run has it).

    Runs left `running` by a killed process are marked aborted first, as `refresh` does (said
    on stderr); the lock is refreshed in the background while the block runs.
    """
    from shelfcheck.refresh import heartbeat_interval

    stale_after = app.settings.lock_stale_after
    lock = acquire_lock(app.engine, stale_after=stale_after, purpose=purpose)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, name="run-lock-heartbeat", daemon=True,
                            args=(lock, stop, heartbeat_interval(stale_after)))
    try:
        recovered = abort_running(app.engine)
        if recovered:
            click.echo(f"recover: marked runs {', '.join(map(str, recovered))} aborted: their "
                       "process stopped without finishing", err=True)
        beat.start()
        yield
    finally:
        stop.set()
        if beat.is_alive():
            beat.join(timeout=5)
        try:
            lock.release()
        except SQLAlchemyError as exc:  # the next run takes over the lock of a dead process
            log.warning("could not release the run lock: %s", short_error(exc))
