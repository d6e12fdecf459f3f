"""Each closed set is declared once; the JSON Schemas and the docs tables derive from it.

After adding a verdict, an event kind or a state, regenerate the derived enums and tables and
review the diff:

    SHELFCHECK_REGEN_REGISTRIES=1 .venv/bin/python -m pytest tests/catalog/test_registries.py
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from shelfcheck.catalog.doctables import TABLES
from shelfcheck.catalog.events import EVENT_KINDS, GROUPS, SEVERITIES, SUMMARY_COUNTS, EventKind
from shelfcheck.catalog.notchecked import REASONS
from shelfcheck.catalog.states import RESOURCE_LINK_STATES, LinkState, RunOutcome
from shelfcheck.catalog.verdicts import VERDICTS, Verdict
from shelfcheck.reports.model import LINK_STATES, Summary
from shelfcheck.reports.runs import RUN_KINDS

ROOT = Path(__file__).resolve().parents[2]
REGEN = os.environ.get("SHELFCHECK_REGEN_REGISTRIES") == "1"
REPORT_SCHEMA = ROOT / "reports" / "schema" / "report.schema.json"
CATALOG_SCHEMA = ROOT / "exports" / "schemas" / "catalog.schema.json"

# (schema file, $defs entry, property) -> the values its enum must hold, in this order.
SCHEMA_ENUMS: dict[tuple[Path, str, str], Sequence[str]] = {
    (REPORT_SCHEMA, "change", "kind"): list(EVENT_KINDS),
    (REPORT_SCHEMA, "change", "severity"): SEVERITIES,
    (REPORT_SCHEMA, "run", "outcome"): list(RunOutcome),
    (REPORT_SCHEMA, "run", "kind"): RUN_KINDS,
    (REPORT_SCHEMA, "link", "state"): LINK_STATES,
    (REPORT_SCHEMA, "not_checked", "reason"): REASONS,
    (REPORT_SCHEMA, "not_checked", "state"): list(LinkState),
    (CATALOG_SCHEMA, "resource", "link_state"): RESOURCE_LINK_STATES,
}


def _enum_span(text: str, definition: str, prop: str) -> re.Match[str]:
    """Where the enum of $defs/definition/properties/prop is written in the schema's text."""
    start = re.search(rf'\n {{4}}"{definition}": {{', text)
    assert start, f"no $defs/{definition}"
    found = re.compile(rf'"{prop}": {{\s*(?:"description": "[^"]*",\s*)?"enum": (\[[^\]]*\])',
                       re.S).search(text, start.end())
    assert found, f"no enum in $defs/{definition}/properties/{prop}"
    return found


def _written(values: Sequence[str], column: int) -> str:
    """A JSON list wrapped at 100 columns, continued under its first item."""
    items = ", ".join(json.dumps(str(v)) for v in values)
    lines = textwrap.wrap(f"[{items}]", width=100 - column, break_on_hyphens=False)
    return ("\n" + " " * (column + 1)).join(lines)


@pytest.mark.parametrize("where", list(SCHEMA_ENUMS),
                         ids=lambda w: f"{w[0].name}:{w[1]}.{w[2]}")
def test_schema_enums_are_the_registries(where: tuple[Path, str, str]) -> None:
    path, definition, prop = where
    expected = [str(v) for v in SCHEMA_ENUMS[where]]
    schema = json.loads(path.read_text(encoding="utf-8"))
    actual = schema["$defs"][definition]["properties"][prop]["enum"]
    if actual == expected:
        return
    if REGEN:
        text = path.read_text(encoding="utf-8")
        span = _enum_span(text, definition, prop)
        column = span.start(1) - text.rfind("\n", 0, span.start(1)) - 1
        path.write_text(text[:span.start(1)] + _written(expected, column) + text[span.end(1):],
                        encoding="utf-8")
        assert json.loads(path.read_text(encoding="utf-8"))["$defs"][definition][
            "properties"][prop]["enum"] == expected
        return
    pytest.fail(f"{path.relative_to(ROOT)} $defs/{definition}/properties/{prop} enum is "
                f"{actual}, the registry says {expected}; regenerate with "
                "SHELFCHECK_REGEN_REGISTRIES=1")


