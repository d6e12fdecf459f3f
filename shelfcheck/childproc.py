"""Run one step in a child process with a time limit, and stop it cleanly on demand.

Twisted's reactor cannot be restarted, so every crawl gets its own process (multiprocessing,
'spawn'). The child calls the same function the CLI calls, `target(settings, **kwargs)`, which
returns a StepResult.

Stopping (SIGTERM/SIGINT to the parent, the time limit, a lost lock): the parent writes the reason
on a control pipe and the child exits at once. Every step commits in transactions that are
consistent on their own, so whatever was not yet committed is rolled back by the database and
nothing partial remains; a crawl is not allowed to wind down and conclude on what it saw so far.
The parent then marks the child's unfinished run `aborted`. A child that cannot exit (stuck in C
code) is killed after `stop_timeout`. A child whose parent dies (the pipe closes) exits the same
way; the next run recovers its run. The child has its own process group, so a Ctrl-C at the
terminal reaches only the parent, which stops the child as above. A SIGTERM sent to the child
itself outside a crawl rolls back its open transaction and marks its run `aborted`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

from sqlalchemy import Engine, select, update

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import CrawlRun, utcnow
from shelfcheck.catalog.runs import StepResult, failed_step
from shelfcheck.catalog.states import RunOutcome, Step
from shelfcheck.config import Settings
from shelfcheck.errors import ExitCode

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class StepStopped(BaseException):
    """Raised in a child's main thread by SIGTERM/SIGINT when no crawl handles the signal."""


@dataclass(frozen=True)
class ChildSpec:
    """What to run: `target` is "module:function", called as function(settings, **kwargs)."""

    kind: Step
    target: str
    kwargs: Mapping[str, Any]


def close_runs(engine: Engine, holder: str, outcome: str, detail: str) -> list[int]:
    """Finish the `running` runs recorded by process `holder` ("host:pid"); returns their ids."""
    with transaction(engine) as session:
        ids = list(session.scalars(
            select(CrawlRun.id)
            .where(CrawlRun.outcome == RunOutcome.RUNNING, CrawlRun.holder == holder)
            .order_by(CrawlRun.id)
        ))
        if ids:
            session.execute(
                update(CrawlRun).where(CrawlRun.id.in_(ids))
                .values(outcome=outcome, finished_at=utcnow(), detail=detail)
            )
        return ids


def run_in_child(
    spec: ChildSpec,
    settings: Settings,
    engine: Engine,
    *,
    time_limit: float,
    stop_timeout: float,
    stop: threading.Event | None = None,
    tick: Callable[[], bool] | None = None,
    tick_every: float = 30.0,
) -> StepResult:
    """Run `spec` in a spawned child and wait for its StepResult.

    `stop` set by the caller (a signal) or the time limit passing stops the child; `tick` (the
    lock heartbeat) runs every `tick_every` seconds and stops the child when it returns False.
    """
    ctx = multiprocessing.get_context("spawn")
    control_read, control_write = ctx.Pipe(duplex=False)
    result_read, result_write = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=child_main,
        # Settings' __getattr__ does not survive unpickling: send its plain mappings.
        args=(spec, (dict(settings.values), dict(settings.sources)), control_read, result_write,
              _log_target()),
        name=f"shelfcheck-{spec.kind}",
    )
    started = time.monotonic()
    process.start()
    control_read.close()
    result_write.close()
    holder = f"{socket.gethostname()}:{process.pid}"
    log.debug("step %s runs in process %s", spec.kind, holder)

    result: StepResult | None = None
    reason: str | None = None
    stop_sent = 0.0
    killed = False
    next_tick = started + tick_every
    eof = False
    while process.is_alive():
        if not eof:
            if result_read.poll(POLL_SECONDS):
                try:
                    result = result_read.recv()
                except EOFError:
                    eof = True
        else:
            process.join(POLL_SECONDS)
        now = time.monotonic()
        if reason is None and result is None:
            if stop is not None and stop.is_set():
                reason = "stopped by a signal"
            elif now - started > time_limit:
                reason = f"stopped after the time limit of {time_limit:g} s"
            elif tick is not None and now >= next_tick:
                next_tick = now + tick_every
                if not _tick(tick):
                    reason = "stopped because another process took over the run lock"
            if reason is not None:
                log.warning("step %s: %s; stopping its process %s", spec.kind, reason, holder)
                stop_sent = now
                _send_stop(control_write, reason)
        elif reason is not None and not killed and now - stop_sent > stop_timeout:
            log.error("step %s: process %s did not stop within %g s; killing it",
                      spec.kind, holder, stop_timeout)
            process.kill()
            killed = True
    process.join()
    if result is None and not eof and result_read.poll(0):
        with contextlib.suppress(EOFError):
            result = result_read.recv()
    control_write.close()
    result_read.close()

    if result is None:
        detail = reason or f"its process ended without a result (exit code {process.exitcode})"
        if killed:
            detail += "; killed"
        ids = close_runs(engine, holder, RunOutcome.ABORTED, f"the {spec.kind} step was {detail}"
                         if reason else f"the {spec.kind} step failed: {detail}")
        last = _last_run(engine, holder)
        if not ids and last is not None and last[1] != RunOutcome.ABORTED:
            # It finished its run just before the stop reached it.
            return StepResult(spec.kind, RunOutcome(last[1]), last[0], f"finished; then {detail}")
        return StepResult(spec.kind, RunOutcome.ABORTED, run_id=ids[-1] if ids else None,
                          summary=detail, stats={"stopped": bool(reason)})
    # A child that crashed after sending its result may still have left a run open.
    close_runs(engine, holder, RunOutcome.ABORTED, f"the {spec.kind} step's process stopped early")
    return result


