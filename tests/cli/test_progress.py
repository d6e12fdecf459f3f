"""Progress: a rich bar on a terminal, one plain line per step (or tenth of the links) in logs."""

from __future__ import annotations

import io

from shelfcheck.commands.progress import LinkProgress, StepProgress


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_link_progress_in_a_log_is_a_line_per_tenth() -> None:
    log = io.StringIO()
    with LinkProgress(log) as progress:
        for checked in range(0, 101):
            progress(checked, 100, checked // 10)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "checked 0/100 links, 0 failing"
    assert lines[-1] == "checked 100/100 links, 10 failing"
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()


def test_link_progress_on_a_terminal_is_a_bar() -> None:
    tty = Terminal()
    with LinkProgress(tty) as progress:
        assert progress.bar is not None
        progress(40, 100, 3)
        progress.bar.refresh()
        shown = tty.getvalue()
    assert "checking links" in shown and "40/100" in shown and "3 failing" in shown
    assert "━" in shown  # the bar itself
    assert "checked 40/100 links" not in shown  # no log lines on a terminal


def test_step_progress_only_draws_on_a_terminal() -> None:
    log = io.StringIO()
    with StepProgress("refresh", 5, log) as steps:
        steps.step("sync")
    assert log.getvalue() == ""  # the caller prints the step lines itself
    tty = Terminal()
    with StepProgress("refresh", 5, tty) as steps:
        steps.step("sync")
        steps.step("links")
        assert steps.bar is not None
        steps.bar.refresh()
        assert "refresh" in tty.getvalue() and "2/5" in tty.getvalue()
