"""The report stage: `run_report`, which `refresh` and the scheduler sequence."""

from __future__ import annotations

from sqlalchemy import Engine

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.runs import StepResult, finish_run, start_run
from shelfcheck.catalog.states import RunKind, RunOutcome, Step
from shelfcheck.config import Settings
from shelfcheck.reports.write import report_due, write_report


def run_report(settings: Settings) -> StepResult:
    """Write the report now and record a `report` run (refresh runs it in a child process)."""
    engine = open_database(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    try:
        run_id = start_run(engine, RunKind.REPORT)
        written = write_report(engine, settings)
        paths = [str(p) for p in written.paths]
        stats = {"paths": paths, "report_id": written.record_id,
                 "email_error": written.email_error, "notify_error": written.notify_error}
        outcome = RunOutcome.FAILED if written.delivery_error else RunOutcome.OK
        from shelfcheck.text import plural

        folders = sorted({str(p.parent) for p in written.paths})
        summary = (f"{plural(written.actions, 'change')} to act on; "
                   f"wrote {plural(len(paths), 'file')} in {', '.join(folders)}")
        if written.delivery_error:
            summary += f"; {written.delivery_error}"
        with transaction(engine) as session:
            finish_run(session, run_id, outcome, stats, detail=written.delivery_error)
        return StepResult(Step.REPORT, outcome, run_id, summary, stats)
    finally:
        engine.dispose()


def report_is_due(settings: Settings, engine: Engine) -> bool:
    """Whether `report_every` has passed since the last report."""
    return bool(report_due(engine, settings, utcnow()))
