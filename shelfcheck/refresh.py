"""The main job: sync the catalog, check links, crawl listings, write the report, export.

One run at a time (the database run lock). Runs left `running` by a killed process are marked
`aborted` first. Links, listings and the report each run in a child process with a time limit
(Twisted's reactor runs once per process); sync and exports are short database work done here.
A failing step does not stop the later ones; links and listings are skipped only when the
catalog has never been synced (there is nothing to check).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.lock import acquire_lock
from shelfcheck.catalog.runs import SKIPPED, StepResult, abort_running, failed_step
from shelfcheck.catalog.states import RunOutcome, Step
from shelfcheck.catalog.sync import last_synced_hash
from shelfcheck.childproc import ChildSpec, run_in_child
from shelfcheck.config import Settings
from shelfcheck.errors import ExitCode, short_error

log = logging.getLogger(__name__)

# The stages' entry points that run in child processes: the same ones the CLI commands call.
# refresh only sequences the stages; each stage's work lives in its own layer.
STEP_TARGETS: Mapping[Step, str] = {
    Step.LINKS: "shelfcheck.crawler.linkcheck:run_check_links",
    Step.LISTINGS: "shelfcheck.crawler.listings:run_crawl",
    Step.REPORT: "shelfcheck.reports.stage:run_report",
}
REFRESH_STEPS = tuple(s for s in Step if s is not Step.RECOVER)
NEEDS_CATALOG = (Step.LINKS, Step.LISTINGS)
FINDS_PROBLEMS = (Step.LINKS, Step.LISTINGS)  # their runs are notified about (`notify_on`)
# A refresh exits with the worst of its steps' statuses, in this order of precedence.
_EXIT_RANK = [ExitCode.OK, ExitCode.INCONCLUSIVE, ExitCode.FAILED]
_RUN_OUTCOMES = frozenset(RunOutcome)  # a step's outcome may also be SKIPPED


@dataclass
class RefreshResult:
    """What one refresh (or scheduled job) did, step by step."""

    steps: list[StepResult] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    stopped: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """2 bad input in a step, 4 a step failed or was aborted, 3 inconclusive, else 0."""
        outcomes = {s.outcome for s in self.steps}
        if any(s.stats.get("usage_error") for s in self.steps):
            return ExitCode.USAGE
        codes = [RunOutcome(o).exit_code for o in outcomes if o in _RUN_OUTCOMES]
        return max(codes, key=_EXIT_RANK.index, default=ExitCode.OK)


def heartbeat_interval(stale_after: float) -> float:
    """How often a holder refreshes the run lock: well within its stale time."""
    return max(0.5, min(60.0, stale_after / 4))


def run_steps(
    settings: Settings,
    engine: Engine,
    steps: Sequence[Step],
    *,
    purpose: str = "refresh",
    force_report: bool = False,
    stop: threading.Event | None = None,
    targets: Mapping[Step, str] = STEP_TARGETS,
    on_step: Callable[[StepResult], None] | None = None,
) -> RefreshResult:
    """Run `steps` in order while holding the run lock (LockHeld when another run has it)."""
    outcome = RefreshResult()

    def done(result: StepResult) -> None:
        log.info("step %s: %s%s", result.kind, result.outcome,
                 f": {result.summary}" if result.summary else "")
        _notify_problems(settings, engine, result)
        outcome.steps.append(result)
        if on_step is not None:
            on_step(result)

    with acquire_lock(engine, stale_after=settings.lock_stale_after, purpose=purpose) as lock:
        outcome.recovered = abort_running(engine)
        if outcome.recovered:
            done(StepResult(
                Step.RECOVER, RunOutcome.OK,
                summary=f"marked runs {', '.join(map(str, outcome.recovered))} "
                "aborted: their process stopped without finishing",
                stats={"runs": outcome.recovered},
            ))
        sync_failed = False
        for name in steps:
            if stop is not None and stop.is_set():
                outcome.stopped = True
                result = StepResult(name, SKIPPED, summary="not started: stopping")
            elif name in NEEDS_CATALOG and sync_failed and not _catalog_synced(engine):
                result = StepResult(name, SKIPPED,
                                    summary="the catalog has never been synced")
            else:
                try:
                    result = _run_step(name, settings, engine, force_report, stop, targets,
                                       lock.heartbeat)
                except Exception as exc:  # e.g. a bad report_every: the later steps still run
                    result = failed_step(name, exc)
                if name == Step.SYNC and result.outcome == RunOutcome.FAILED:
                    sync_failed = True
                if stop is not None and stop.is_set():
                    outcome.stopped = True
            done(result)
    return outcome


def _notify_problems(settings: Settings, engine: Engine, result: StepResult) -> None:
    """Notify (`notify_on`) about the problems a links or listings run found; errors are logged."""
    if not settings.notify_urls or result.kind not in FINDS_PROBLEMS or not result.run_id:
        return
    from shelfcheck.reports.notify import notify_new_problems

    try:
        with transaction(engine) as session:
            notify_new_problems(settings, session, result.run_id)
    except Exception as exc:  # a notification never fails the run
        log.error("notification after run %s failed: %s", result.run_id, short_error(exc))


def _run_step(
    name: Step, settings: Settings, engine: Engine, force_report: bool,
    stop: threading.Event | None, targets: Mapping[Step, str], heartbeat: Callable[[], bool],
) -> StepResult:
    if name == Step.SYNC:
        return sync_step(settings, engine)
    if name == Step.EXPORTS:
        from shelfcheck.exports.stage import run_exports

        return run_exports(settings, engine)
    from shelfcheck.reports.stage import report_is_due

    if name == Step.REPORT and not force_report and not report_is_due(settings, engine):
        return StepResult(Step.REPORT, SKIPPED,
                          summary=f"not due (report_every = {settings.report_every})")
    return run_in_child(
        ChildSpec(name, targets[name], {}), settings, engine,
        time_limit=settings.job_time_limit, stop_timeout=settings.stop_timeout,
        stop=stop, tick=heartbeat, tick_every=heartbeat_interval(settings.lock_stale_after),
    )


def _catalog_synced(engine: Engine) -> bool:
    with transaction(engine) as session:
        return last_synced_hash(session) is not None


def sync_step(settings: Settings, engine: Engine) -> StepResult:
    """The sync stage, with the crawler's recipe checker."""
    from shelfcheck.catalog.stage import run_sync
    from shelfcheck.crawler.recipe import validate_recipe

    return run_sync(settings, engine, recipe_validator=validate_recipe)
