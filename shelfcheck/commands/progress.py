"""Progress on standard error: a rich progress bar on a terminal, plain lines in a log.

A bar is shown only when standard error is a terminal; otherwise each step (or every tenth of
the links) is one line, so a cron log reads as a record of the run.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def _bar(stream: TextIO) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
        console=Console(file=stream, highlight=False, markup=False), transient=True,
    )


class LinkProgress:
    """The callback of a link check, (checked, total, failures): a bar, or a line per 10%."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last_step = -1
        self.bar: Progress | None = None
        self.task = TaskID(0)

    def __enter__(self) -> LinkProgress:
        if self.tty:
            self.bar = _bar(self.stream)
            self.bar.start()
            self.task = self.bar.add_task("checking links", total=None, note="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, checked: int, total: int, failures: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=checked, total=total,
                            note=f"{failures} failing")
            return
        step = 10 if total == 0 else checked * 10 // total
        if step != self.last_step:
            self.last_step = step
            self.stream.write(f"checked {checked}/{total} links, {failures} failing\n")
            self.stream.flush()


class StepProgress:
    """Lines of a multi-step job, printed as they come; on a terminal, a bar below them."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.bar: Progress | None = None
        self.task = TaskID(0)
        self.started = time.monotonic()

    def __enter__(self) -> StepProgress:
        if self.stream.isatty():
            self.bar = _bar(self.stream)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total, note="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def step(self, note: str = "") -> None:
        """One step is done."""
        if self.bar is not None:
            self.bar.update(self.task, advance=1, note=note)
