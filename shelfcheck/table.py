"""Terminal tables: rich, wrapped to the terminal's width, never cutting a value.

On a terminal the table wraps its cells (a long URL folds onto the next lines whole); in a pipe,
a log, with `--wide` or past WRAP_ROWS rows, each row is one line of padded columns (`grep`, `cut`).
"""

from __future__ import annotations

import io
import math
import shutil
import sys
from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

MIN_WIDTH = 10
"""The narrowest a wrapped column gets."""
WRAP_ROWS = 1000
"""Tables longer than this are written one line per row even on a terminal: rich takes about
2.5 ms a row to lay a table out (26 s for 10,000 links; benchmarks/README.md)."""


def _cell(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


def to_terminal() -> bool:
    """True when standard output is a terminal."""
    return sys.stdout.isatty()


def format_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, max_width: int | None = None,
    wide: bool = False, width: int | None = None,
) -> str:
    """The rows under their headers. `width` (default: the terminal's, when standard output is
    one and not `wide`) wraps the cells to fit; otherwise, and for more than WRAP_ROWS rows,
    each row is one line.

    `max_width` is accepted for older callers and ignored: nothing is cut any more.
    """
    del max_width
    body = [[_cell(v) for v in row] for row in rows]
    if width is None and not wide and to_terminal():
        width = shutil.get_terminal_size((100, 24)).columns
    if width is None or wide or len(body) > WRAP_ROWS:
        return _plain(headers, body)
    return _wrapped(headers, body, width)


def _plain(headers: Sequence[str], body: list[list[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in body]
    return "\n".join(lines)


def column_widths(longest: list[int], width: int) -> list[int]:
    """Widths that fit `width`: short columns (states, verdicts, dates) whole, shortest first,
    while they leave at least 40% of the line; the long ones (URLs, titles) share the rest in
    proportion to their longest cell, and never get more than it."""
    gaps = 3 * len(longest)  # a space on each side of every cell, and the column rule
    room = max(width - gaps, len(longest))
    widths = [0] * len(longest)
    used = 0
    for i in sorted(range(len(longest)), key=lambda i: longest[i]):
        if used + longest[i] > room * 0.6:
            break
        widths[i] = longest[i]
        used += longest[i]
    flexible = [i for i, w in enumerate(widths) if w == 0]
    while flexible:
        share = room - used
        weight = {i: math.sqrt(longest[i]) for i in flexible}
        total = sum(weight.values())
        capped = [i for i in flexible if longest[i] <= share * weight[i] / total]
        if not capped:
            for i in flexible:
                widths[i] = max(int(share * weight[i] / total), MIN_WIDTH)
            break
        for i in capped:  # these fit whole; give the others what they leave
            widths[i] = longest[i]
            used += longest[i]
            flexible.remove(i)
    return widths


def _wrapped(headers: Sequence[str], body: list[list[str]], width: int) -> str:
    longest = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(headers)]
    widths = column_widths(longest, width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    for header, size in zip(headers, widths, strict=True):
        table.add_column(header, width=size, overflow="fold")
    for row in body:
        table.add_row(*(Text(c) for c in row))
    out = io.StringIO()
    Console(file=out, width=max(width, 20), color_system=None, force_terminal=False,
            highlight=False, emoji=False, markup=False, soft_wrap=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()).strip("\n")
