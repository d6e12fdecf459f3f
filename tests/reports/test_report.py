"""The report: periods, empty weeks, inconclusive runs, many changes, escaping, schema, CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import ReportRecord
from shelfcheck.config import load_settings
from shelfcheck.errors import ConfigError, UsageError
from shelfcheck.reports.build import build_report
from shelfcheck.reports.reporters import get_reporter, report_document, reporter_kinds
from shelfcheck.reports.write import report_due, report_interval_days, write_report
from tests.report_state import load_state

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports" / "schema" / "report.schema.json").read_text())
NOW = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
WEEK_AGO = NOW - timedelta(days=7)
US = timedelta(microseconds=1)


def iso(value: datetime) -> str:
    return value.isoformat()


def settings(tmp_path: Path, **overrides: Any) -> Any:
    return load_settings(environ={}, cwd=tmp_path, overrides=overrides)


def render_all(engine: Engine, since: datetime = WEEK_AGO, until: datetime = NOW,
               tz: str = "UTC") -> dict[str, str]:
    with transaction(engine) as session:
        report = build_report(session, start=since, end=until, now=until, timezone=tz)
    return {kind: get_reporter(kind)().render(report).decode("utf-8")
            for kind in ("md", "html", "json", "csv")}


def validate(doc: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(doc)


def md_sections(text: str) -> dict[str, list[str]]:
    """Non-empty lines under each `## ` heading of the Markdown report."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:]
            sections[current] = []
        elif current and line.strip():
            sections[current].append(line)
    return sections


BASE: dict[str, Any] = {
    "providers": [{"slug": "infopeople", "name": "Infopeople"}],
    "sections": [{"name": "Training Resources", "resources": [
        {"title": "Infopeople", "provider": "infopeople", "url": "https://infopeople.org/training"},
        {"title": "Second", "provider": "infopeople", "url": "https://infopeople.org/second"},
    ]}],
}


# --- period ---------------------------------------------------------------------------------


def test_period_boundaries_are_half_open(engine: Engine) -> None:
    since, until = WEEK_AGO, NOW
    url = "https://infopeople.org/training"
    state = dict(BASE, runs=[
        {"id": 1, "kind": "links", "started": iso(since - timedelta(hours=1)),
         "finished": iso(since - US), "outcome": "ok", "checks": [url]},
        {"id": 2, "kind": "links", "started": iso(since - timedelta(hours=1)),
         "finished": iso(since), "outcome": "failed"},
        {"id": 3, "kind": "listings", "started": iso(until - US), "outcome": "running"},
        {"id": 4, "kind": "listings", "started": iso(until), "finished": iso(until + US),
         "outcome": "ok"},
        {"id": 5, "kind": "sync", "started": iso(since + timedelta(hours=1)),
         "finished": iso(since + timedelta(hours=2)), "outcome": "ok"},
        {"id": 6, "kind": "links", "started": iso(since + timedelta(days=1)),
         "finished": iso(since + timedelta(days=1, minutes=5)), "outcome": "ok",
         "checks": [url, "https://infopeople.org/second"]},
    ], events=[
        {"kind": "offering_ended", "provider": "infopeople", "at": iso(since - US),
         "title": "just before"},
        {"kind": "offering_ended", "provider": "infopeople", "at": iso(since),
         "title": "at the start"},
        {"kind": "offering_ended", "provider": "infopeople", "at": iso(until - US),
         "title": "just before the end"},
        {"kind": "offering_ended", "provider": "infopeople", "at": iso(until),
         "title": "at the end"},
    ])
    load_state(engine, state)
    with transaction(engine) as session:
        report = build_report(session, start=since, end=until, now=until)
    assert [c.title for c in report.changes] == ["at the start", "just before the end"]
    assert report.summary.offerings_ended == 2
    # Runs overlap [since, until): finished at the start counts, started at the end does not;
    # only links and listings runs are listed.
    assert [(r.id, r.outcome) for r in report.runs] == [(2, "failed"), (6, "ok"),
                                                        (3, "running")]
    assert report.summary.links_checked == 2  # run 1's check is before the period
    assert [w.run_id for w in report.run_warnings] == [2]


