"""Lower layers name options, not flags; the CLI renders them as flags and adds hints."""

from __future__ import annotations

from typing import Any

import pytest

from shelfcheck.catalog.runs import StepResult
from shelfcheck.catalog.states import RunOutcome
from shelfcheck.cli import error_line
from shelfcheck.errors import ExitCode, NotSynced, ShelfcheckError, UsageError
from shelfcheck.refresh import RefreshResult


@pytest.mark.parametrize(("error", "line"), [
    (UsageError("bad value"), "bad value"),
    (UsageError("2027-01-01T00:00:00 has no time zone offset", options=("since",)),
     "--since: 2027-01-01T00:00:00 has no time zone offset"),
    (UsageError("choose the period", options=("since", "days")),
     "--since/--days: choose the period"),
    (UsageError("x", options=("log_file",)), "--log-file: x"),
    (NotSynced("no provider has a listing recipe"),
     "no provider has a listing recipe; run `shelfcheck catalog sync` first"),
    (ShelfcheckError("plain"), "plain"),
])
def test_error_line(error: ShelfcheckError, line: str) -> None:
    assert error_line(error) == line


def test_a_usage_error_in_a_child_keeps_its_message(cli: Any, db_url: str) -> None:
    """A lower layer's NotSynced reaches the user with the flag and the hint (exit 2)."""
    result = cli("--database-url", db_url, "check-links", "--provider", "nope")
    assert result.exit_code == ExitCode.USAGE
    assert result.output.strip().endswith(
        "--provider: no provider 'nope' in the catalog (known: none); run `shelfcheck "
        "catalog sync` first")


@pytest.mark.parametrize(("outcomes", "code"), [
    ([], ExitCode.OK),
    (["ok", "skipped", "ok"], ExitCode.OK),
    (["ok", "inconclusive"], ExitCode.INCONCLUSIVE),
    (["inconclusive", "failed", "ok"], ExitCode.FAILED),
    (["aborted"], ExitCode.FAILED),
])
def test_refresh_exits_with_its_worst_step(outcomes: list[str], code: ExitCode) -> None:
    result = RefreshResult([StepResult(f"step{i}", o) for i, o in enumerate(outcomes)])
    assert result.exit_code is code


def test_bad_input_in_a_step_is_exit_2() -> None:
    result = RefreshResult([StepResult("sync", "failed", stats={"usage_error": True}),
                            StepResult("links", "inconclusive")])
    assert result.exit_code is ExitCode.USAGE


def test_each_run_outcome_has_an_exit_code() -> None:
    assert {o: o.exit_code for o in RunOutcome} == {
        RunOutcome.OK: ExitCode.OK, RunOutcome.INCONCLUSIVE: ExitCode.INCONCLUSIVE,
        RunOutcome.FAILED: ExitCode.FAILED, RunOutcome.ABORTED: ExitCode.FAILED,
        RunOutcome.RUNNING: ExitCode.FAILED}
