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
from pathlib import Path

from sqlalchemy import Engine

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.lock import acquire_lock
from shelfcheck.catalog.runs import StepResult, abort_running, finish_run, start_run
from shelfcheck.catalog.sync import last_synced_hash, sync_catalog
from shelfcheck.childproc import ChildSpec, failed_step, run_in_child
from shelfcheck.config import Settings
from shelfcheck.errors import short_error

log = logging.getLogger(__name__)

# The step functions the child processes call: the same ones the CLI commands call.
STEP_TARGETS: Mapping[str, str] = {
    "links": "shelfcheck.crawler.linkcheck:run_check_links",
    "listings": "shelfcheck.crawler.listings:run_crawl",
    "report": "shelfcheck.refresh:report_step",
}
REFRESH_STEPS = ("sync", "links", "listings", "report", "exports")
NEEDS_CATALOG = ("links", "listings")

EXIT_OK, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_FAILED = 0, 2, 3, 4


@dataclass
class RefreshResult:
    """What one refresh (or scheduled job) did, step by step."""

    steps: list[StepResult] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    stopped: bool = False

    @property
    def exit_code(self) -> int:
        """2 bad input in a step, 4 a step failed or was aborted, 3 inconclusive, else 0."""
        outcomes = {s.outcome for s in self.steps}
        if any(s.stats.get("usage_error") for s in self.steps):
            return EXIT_USAGE
        if outcomes & {"failed", "aborted"}:
            return EXIT_FAILED
        if "inconclusive" in outcomes:
            return EXIT_INCONCLUSIVE
        return EXIT_OK


def heartbeat_interval(stale_after: float) -> float:
    """How often a holder refreshes the run lock: well within its stale time."""
    return max(0.5, min(60.0, stale_after / 4))


def run_steps(
    settings: Settings,
    engine: Engine,
    steps: Sequence[str],
    *,
    purpose: str = "refresh",
    force_report: bool = False,
    stop: threading.Event | None = None,
    targets: Mapping[str, str] = STEP_TARGETS,
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
                "recover", "ok", summary=f"marked runs {', '.join(map(str, outcome.recovered))} "
                "aborted: their process stopped without finishing",
                stats={"runs": outcome.recovered},
            ))
        sync_failed = False
        for name in steps:
            if stop is not None and stop.is_set():
                outcome.stopped = True
                result = StepResult(name, "skipped", summary="not started: stopping")
            elif name in NEEDS_CATALOG and sync_failed and not _catalog_synced(engine):
                result = StepResult(name, "skipped",
                                    summary="the catalog has never been synced")
            else:
                try:
                    result = _run_step(name, settings, engine, force_report, stop, targets,
                                       lock.heartbeat)
                except Exception as exc:  # e.g. a bad report_every: the later steps still run
                    result = failed_step(name, exc)
                sync_failed = sync_failed or (name == "sync" and result.outcome == "failed")
                if stop is not None and stop.is_set():
                    outcome.stopped = True
            done(result)
    return outcome


def _notify_problems(settings: Settings, engine: Engine, result: StepResult) -> None:
    """Notify (`notify_on`) about the problems a links or listings run found; errors are logged."""
    if not settings.notify_urls or result.kind not in ("links", "listings") or not result.run_id:
        return
    from shelfcheck.reports.notify import notify_new_problems

    try:
        with transaction(engine) as session:
            notify_new_problems(settings, session, result.run_id)
    except Exception as exc:  # a notification never fails the run
        log.error("notification after run %s failed: %s", result.run_id, short_error(exc))


def _run_step(
    name: str, settings: Settings, engine: Engine, force_report: bool,
    stop: threading.Event | None, targets: Mapping[str, str], heartbeat: Callable[[], bool],
) -> StepResult:
    if name == "sync":
        return sync_step(settings, engine)
    if name == "exports":
        return exports_step(settings, engine)
    if name == "report" and not force_report and not _report_due(settings, engine):
        return StepResult("report", "skipped",
                          summary=f"not due (report_every = {settings.report_every})")
    return run_in_child(
        ChildSpec(name, targets[name], {}), settings, engine,
        time_limit=settings.job_time_limit, stop_timeout=settings.stop_timeout,
        stop=stop, tick=heartbeat, tick_every=heartbeat_interval(settings.lock_stale_after),
    )