def test_default_period_follows_the_last_report(engine: Engine, tmp_path: Path) -> None:
    load_state(engine, BASE)
    conf = settings(tmp_path)
    first = write_report(engine, conf, now=NOW, formats=["json"], out_dir=tmp_path / "a")
    assert (first.period_start, first.period_end) == (NOW - timedelta(days=7), NOW)
    later = NOW + timedelta(days=3, hours=2)
    second = write_report(engine, conf, now=later, formats=["json"], out_dir=tmp_path / "b")
    assert (second.period_start, second.period_end) == (NOW, later)
    with transaction(engine) as session:
        records = list(session.scalars(select(ReportRecord).order_by(ReportRecord.id)))
    assert [(r.period_start, r.period_end) for r in records] == [
        (NOW - timedelta(days=7), NOW), (NOW, later)]
    assert records[1].paths == [str(p) for p in second.paths]
    with pytest.raises(UsageError, match="already covers"):
        write_report(engine, conf, now=later, formats=["json"], out_dir=tmp_path / "c")
    with pytest.raises(UsageError, match="is not before"):
        write_report(engine, conf, since=NOW, until=NOW, now=later, formats=["json"],
                     out_dir=tmp_path / "c")
    with pytest.raises(UsageError, match="no time zone offset"):
        write_report(engine, conf, since=datetime(2027, 1, 1), now=later, formats=["json"],
                     out_dir=tmp_path / "c")