def test_regenerating_an_enum_rewrites_only_it() -> None:
    """The regeneration above finds the enum and keeps the rest of the file as written."""
    text = REPORT_SCHEMA.read_text(encoding="utf-8")
    span = _enum_span(text, "change", "kind")
    column = span.start(1) - text.rfind("\n", 0, span.start(1)) - 1
    kinds = [*EVENT_KINDS, "zz_new_kind"]
    written = _written(kinds, column)
    rewritten = text[:span.start(1)] + written + text[span.end(1):]
    schema = json.loads(rewritten)
    assert schema["$defs"]["change"]["properties"]["kind"]["enum"] == kinds
    del schema["$defs"]["change"]["properties"]["kind"]["enum"]
    before = json.loads(text)
    del before["$defs"]["change"]["properties"]["kind"]["enum"]
    assert schema == before
    first_line = text[text.rfind("\n", 0, span.start(1)) + 1:span.start(1)] + written
    assert max(len(line) for line in first_line.splitlines()) <= 100


DOCS = ROOT / "docs" / "report.md"


@pytest.mark.parametrize("name", list(TABLES))
def test_docs_tables_are_generated(name: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = re.search(rf"<!-- {name}: generated[^\n]*-->\n", text)
    end = text.find(f"<!-- {name}: end -->")
    assert start and end >= start.end(), f"docs/report.md has no generated {name} block"
    expected = TABLES[name]()
    if text[start.end():end] == expected:
        return
    if REGEN:
        DOCS.write_text(text[:start.end()] + expected + text[end:], encoding="utf-8")
        return
    pytest.fail(f"docs/report.md's {name} table differs from the registry; regenerate with "
                "SHELFCHECK_REGEN_REGISTRIES=1")


def test_event_kinds_are_complete() -> None:
    summary_fields = {f.name for f in dataclasses.fields(Summary)}
    for kind in EVENT_KINDS.values():
        assert kind.group in GROUPS and kind.severity in SEVERITIES
        if kind.summary:
            assert kind.summary in summary_fields, kind
    assert len(set(SUMMARY_COUNTS.values())) == len(SUMMARY_COUNTS), "one counter per kind"
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    summary = schema["$defs"]["summary"]["properties"] if "summary" in schema["$defs"] else \
        schema["properties"]["summary"]["properties"]
    assert set(SUMMARY_COUNTS.values()) <= set(summary)


@pytest.mark.parametrize("bad", [
    {"severity": "urgent"}, {"group": ""}, {"group": "misc"},
])
def test_a_bad_event_kind_is_refused_naming_it(bad: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"key": "zz_kind", "severity": "info", "message": "m",
                              "group": "links", **bad}
    with pytest.raises(ValueError, match="event kind 'zz_kind'"):
        EventKind(**fields)


def test_a_verdict_of_an_unknown_class_is_refused() -> None:
    with pytest.raises(ValueError, match="verdict 'zz': class 'fatal'"):
        Verdict("zz", "fatal", "m")


def test_the_link_state_machine_uses_the_verdict_classes() -> None:
    """Every verdict but `none` moves a link to a state; the classes decide which."""
    from datetime import UTC, datetime

    from shelfcheck.catalog.linkstate import Check, LinkStatus, transition

    now = datetime(2026, 1, 1, tzinfo=UTC)
    expected = {"ok": {LinkState.OK, LinkState.REDIRECTED}, "failing": {LinkState.BROKEN},
                "unverifiable": {LinkState.UNVERIFIABLE}}
    for verdict in VERDICTS.values():
        if verdict.kind == "none":
            continue
        state = transition(LinkStatus(), Check(verdict.key, final_url="https://x.example/"),
                           now, confirm_after=1).status.state
        assert state in expected[verdict.kind], verdict.key


def test_the_readme_exit_codes_are_the_enum() -> None:
    """The README's exit code table lists ExitCode's statuses and nothing else (1 is in the
    text below the table: it is command-specific)."""
    from shelfcheck.errors import ExitCode

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    listed = {int(n) for line in table.splitlines()[2:]
              for n in line.split("|")[1].split("/")}
    assert listed | {ExitCode.ERROR} == {int(code) for code in ExitCode}
    assert ExitCode.stopped_by(15) is ExitCode.SIGTERM