def _catalog_synced(engine: Engine) -> bool:
    with transaction(engine) as session:
        return last_synced_hash(session) is not None


def _report_due(settings: Settings, engine: Engine) -> bool:
    from shelfcheck.catalog.models import utcnow
    from shelfcheck.reports import report_due

    return bool(report_due(engine, settings, utcnow()))


def sync_step(settings: Settings, engine: Engine) -> StepResult:
    """Sync the catalog file (catalog_file, or the packaged guide) when its hash changed."""
    from shelfcheck.catalog.catalogfile import load_catalog
    from shelfcheck.commands.catalog import recipe_validator

    run_id = start_run(engine, "sync")
    try:
        unchanged = _unchanged_catalog(settings, engine)
        if unchanged is not None:  # the usual case: no need to parse a large file again
            with transaction(engine) as session:
                finish_run(session, run_id, "ok", unchanged)
            return StepResult("sync", "ok", run_id, f"{unchanged['source']} unchanged",
                              unchanged)
        spec = load_catalog(settings.catalog_file, recipe_validator=recipe_validator())
        with transaction(engine) as session:
            if last_synced_hash(session) == spec.sha256:
                stats = {"changed": False, "sha256": spec.sha256, "source": spec.source}
                finish_run(session, run_id, "ok", stats)
                return StepResult("sync", "ok", run_id, f"{spec.source} unchanged", stats)
            synced = sync_catalog(session, spec)
            stats = {"changed": synced.changed, "sha256": spec.sha256, "source": spec.source,
                     "added": len(synced.added), "updated": len(synced.updated),
                     "retired": len(synced.retired), "restored": len(synced.restored),
                     "providers_changed": len(synced.providers_changed)}
            finish_run(session, run_id, "ok", stats)
        return StepResult("sync", "ok", run_id, f"synced {spec.source}: {synced.summary()}",
                          stats)
    except Exception as exc:
        result = failed_step("sync", exc, run_id)
        with transaction(engine) as session:
            finish_run(session, run_id, "failed", result.stats, detail=str(exc))
        return result


def _unchanged_catalog(settings: Settings, engine: Engine) -> dict[str, object] | None:
    """The sync stats when the catalog file's bytes hash to the hash synced last, else None."""
    import hashlib

    from shelfcheck.catalog.catalogfile import packaged_catalog_path

    path = Path(settings.catalog_file) if settings.catalog_file else packaged_catalog_path()
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # load_catalog reports it
    with transaction(engine) as session:
        if last_synced_hash(session) != digest:
            return None
    return {"changed": False, "sha256": digest, "source": str(path)}


def exports_step(settings: Settings, engine: Engine) -> StepResult:
    """Rewrite the configured exports (`exports`, into `exports_dir`)."""
    if not settings.exports:
        return StepResult("exports", "skipped", summary="none configured (exports)")
    from shelfcheck.exports import write_exports

    with transaction(engine) as session:
        paths = write_exports(session, settings.exports, Path(settings.exports_dir))
    written = [str(p) for p in paths]
    return StepResult("exports", "ok", summary=f"wrote {', '.join(written)}",
                      stats={"paths": written})


def report_step(settings: Settings) -> StepResult:
    """Write the report now (runs in a child process); records a `report` run."""
    from shelfcheck.reports import write_report

    engine = open_database(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    try:
        run_id = start_run(engine, "report")
        written = write_report(engine, settings)
        paths = [str(p) for p in written.paths]
        stats = {"paths": paths, "report_id": written.record_id,
                 "email_error": written.email_error, "notify_error": written.notify_error}
        outcome = "failed" if written.delivery_error else "ok"
        folders = sorted({str(p.parent) for p in written.paths})
        summary = (f"{written.actions} change{'' if written.actions == 1 else 's'} to act on; "
                   f"wrote {len(paths)} files "
                   f"in {', '.join(folders)}")
        if written.delivery_error:
            summary += f"; {written.delivery_error}"
        with transaction(engine) as session:
            finish_run(session, run_id, outcome, stats, detail=written.delivery_error)
        return StepResult("report", outcome, run_id, summary, stats)
    finally:
        engine.dispose()