def test_file_names_use_the_period_end_in_the_configured_timezone(
        engine: Engine, tmp_path: Path) -> None:
    load_state(engine, BASE)
    conf = settings(tmp_path, timezone="America/Los_Angeles")
    outcome = write_report(engine, conf, now=NOW, formats=["md", "csv"], out_dir=tmp_path)
    names = sorted(p.name for p in outcome.paths)
    # 2027-01-04 07:00 UTC is 2027-01-03 23:00 in Los Angeles
    assert names == ["latest.csv", "latest.md", "shelfcheck-report-2027-01-03.csv",
                     "shelfcheck-report-2027-01-03.md"]
    assert "2027-01-03 23:00 PST" in (tmp_path / "latest.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- content --------------------------------------------------------------------------------


def test_empty_week_says_so_in_one_line_per_section(engine: Engine) -> None:
    load_state(engine, {"sections": [{"name": "S", "resources": [
        {"title": "ok one", "url": "https://example.org/"}]}],
        "links": [{"url": "https://example.org/", "state": "ok"}]})
    out = render_all(engine)
    sections = md_sections(out["md"])
    assert list(sections) == ["Summary", "Action needed", "Training changes", "Warnings",
                              "Upcoming (next 30 days)"]
    for name, lines in sections.items():
        assert len(lines) == 1, (name, lines)
    for line in [lines[0] for lines in sections.values()]:
        assert line in out["html"]
    doc = json.loads(out["json"])
    validate(doc)
    assert doc["runs"] == doc["changes"] == doc["links"] == doc["upcoming"] == []
    assert set(doc["summary"].values()) == {0}
    assert out["csv"].splitlines()[1:] == []


def test_week_without_runs_says_nothing_was_checked(engine: Engine) -> None:
    load_state(engine, dict(BASE, links=[
        {"url": "https://infopeople.org/training", "state": "broken", "verdict": "not_found",
         "http_status": 404, "since": iso(WEEK_AGO - timedelta(days=30))}]))
    md = render_all(engine)["md"]
    assert "No link or listing runs in this period: nothing was checked." in md
    assert "- Broken links: 1" in md
    # a link that went bad long ago is still listed, not marked new
    assert "<https://infopeople.org/training>\n" in md


def test_inconclusive_run_is_a_warning_and_moves_nothing(engine: Engine) -> None:
    url = "https://infopeople.org/training"
    load_state(engine, dict(BASE, links=[{"url": url, "state": "ok"}], runs=[
        {"id": 1, "kind": "links", "started": iso(NOW - timedelta(days=2)),
         "finished": iso(NOW - timedelta(days=2) + timedelta(minutes=3)),
         "outcome": "inconclusive", "checks": [url],
         "detail": "2 of 2 hosts failed with connection errors"},
        {"id": 2, "kind": "listings", "started": iso(NOW - timedelta(days=1)),
         "finished": iso(NOW - timedelta(days=1) + timedelta(minutes=1)), "outcome": "failed",
         "detail": "the listing crawl stopped: database locked"},
    ], events=[
        {"kind": "run_inconclusive", "run": 1,
         "at": iso(NOW - timedelta(days=2) + timedelta(minutes=3)),
         "detail": "2 of 2 hosts failed with connection errors; no link state was changed"},
    ]))
    out = render_all(engine)
    doc = json.loads(out["json"])
    validate(doc)
    assert [(r["id"], r["outcome"]) for r in doc["runs"]] == [(1, "inconclusive"), (2, "failed")]
    assert [c["kind"] for c in doc["changes"]] == ["run_inconclusive"]
    assert doc["links"] == []
    assert doc["summary"]["warnings"] == 2
    assert doc["summary"]["broken"] == 0
    assert doc["summary"]["links_checked"] == 1
    warnings = md_sections(out["md"])["Warnings"]
    assert warnings[0] == "### Runs without a usable result (2)"
    assert "Run 1 (links)" in warnings[1] and "inconclusive" in warnings[1]
    assert "no link state was changed" in warnings[1]
    assert "Run 2 (listings)" in warnings[2] and "failed" in warnings[2]
    assert "Nothing needs action" in out["md"]


def test_many_changes_for_one_provider(engine: Engine) -> None:
    events: list[dict[str, Any]] = []
    offerings: list[dict[str, Any]] = []
    at = WEEK_AGO + timedelta(days=1)
    for i in range(120):
        offerings.append({"key": f"a{i}", "provider": "infopeople", "title": f"Added {i:03d}",
                          "start": iso(NOW + timedelta(days=40 + i)), "fees": [{"amount": "10"}]})
        events.append({"kind": "offering_added", "provider": "infopeople", "offering": f"a{i}",
                       "at": iso(at + timedelta(seconds=i))})
    for i in range(150):
        events.append({"kind": "offering_ended", "provider": "infopeople",
                       "title": f"Ended {i:03d}", "at": iso(at + timedelta(minutes=5, seconds=i))})
    for i in range(30):
        events.append({"kind": "fee_changed", "provider": "infopeople", "offering": f"a{i}",
                       "tier": "members", "old": f"{i}.5", "new": f"{i + 1}",
                       "at": iso(at + timedelta(minutes=10, seconds=i))})
    events.append({"kind": "offering_added", "provider": "ala", "title": "The only other",
                   "at": iso(at)})
    load_state(engine, {"providers": [{"slug": "infopeople", "name": "Infopeople"},
                                      {"slug": "ala", "name": "American Library Association"}],
                        "offerings": offerings, "events": events})
    out = render_all(engine)
    md = out["md"]
    training = md_sections(md)["Training changes"]
    headings = [line for line in training if line.startswith("### ")]
    assert headings == ["### American Library Association (`ala`)",
                        "### Infopeople (`infopeople`)"]
    assert "Ended: 150 offerings (not listed)." in training
    assert "Ended 0" not in md and "Ended 0" not in out["html"]
    assert sum(1 for line in training if re.match(r"- Added \d{3}, starts ", line)) == 120
    assert sum(1 for line in training if " → " in line) == 30
    assert "- Added 000, starts" in md
    assert "- Added 007, members: 7.50 → 8.00" in md
    doc = json.loads(out["json"])
    validate(doc)
    assert len(doc["changes"]) == 301
    assert doc["summary"]["offerings_added"] == 121
    assert doc["summary"]["offerings_ended"] == 150
    assert doc["summary"]["fees_changed"] == 30
    assert doc["summary"]["actions"] == 30
    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    assert len(rows) == 301
    assert out["html"].count(">Ended<") == 1


def test_upcoming_lists_the_next_30_days_with_fees(engine: Engine) -> None:
    load_state(engine, {
        "providers": [{"slug": "lja", "name": "Library Juice Academy"}],
        "offerings": [
            {"key": "in", "provider": "lja", "title": "Inside", "start": iso(NOW),
             "fees": [{"tier": "members", "amount": "45"}, {"tier": "others", "amount": "60.5"}]},
            {"key": "edge", "provider": "lja", "title": "Edge",
             "start": iso(NOW + timedelta(days=30))},
            {"key": "past", "provider": "lja", "title": "Past", "start": iso(NOW - US)},
            {"key": "removed", "provider": "lja", "title": "Removed", "state": "removed",
             "start": iso(NOW + timedelta(days=2))},
            {"key": "unknown", "provider": "lja", "title": "Fee unknown", "fee_known": False,
             "start": iso(NOW + timedelta(days=3))},
        ]})
    out = render_all(engine)
    doc = json.loads(out["json"])
    validate(doc)
    assert [u["title"] for u in doc["upcoming"]] == ["Inside", "Fee unknown"]
    assert doc["upcoming"][0]["fees"] == [
        {"tier": "members", "amount": "45.00", "currency": "USD"},
        {"tier": "others", "amount": "60.50", "currency": "USD"}]
    assert "Inside (Library Juice Academy), 45.00 USD (members); 60.50 USD (others)" in out["md"]
    assert "Fee unknown (Library Juice Academy), fee not stated" in out["md"]


def test_link_states_resources_and_suggestions(engine: Engine) -> None:
    shared = "https://shared.example.org/page"
    load_state(engine, {
        "providers": [{"slug": "p", "name": "P"}],
        "sections": [
            {"name": "One", "resources": [
                {"title": "Uses shared", "provider": "p", "url": shared},
                {"title": "Moved", "url": "https://old.example.org/"},
                {"title": "No URL"},
                {"title": "Retired broken", "url": "https://retired.example.org/",
                 "state": "retired"}]},
            {"name": "Two", "resources": [{"title": "Also shared", "url": shared}]}],
        "links": [
            {"url": shared, "state": "broken", "verdict": "not_found", "http_status": 404,
             "since": iso(NOW - timedelta(days=1))},
            {"url": "https://old.example.org/", "state": "redirected", "http_status": 301,
             "redirect_target": "https://new.example.org/", "since": iso(NOW - timedelta(days=60))},
            {"url": "https://retired.example.org/", "state": "broken", "verdict": "gone"},
        ]})
    doc = json.loads(render_all(engine)["json"])
    validate(doc)
    assert [(link["url"], link["state"], link["new"]) for link in doc["links"]] == [
        (shared, "broken", True), ("https://old.example.org/", "redirected", False)]
    assert doc["links"][0]["resources"] == ["Uses shared", "Also shared"]
    assert doc["links"][0]["sections"] == ["One", "Two"]
    assert doc["links"][0]["suggestion"] == f"https://web.archive.org/web/*/{shared}"
    assert doc["links"][1]["suggestion"] == "https://new.example.org/"
    assert doc["no_url"] == [{"title": "No URL", "section": "One", "provider": None}]
    assert doc["summary"]["actions"] == 3


# --- escaping -------------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"
JS_URL = "javascript:alert(document.cookie)"


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


def test_web_values_are_escaped_in_every_format(engine: Engine) -> None:
    title = f"Evil {SCRIPT} & <b>bold</b>\n## injected heading [x](javascript:alert(1))"
    load_state(engine, {
        "providers": [{"slug": "evil", "name": f"Provider {SCRIPT}",
                       "recipe": {"url": JS_URL}}],
        "sections": [{"name": f"Section {SCRIPT}", "resources": [
            {"title": title, "provider": "evil", "url": JS_URL},
            {"title": "=HYPERLINK(\"http://x\")", "provider": "evil",
             "url": "https://ok.example.org/\"><script>alert(1)</script>"}]}],
        "links": [
            {"url": JS_URL, "state": "broken", "verdict": "invalid_url", "detail": SCRIPT},
            {"url": "https://ok.example.org/\"><script>alert(1)</script>", "state": "redirected",
             "redirect_target": JS_URL}],
        "offerings": [{"key": "k", "provider": "evil", "title": title, "url": JS_URL,
                       "start": iso(NOW + timedelta(days=1)),
                       "fees": [{"tier": SCRIPT, "amount": "5"}]}],
        "events": [
            {"kind": "link_broken", "link": JS_URL, "at": iso(NOW - timedelta(days=1)),
             "detail": SCRIPT},
            {"kind": "offering_added", "provider": "evil", "offering": "k",
             "at": iso(NOW - timedelta(days=1))},
            {"kind": "fee_changed", "provider": "evil", "offering": "k", "tier": "=" + SCRIPT,
             "old": "4", "new": "5", "at": iso(NOW - timedelta(days=1))},
            {"kind": "provider_unreachable", "provider": "evil", "url": JS_URL,
             "detail": SCRIPT, "at": iso(NOW - timedelta(days=1))},
            {"kind": "extractor_drift", "provider": "evil", "detail": SCRIPT,
             "at": iso(NOW - timedelta(days=1))},
        ]})
    out = render_all(engine)

    html = out["html"]
    parser = _Anchors()
    parser.feed(html)
    assert parser.scripts == 0
    assert parser.hrefs and all(h.startswith(("https://", "http://", "#")) for h in parser.hrefs)
    assert "<script" not in html.lower() and "javascript:alert" in html  # shown as text
    assert "&lt;script&gt;" in html and "<b>bold" not in html

    md = out["md"]
    # every < from the web is escaped; the only markup is <http(s)://...> autolinks
    assert not re.search(r"(?<!\\)<(?!https?://)", md)
    assert "\\<script\\>" in md
    assert "<javascript:" not in md and not re.search(r"(?<!\\)\]\(javascript:", md)
    assert "\\[x\\](javascript:" in md
    assert not [line for line in md.splitlines() if line.startswith("## injected")]

    raw_json = out["json"]
    assert "<script" not in raw_json
    doc = json.loads(raw_json)
    validate(doc)
    assert doc["upcoming"][0]["title"] == title
    assert doc["upcoming"][0]["url"] == JS_URL
    assert any(c["detail"] == SCRIPT for c in doc["changes"])

    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    assert {r["url"] for r in rows if r["kind"] == "provider_unreachable"} == {JS_URL}
    assert {r["title"] for r in rows if r["kind"] == "offering_added"} == {title}
    fee = next(r for r in rows if r["kind"] == "fee_changed")
    assert fee["tier"] == "'=" + SCRIPT and fee["new"] == "5.00"


# --- JSON schema ----------------------------------------------------------------------------


def test_schema_accepts_the_golden_report_and_rejects_contract_breaks() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    doc = json.loads((ROOT / "tests/golden/report/week.json").read_text())
    validate(doc)
    kinds = {c["kind"] for c in doc["changes"]}
    assert kinds >= {"link_broken", "link_redirected", "link_recovered", "link_unverifiable",
                     "offering_added", "offering_removed", "offering_ended",
                     "offering_rescheduled", "fee_changed", "offering_updated",
                     "provider_unreachable", "extractor_drift", "run_inconclusive"}
    fee = next(c for c in doc["changes"] if c["kind"] == "fee_changed")
    assert (fee["old"], fee["new"], fee["tier"]) == ("175.00", "195.00", "")

    def broken(path: str, value: Any) -> dict[str, Any]:
        copy = json.loads(json.dumps(doc))
        target = copy
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1]] = value
        return copy

    fee_index = doc["changes"].index(fee)
    for path, value in [
        ("generated_at", "2027-01-04T07:00:00"),  # no offset
        ("period.start", "last monday"),
        (f"changes.{fee_index}.new", "$195"),
        ("changes.0.kind", "link_exploded"),
        ("summary.broken", -1),
        ("upcoming.0.fees.0.amount", 195.0),
        ("schema", "shelfcheck.report/2"),
    ]:
        with pytest.raises(jsonschema.ValidationError):
            validate(broken(path, value))


