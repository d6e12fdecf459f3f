"""Run one step in a child process with a time limit, and stop it cleanly on demand.

Twisted's reactor cannot be restarted, so every crawl gets its own process (multiprocessing,
'spawn'). The child calls the same function the CLI calls, `target(settings, **kwargs)`, which
returns a StepResult. Stopping: the parent writes "stop" on a control pipe; the child turns it into
SIGTERM to itself (Scrapy's graceful shutdown, or, outside Scrapy, an exception that rolls back
the open transaction), then marks its own unfinished runs `aborted`. A child that does not stop
within `stop_timeout` is killed, and the parent marks its runs `aborted` instead. A child whose
parent dies (the control pipe closes) stops the same way.
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

from catalog.db import transaction
from catalog.models import CrawlRun, utcnow
from catalog.runs import StepResult
from shelfcheck.config import Settings
from shelfcheck.errors import UsageError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class StepStopped(BaseException):
    """Raised in a child's main thread by SIGTERM/SIGINT when no crawl handles the signal."""


@dataclass(frozen=True)
class ChildSpec:
    """What to run: `target` is "module:function", called as function(settings, **kwargs)."""

    kind: str
    target: str
    kwargs: Mapping[str, Any]


def close_runs(engine: Engine, holder: str, outcome: str, detail: str) -> list[int]:
    """Finish the `running` runs recorded by process `holder` ("host:pid"); returns their ids."""
    with transaction(engine) as session:
        ids = list(session.scalars(
            select(CrawlRun.id)
            .where(CrawlRun.outcome == "running", CrawlRun.holder == holder)
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
        if reason is None:
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
        elif not killed and now - stop_sent > stop_timeout:
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
        ids = close_runs(engine, holder, "aborted", f"the {spec.kind} step was {detail}"
                         if reason else f"the {spec.kind} step failed: {detail}")
        return StepResult(spec.kind, "aborted", run_id=ids[-1] if ids else None,
                          summary=detail, stats={"stopped": bool(reason)})
    # A child that crashed after sending its result may still have left a run open.
    close_runs(engine, holder, "aborted", f"the {spec.kind} step's process stopped early")
    if reason and result.outcome == "aborted":
        result.summary = reason
    return result


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
    from shelfcheck.app import configure_logging

    settings = Settings(*settings_data)

    configure_logging(log_target[0], log_target[1])
    stop_requested = threading.Event()
    stop_reason = ["stopped by a signal"]

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_requested.set()
        raise StepStopped(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_parent() -> None:
        try:
            stop_reason[0] = control.recv()  # why the parent stops us
        except (EOFError, OSError):
            stop_reason[0] = "stopped because its parent process is gone"
            log.warning("the parent process is gone; stopping the %s step", spec.kind)
        if not stop_requested.is_set():
            stop_requested.set()
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch_parent, name="stop-watch", daemon=True).start()

    result: StepResult
    usage = False
    try:
        try:
            result = resolve(spec.target)(settings, **spec.kwargs)
        finally:
            # From here on, a late stop only sets the flag.
            signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
            signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    except StepStopped:
        result = StepResult(spec.kind, "aborted", summary=stop_reason[0])
    except Exception as exc:  # the step crashed: record it, don't leave its run `running`
        usage = isinstance(exc, UsageError)
        if not usage:
            log.exception("step %s crashed", spec.kind)
        result = StepResult(spec.kind, "failed", summary=f"{type(exc).__name__}: {exc}"
                            if not usage else str(exc), stats={"usage_error": usage})
    holder = f"{socket.gethostname()}:{os.getpid()}"
    try:
        from catalog.db import open_database

        engine = open_database(settings.database_url, migrate=False)
        try:
            if stop_requested.is_set():
                ids = close_runs(engine, holder, "aborted", f"the {spec.kind} step was "
                                 f"{stop_reason[0]} before it finished")
                if result.outcome not in ("aborted", "failed"):
                    log.warning("step %s finished as %s although it was asked to stop",
                                spec.kind, result.outcome)
            else:
                ids = close_runs(engine, holder, "failed" if result.outcome == "failed"
                                 else "aborted", result.summary or "the step did not finish")
            if ids and result.run_id is None:
                result.run_id = ids[-1]
        finally:
            engine.dispose()
    except Exception:
        log.exception("step %s: could not close its runs", spec.kind)
    with contextlib.suppress(OSError):
        results.send(result)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Lingering non-daemon threads (Twisted's pool after a forced stop) must not keep us alive.
    os._exit(0)
