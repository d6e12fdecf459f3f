"""Terminal tables: rich, wrapped to the terminal's width, never cutting a value.

On a terminal the table wraps its cells (a long URL folds onto the next lines whole); in a pipe,
a log or with `--wide`, each row is one line of padded columns, which `grep` and `cut` read.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


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
    one and not `wide`) wraps the cells to fit; otherwise each row is one line.

    `max_width` is accepted for older callers and ignored: nothing is cut any more.
    """
    del max_width
    body = [[_cell(v) for v in row] for row in rows]
    if width is None and not wide and to_terminal():
        width = shutil.get_terminal_size((100, 24)).columns
    if width is None or wide:
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


def _wrapped(headers: Sequence[str], body: list[list[str]], width: int) -> str:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False,
                  header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in body:
        table.add_row(*(Text(c) for c in row))
    out = io.StringIO()
    Console(file=out, width=max(width, 20), color_system=None, force_terminal=False,
            highlight=False, emoji=False, markup=False, soft_wrap=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()).strip("\n")
