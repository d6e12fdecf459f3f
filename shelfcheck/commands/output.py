"""What every listing command shares: `--format table|json`, `--wide`, and the JSON writer.

The JSON shapes are documented in docs/cli.md; tests/cli/test_json_output.py holds the commands
to them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json")


def format_option(function: F) -> F:
    """`--format table|json` (as `fmt`)."""
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="table for people; json for programs (the shape is in docs/cli.md).",
    )(function)


def wide_option(function: F) -> F:
    """`--wide`: one line per row, whatever the terminal's width."""
    return click.option(
        "--wide", is_flag=True,
        help="One line per row instead of wrapping the table to the terminal's width.",
    )(function)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(data: Any) -> str:
    """The JSON text of `data`: indented, UTF-8, times as ISO 8601, decimals as strings."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=_default)


def echo_json(data: Any) -> None:
    """Write `data` as JSON to standard output."""
    click.echo(dumps(data))


def iso(value: datetime | None) -> str | None:
    """An aware time as ISO 8601, or None."""
    return value.isoformat() if value else None
