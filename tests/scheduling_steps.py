"""Real step functions and workers for the lock, refresh and scheduler tests.

The steps run in spawned child processes exactly like the crawler steps: they take the settings,
record a CrawlRun and write to the catalog database. `python -m tests.scheduling_steps STEPS...`
runs the refresh orchestration with these steps (for signal tests), as `shelfcheck refresh` does
with the real ones.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import Meta
from shelfcheck.catalog.runs import StepResult, finish_run, start_run
from shelfcheck.catalog.states import RunOutcome, Step
from shelfcheck.config import Settings

SLOW_SECONDS = 60.0
_MODULE = "tests.scheduling_steps"  # not __name__: also right under `python -m`


def _record(settings: Settings, kind: str, outcome: str, marker: str | None = None) -> StepResult:
    engine = open_database(settings.database_url, migrate=False)
    try:
        run_id = start_run(engine, kind)
        with transaction(engine) as session:
            if marker:
                session.add(Meta(key=f"{marker}:{run_id}", value=str(os.getpid())))
            finish_run(session, run_id, outcome, {"pid": os.getpid()})
        return StepResult(Step(kind), RunOutcome(outcome), run_id,
                          f"{kind} done in process {os.getpid()}")
    finally:
        engine.dispose()


def links_ok(settings: Settings) -> StepResult:
    """A quick, complete links step."""
    return _record(settings, "links", "ok", "links-done")


def listings_ok(settings: Settings) -> StepResult:
    """A quick, complete listings step."""
    return _record(settings, "listings", "ok", "listings-done")


def links_inconclusive(settings: Settings) -> StepResult:
    """A links step that the outage guard called inconclusive."""
    return _record(settings, "links", "inconclusive")


def report_ok(settings: Settings) -> StepResult:
    """A quick report step."""
    return _record(settings, "report", "ok", "report-done")


def listings_crash(settings: Settings) -> StepResult:
    """A listings step that records its run and then crashes."""
    engine = open_database(settings.database_url, migrate=False)
    start_run(engine, "listings")
    engine.dispose()
    raise RuntimeError("the listings parser blew up")


def links_slow(settings: Settings) -> StepResult:
    """A links step that writes inside an open transaction, then takes a long time."""
    engine = open_database(settings.database_url, migrate=False)
    try:
        run_id = start_run(engine, "links")
        with transaction(engine) as session:
            session.add(Meta(key=f"partial:{run_id}", value="uncommitted work"))
            session.flush()
            deadline = time.monotonic() + SLOW_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.05)
            finish_run(session, run_id, "ok")
        return StepResult(Step.LINKS, RunOutcome.OK, run_id)
    finally:
        engine.dispose()


def links_slow_in_a_driver(settings: Settings) -> StepResult:
    """`links_slow`, where the stop signal lands inside a database driver's call, which raises
    its own error instead (as psycopg does when a signal interrupts a query it is sending)."""
    from shelfcheck.childproc import StepStopped

    try:
        return links_slow(settings)
    except StepStopped as exc:
        raise RuntimeError("can't change 'autocommit' now: connection in transaction status "
                           "ACTIVE") from exc


def links_stuck(settings: Settings) -> StepResult:
    """A links step stuck in C code that holds the GIL (a runaway regex): only a kill stops it."""
    import re

    engine = open_database(settings.database_url, migrate=False)
    run_id = start_run(engine, "links")
    engine.dispose()
    re.match(r"(a+)+$", "a" * 64 + "!")
    return StepResult(Step.LINKS, RunOutcome.OK, run_id)


TARGET_SETS: dict[str, dict[str, str]] = {
    "ok": {"links": f"{_MODULE}:links_ok", "listings": f"{_MODULE}:listings_ok",
           "report": f"{_MODULE}:report_ok"},
    "slow": {"links": f"{_MODULE}:links_slow", "listings": f"{_MODULE}:listings_ok",
             "report": f"{_MODULE}:report_ok"},
    "slow-driver": {"links": f"{_MODULE}:links_slow_in_a_driver",
                    "listings": f"{_MODULE}:listings_ok", "report": f"{_MODULE}:report_ok"},
    "stuck": {"links": f"{_MODULE}:links_stuck", "listings": f"{_MODULE}:listings_ok",
             "report": f"{_MODULE}:report_ok"},
    "mixed": {"links": f"{_MODULE}:links_inconclusive",
              "listings": f"{_MODULE}:listings_crash", "report": f"{_MODULE}:report_ok"},
}


def lock_worker(db_url: str, stale_after: float, hold: float, barrier: Any, out: Any) -> None:
    """Wait at the barrier with the others, then try to take the run lock once."""
    from shelfcheck.catalog.lock import acquire_lock
    from shelfcheck.errors import LockHeld

    engine = open_database(db_url, migrate=False)
    barrier.wait()
    try:
        with acquire_lock(engine, stale_after=stale_after, purpose="contender"):
            out.put(("won", os.getpid()))
            time.sleep(hold)
    except LockHeld as exc:
        out.put(("held", str(exc)))
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    """`python -m tests.scheduling_steps [schedule] TARGET_SET [--report]`: refresh (or the
    scheduler) with test steps, configured by SHELFCHECK_* variables."""
    from shelfcheck.app import configure_logging
    from shelfcheck.commands.refresh import Stopped, format_step, stop_on_signals
    from shelfcheck.config import load_settings
    from shelfcheck.errors import ShelfcheckError
    from shelfcheck.refresh import REFRESH_STEPS, run_steps

    settings = load_settings()
    engine = open_database(settings.database_url)
    try:
        if argv[0] == "schedule":
            from shelfcheck import scheduler
            configure_logging("INFO")
            logging.getLogger("apscheduler").setLevel(logging.WARNING)  # as `schedule` does
            scheduler.serve(settings, engine, targets=TARGET_SETS[argv[1]])
            return 0
        with stop_on_signals() as (stop, received):
            result = run_steps(
                settings, engine, REFRESH_STEPS, force_report="--report" in argv, stop=stop,
                targets=TARGET_SETS[argv[0]], on_step=lambda s: print(format_step(s), flush=True),
            )
        if received:
            raise Stopped(received[0])
        return result.exit_code
    except ShelfcheckError as exc:
        print(f"shelfcheck: error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