def _last_run(engine: Engine, holder: str) -> tuple[int, str] | None:
    with transaction(engine) as session:
        row = session.execute(
            select(CrawlRun.id, CrawlRun.outcome).where(CrawlRun.holder == holder)
            .order_by(CrawlRun.id.desc()).limit(1)
        ).first()
        return (row[0], row[1]) if row else None


def _tick(tick: Callable[[], bool]) -> bool:
    """Run the heartbeat; a database error (busy, unreachable for a moment) is not a lost lock."""
    try:
        return tick()
    except Exception as exc:
        log.warning("could not refresh the run lock: %s", exc)
        return True


def _send_stop(conn: Connection, reason: str) -> None:
    with contextlib.suppress(OSError):
        conn.send(reason)


def _log_target() -> tuple[str, str | None]:
    root = logging.getLogger()
    log_file = next(
        (h.baseFilename for h in root.handlers if isinstance(h, logging.FileHandler)), None
    )
    return logging.getLevelName(root.getEffectiveLevel()), log_file


def resolve(target: str) -> Callable[..., StepResult]:
    """Import "module:function"."""
    module_name, _, attr = target.partition(":")
    func: Callable[..., StepResult] = getattr(importlib.import_module(module_name), attr)
    return func


def child_main(
    spec: ChildSpec, settings_data: tuple[dict[str, Any], dict[str, str]], control: Connection,
    results: Connection, log_target: tuple[str, str | None],
) -> None:
    """The child process: run the step, report its StepResult, finish any run it left open."""
    from shelfcheck.logsetup import configure_logging

    os.setpgid(0, 0)  # terminal and process-group signals reach the parent only
    settings = Settings(*settings_data)
    configure_logging(log_target[0], log_target[1])

    stops: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stops.append(f"stopped by {signal.Signals(signum).name}")
        raise StepStopped(stops[-1])

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_parent() -> None:
        try:
            reason = control.recv()  # why the parent stops us
        except (EOFError, OSError):
            reason = "stopped because its parent process is gone"
        log.warning("step %s: %s; exiting, its uncommitted work is rolled back",
                    spec.kind, reason)
        _exit(ExitCode.SIGTERM)  # stopped on request

    threading.Thread(target=watch_parent, name="stop-watch", daemon=True).start()

    result: StepResult
    try:
        try:
            result = resolve(spec.target)(settings, **spec.kwargs)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the parent's pipe stops us now
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except StepStopped as exc:
        result = StepResult(spec.kind, RunOutcome.ABORTED, summary=str(exc))
    except Exception as exc:
        if stops:  # the stop was raised inside a driver's call, which raised its own error
            result = StepResult(spec.kind, RunOutcome.ABORTED, summary=stops[0])
        else:  # the step crashed: record it, don't leave its run `running`
            result = failed_step(spec.kind, exc)
    try:
        from shelfcheck.catalog.db import open_database

        engine = open_database(settings.database_url, migrate=False)
        try:
            failed = result.outcome == RunOutcome.FAILED
            ids = close_runs(engine, f"{socket.gethostname()}:{os.getpid()}",
                             RunOutcome.FAILED if failed else RunOutcome.ABORTED,
                             f"the {spec.kind} step did not finish: {result.summary}")
            if ids and result.run_id is None:
                result.run_id = ids[-1]
        finally:
            engine.dispose()
    except Exception:
        log.exception("step %s: could not close its runs", spec.kind)
    with contextlib.suppress(OSError):
        results.send(result)
    _exit(0)


def _exit(code: int) -> None:
    """Leave now: lingering threads (Twisted's pool, a crawl in progress) must not keep us."""
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