def test_odd_stored_values_still_meet_the_contract(engine: Engine) -> None:
    load_state(engine, {
        "providers": [{"slug": "p", "name": "P"}],
        "offerings": [{"key": "k", "provider": "p", "title": "T"}],
        "events": [
            {"kind": "fee_changed", "provider": "p", "offering": "k", "old": None, "new": "12",
             "at": iso(NOW - timedelta(days=1))},
            {"kind": "offering_rescheduled", "provider": "p", "offering": "k",
             "old": "2027-02-01T10:00:00-08:00", "new": "2027-02-08",
             "at": iso(NOW - timedelta(days=1))},
            {"kind": "link_redirected", "url": "https://a.example/", "new": "https://b.example/",
             "at": iso(NOW - timedelta(days=1))},
        ]})
    doc = json.loads(render_all(engine)["json"])
    validate(doc)
    fee, moved, redirect = doc["changes"]
    assert (fee["old"], fee["new"], fee["tier"]) == (None, "12.00", "")
    assert (moved["old"], moved["new"]) == ("2027-02-01T18:00:00+00:00", "2027-02-08")
    assert redirect["new"] == "https://b.example/"


def test_reporter_registry() -> None:
    assert reporter_kinds()[:4] == ["md", "html", "json", "csv"]
    with pytest.raises(UsageError, match=r"'pdf' \(known: md, html, json, csv"):
        get_reporter("pdf")


