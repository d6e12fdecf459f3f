"""Run records: start, finish, and recovery of runs left `running` by a killed process."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import CrawlRun, utcnow
from shelfcheck.catalog.states import RunKind, RunOutcome, Step
from shelfcheck.errors import UsageError

log = logging.getLogger(__name__)

OUTCOMES = tuple(RunOutcome)
SKIPPED: Literal["skipped"] = "skipped"
StepOutcome = RunOutcome | Literal["skipped"]  # a step not started has no run


@dataclass
class StepResult:
    """What one step (links, listings, report, sync) did: for `refresh` and the scheduler."""

    kind: Step
    outcome: StepOutcome
    run_id: int | None = None
    summary: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


def failed_step(kind: Step, exc: Exception, run_id: int | None = None) -> StepResult:
    """The result of a step that raised: bad input (UsageError: exit 2) or a crash, logged."""
    usage = isinstance(exc, UsageError)
    if not usage:
        log.error("step %s failed", kind, exc_info=exc)
    summary = str(exc) if usage else f"{type(exc).__name__}: {exc}"
    return StepResult(kind, RunOutcome.FAILED, run_id, summary, {"usage_error": usage})


def holder_id() -> str:
    """host:pid of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(engine: Engine, kind: RunKind) -> int:
    """Record the start of a run in its own committed transaction; returns its id."""
    with transaction(engine) as session:
        run = CrawlRun(kind=kind, outcome=RunOutcome.RUNNING, stats={}, holder=holder_id())
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    session: Session, run_id: int, outcome: str, stats: dict[str, Any] | None = None,
    detail: str | None = None,
) -> CrawlRun:
    """Mark a run finished with `outcome`; the caller commits."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown run outcome {outcome!r}")
    run = session.get_one(CrawlRun, run_id)
    run.outcome, run.finished_at = RunOutcome(outcome), utcnow()
    if stats is not None:
        run.stats = stats
    if detail is not None:
        run.detail = detail
    return run


def abort_running(engine: Engine, *, except_holder: str | None = None) -> list[int]:
    """Mark runs left `running` (by a killed process) as `aborted`; returns their ids.

    Call this only while holding the run lock, so no live run is touched.
    """
    with transaction(engine) as session:
        query = select(CrawlRun.id).where(CrawlRun.outcome == RunOutcome.RUNNING)
        if except_holder:
            query = query.where(CrawlRun.holder != except_holder)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id.in_(ids))
                .values(outcome=RunOutcome.ABORTED, finished_at=utcnow(),
                        detail="the process running it stopped without finishing")
            )
        return ids
