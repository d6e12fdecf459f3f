"""Markdown tables generated from the registries, for the docs (compared in a test)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shelfcheck.catalog.events import EVENT_KINDS
from shelfcheck.catalog.verdicts import VERDICTS


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; `|` in cells is escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def event_kinds_table() -> str:
    """Every change-event kind: its group in the report, severity, summary count and meaning."""
    return markdown_table(
        ["kind", "group", "severity", "summary count", "meaning"],
        ([f"`{k.key}`", k.group, k.severity, f"`{k.summary}`" if k.summary else "",
          k.message] for k in EVENT_KINDS.values()),
    )


def verdicts_table() -> str:
    """Every link-check verdict: its class and the message the report shows."""
    return markdown_table(
        ["verdict", "class", "message"],
        ([f"`{v.key}`", v.kind, v.message] for v in VERDICTS.values()),
    )


TABLES = {"event-kinds": event_kinds_table, "verdicts": verdicts_table}
"""Generated blocks by marker name: ``<!-- NAME: generated ... -->`` ... ``<!-- NAME: end -->``."""