def test_unknown_format_in_the_configuration_names_the_key(engine: Engine,
                                                          tmp_path: Path) -> None:
    conf = settings(tmp_path, report_formats=["md", "pdf"])
    with pytest.raises(ConfigError, match=r"key 'report_formats': unknown report format 'pdf'"):
        write_report(engine, conf, now=NOW, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- report_due -----------------------------------------------------------------------------


def test_report_due(engine: Engine, tmp_path: Path) -> None:
    weekly = settings(tmp_path)
    assert report_due(engine, weekly, NOW)
    with transaction(engine) as session:
        session.add(ReportRecord(generated_at=NOW + timedelta(seconds=50),
                                 period_start=WEEK_AGO, period_end=NOW, paths=[]))
    # a week later, a little earlier in the day (scheduler jitter): due
    assert report_due(engine, weekly, NOW + timedelta(days=7, seconds=10))
    assert not report_due(engine, weekly, NOW + timedelta(days=6, hours=16))
    daily = settings(tmp_path, report_every="daily")
    assert not report_due(engine, daily, NOW + timedelta(hours=10))
    assert report_due(engine, daily, NOW + timedelta(days=1))
    assert report_due(engine, settings(tmp_path, report_every="3"), NOW + timedelta(days=3))
    assert not report_due(engine, settings(tmp_path, report_every="3 days"),
                          NOW + timedelta(days=2))


def test_report_every_values() -> None:
    assert [report_interval_days(v) for v in ("daily", "Weekly", "14", "2 days")] == [1, 7, 14, 2]
    for bad in ("monthly", "0", "-1", ""):
        with pytest.raises(ConfigError, match="report_every"):
            report_interval_days(bad)


# --- the command ----------------------------------------------------------------------------


def seed(db_url: str) -> None:
    """A small catalog in the database at `db_url`."""
    from shelfcheck.catalog.db import open_database

    engine = open_database(db_url)
    load_state(engine, BASE)
    engine.dispose()


def test_report_command_writes_files_and_latest_copies(cli: Any, db_url: str,
                                                       tmp_path: Path) -> None:
    seed(db_url)
    result = cli("--database-url", db_url, "report", "--days", "3", "--format", "md,json",
                 "--out", "out")
    assert result.exit_code == 0, result.output
    wrote = [line.removeprefix("wrote ") for line in result.output.splitlines()
             if line.startswith("wrote ")]
    assert [Path(p).name for p in wrote][2:] == ["latest.md", "latest.json"]
    assert re.fullmatch(r"out/shelfcheck-report-\d{4}-\d{2}-\d{2}\.md", wrote[0])
    for path in wrote:
        assert (tmp_path / path).is_file()
    doc = json.loads((tmp_path / "out" / "latest.json").read_text())
    validate(doc)
    start = datetime.fromisoformat(doc["period"]["start"])
    end = datetime.fromisoformat(doc["period"]["end"])
    assert end - start == timedelta(days=3)
    assert "0 actions" in result.output

    # the default: since the last report, into reports_dir (from the configuration)
    (tmp_path / "shelfcheck.toml").write_text('reports_dir = "weekly"\nreport_formats = ["csv"]\n')
    again = cli("--database-url", db_url, "report")
    assert again.exit_code == 0, again.output
    assert "wrote weekly/latest.csv" in again.output
    assert (tmp_path / "weekly" / "latest.csv").read_text().startswith("detected_at,kind,")
    assert f"period {doc['period']['end']} to " in again.output


@pytest.mark.parametrize("args, message", [
    (["--since", "2027-01-01", "--days", "3"], "--since or --days, not both"),
    (["--format", "md,pdf"], "unknown report format 'pdf'"),
    (["--format", " , "], "--format needs at least one"),
    (["--since", "last tuesday"], "--since 'last tuesday' is not an ISO 8601"),
    (["--since", "2027-01-05", "--until", "2027-01-04T00:00:00+00:00"], "is not before"),
    (["--days", "0"], "0 is not in the range"),
])
def test_report_command_rejects_bad_input(cli: Any, tmp_path: Path, args: list[str],
                                          message: str) -> None:
    result = cli("--database-url", f"sqlite:///{tmp_path}/c.db", "report", "--out", "o", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_report_command_reads_times_without_offset_in_the_timezone(
        cli: Any, tmp_path: Path) -> None:
    (tmp_path / "shelfcheck.toml").write_text('timezone = "America/New_York"\n')
    seed(f"sqlite:///{tmp_path}/c.db")
    result = cli("--database-url", f"sqlite:///{tmp_path}/c.db", "report", "--since",
                 "2027-01-01", "--until", "2027-01-04T07:00", "--format", "json", "--out", "o")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "o" / "latest.json").read_text())
    assert doc["period"] == {"start": "2027-01-01T05:00:00+00:00",
                             "end": "2027-01-04T12:00:00+00:00"}


