"""`shelfcheck refresh`: the main job cron calls."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from shelfcheck.app import App
from shelfcheck.catalog.runs import StepResult
from shelfcheck.catalog.states import RunOutcome, Step
from shelfcheck.commands.progress import StepProgress
from shelfcheck.errors import ExitCode, ShelfcheckError


class Stopped(ShelfcheckError):
    """The run was stopped by SIGTERM or SIGINT (exit 128 + the signal number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}; unfinished runs were "
                         "marked aborted")
        self.exit_code = ExitCode.stopped_by(signum)


@contextmanager
def stop_on_signals() -> Iterator[tuple[threading.Event, list[int]]]:
    """While the block runs, SIGTERM/SIGINT set the event instead of killing the process."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield stop, received
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop, received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def format_step(result: StepResult) -> str:
    """One output line for a step: its outcome, run id and summary."""
    run = f" (run {result.run_id})" if result.run_id is not None else ""
    summary = f": {result.summary}" if result.summary else ""
    return f"{result.kind}: {result.outcome}{run}{summary}"


@click.command("refresh")
@click.option("--report", "force_report", is_flag=True,
              help="Write the report even when it is not due.")
@click.option("--skip-links", is_flag=True, help="Do not check links.")
@click.option("--skip-listings", is_flag=True, help="Do not crawl provider listings.")
@click.pass_obj
def refresh_cmd(app: App, force_report: bool, skip_links: bool, skip_listings: bool) -> None:
    """The main job: sync the catalog if it changed, check links, crawl listings, write the
    report when due (or with --report), then rewrite the configured exports. One line per
    step; on a terminal, a progress bar below them (on standard error).

    Exit status: 0 all steps completed, 3 a step was inconclusive (outage guard), 4 a step
    failed, 2 bad input (e.g. the catalog file), 75 another run holds the lock.
    """
    from shelfcheck.preflight import check_settings
    from shelfcheck.refresh import REFRESH_STEPS, run_steps

    check_settings(app.settings)
    skipped = {Step.LINKS} if skip_links else set()
    if skip_listings:
        skipped.add(Step.LISTINGS)
    steps = [s for s in REFRESH_STEPS if s not in skipped]
    def on_step(step: StepResult) -> None:
        click.echo(format_step(step))
        bar.step(step.kind)

    with stop_on_signals() as (stop, received), StepProgress("refresh", len(steps)) as bar:
        result = run_steps(
            app.settings, app.engine, steps, purpose="refresh", force_report=force_report,
            stop=stop, on_step=on_step,
        )
    if received:
        raise Stopped(received[0])
    code = result.exit_code
    if any(s.kind == Step.LINKS and s.outcome == RunOutcome.INCONCLUSIVE for s in result.steps):
        click.echo("refresh: the links could not be checked: most hosts failed to answer, so "
                   "this machine looks offline. Nothing was marked broken. To see shelfcheck "
                   "work without a network, run `make demo` (or `shelfcheck demo`).")
    click.echo(f"refresh: {'ok' if code == 0 else 'finished with problems'} (exit {code})")
    if code:
        raise click.exceptions.Exit(code)


COMMANDS = [refresh_cmd]