def test_an_empty_catalog_is_an_error_that_says_how_to_load_it(cli: Any, tmp_path: Path) -> None:
    result = cli("--database-url", f"sqlite:///{tmp_path}/c.db", "report", "--out", "o")
    assert result.exit_code == 2
    assert "the catalog is empty" in result.output and "shelfcheck catalog sync" in result.output
    assert not (tmp_path / "o").exists()


def test_json_document_is_the_reporter_output(engine: Engine) -> None:
    with transaction(engine) as session:
        report = build_report(session, start=WEEK_AGO, end=NOW, now=NOW)
    assert json.loads(get_reporter("json")().render(report)) == report_document(report)


def test_a_text_that_several_lists_show_is_held_once(engine: Engine) -> None:
    url = "https://infopeople.org/training"
    load_state(engine, dict(BASE, links=[
        {"url": url, "state": "broken", "verdict": "not_found", "http_status": 404,
         "since": iso(NOW - timedelta(days=2))}], events=[
        {"kind": "link_broken", "url": url, "at": iso(NOW - timedelta(days=2)),
         "verdict": "not_found"}]))
    with transaction(engine) as session:
        report = build_report(session, start=WEEK_AGO, end=NOW, now=NOW)
    link, change, problem = report.links[0], report.changes[0], report.open[0]
    assert link.url == change.url == problem.url == url
    assert link.url is change.url and problem.url is link.url
    assert link.verdict is change.verdict


def test_json_and_csv_reports_are_written_as_they_are_encoded(engine: Engine) -> None:
    """A long report comes out in pieces, and the pieces are the whole document's bytes."""
    load_state(engine, dict(BASE, links=[
        {"url": "https://infopeople.org/training", "state": "broken", "verdict": "not_found",
         "http_status": 404, "since": iso(NOW - timedelta(days=2))}], events=[
        {"kind": "offering_added", "provider": "infopeople", "at": iso(NOW - timedelta(days=1)),
         "title": "A <new> webinar & more"}]))
    with transaction(engine) as session:
        report = build_report(session, start=WEEK_AGO, end=NOW, now=NOW)
    assert report.links and report.changes
    big = replace(report, links=report.links * 1000, changes=report.changes * 2500)

    pieces = list(get_reporter("json")().chunks(big))
    whole = json.dumps(report_document(big), indent=2, ensure_ascii=False)
    whole = whole.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    assert len(pieces) > 2 and b"".join(pieces) == (whole + "\n").encode("utf-8")

    pieces = list(get_reporter("csv")().chunks(big))
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8"))))
    assert len(pieces) > 1
    assert len(rows) == 1 + len(big.changes) + len(big.open) + len(big.not_checked)
