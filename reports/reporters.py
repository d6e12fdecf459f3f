"""The registry of report formats: each format is one `Reporter` subclass with a `kind`.

Another format is one more class: set `kind`, `extension` and `media_type`, and implement
`chunks` (the file in pieces, as it is rendered).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from shelfcheck.catalog.dismissals import Dismissal
from shelfcheck.errors import UsageError
from shelfcheck.exports.catalog_csv import csv_chunks
from shelfcheck.exports.jsonstream import iter_json, materialize, script_safe, utf8_chunks
from shelfcheck.reports.firstscreen import fix_first, headline
from shelfcheck.reports.model import (
    ChangeRow,
    LinkRow,
    NotCheckedRow,
    OpenRow,
    Report,
    UpcomingRow,
)
from shelfcheck.reports.templating import environment

REPORTERS: dict[str, type[Reporter]] = {}


class Reporter:
    """Renders a `Report` in one format."""

    kind: ClassVar[str] = ""
    extension: ClassVar[str] = ""
    media_type: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            REPORTERS[cls.kind] = cls

    def chunks(self, report: Report) -> Iterable[bytes]:
        """The report's file in pieces, as they are rendered."""
        raise NotImplementedError

    def render(self, report: Report) -> bytes:
        """The report as the bytes of one file."""
        return b"".join(self.chunks(report))


def get_reporter(kind: str) -> type[Reporter]:
    """The reporter class of `kind`, or a UsageError naming the known kinds."""
    try:
        return REPORTERS[kind]
    except KeyError:
        known = ", ".join(REPORTERS)
        raise UsageError(f"unknown report format '{kind}' (known: {known})") from None


def reporter_kinds() -> list[str]:
    """Every registered format, in registration order."""
    return list(REPORTERS)


class TemplateReporter(Reporter):
    """A format rendered by the Jinja2 template ``report.<kind>.j2``."""

    def chunks(self, report: Report) -> Iterator[bytes]:
        """The template's output as Jinja generates it, in pieces of about 64 kB."""
        env = environment(self.kind, report.timezone)
        fixes, more_fixes = fix_first(report)
        return utf8_chunks(env.get_template(f"report.{self.kind}.j2").generate(
            r=report, headline=headline(report), fixes=fixes, more_fixes=more_fixes))


class MarkdownReporter(TemplateReporter):
    """Markdown that reads as plain text in a terminal and an e-mail."""

    kind = "md"
    extension = "md"
    media_type = "text/markdown"
    description = "Markdown, readable as plain text"


class HtmlReporter(TemplateReporter):
    """One self-contained HTML file with inline styles, for browsers and e-mail clients."""

    kind = "html"
    extension = "html"
    media_type = "text/html"
    description = "self-contained HTML with inline CSS"


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an offset, or None."""
    return value.isoformat() if value is not None else None


def change_dict(change: ChangeRow) -> dict[str, Any]:
    """A change event as the JSON contract writes it."""
    return {
        "id": change.id, "kind": change.kind, "severity": change.severity,
        "message": change.message,
        "detected_at": iso(change.detected_at), "run_id": change.run_id, "url": change.url,
        "provider": change.provider, "resources": list(change.resources),
        "sections": list(change.sections), "title": change.title, "old": change.old,
        "new": change.new, "tier": change.tier, "verdict": change.verdict,
        "http_status": change.http_status, "detail": change.detail,
        "start": iso(change.start), "end": iso(change.end), "recipe": change.recipe,
        "count": change.count, "last_detected_at": iso(change.last_detected_at),
        "currency": change.currency,
    }


def open_dict(row: OpenRow) -> dict[str, Any]:
    """An ongoing problem as the JSON contract writes it."""
    return {
        "kind": row.kind, "severity": row.severity, "provider": row.provider, "url": row.url,
        "title": row.title, "since": iso(row.since), "runs": row.runs,
        "last_seen": iso(row.last_seen), "detail": row.detail, "resources": list(row.resources),
        "new": row.new,
    }


def dismissed_dict(dismissed: Dismissal | None) -> dict[str, Any] | None:
    """A dismissal that holds, or None."""
    if dismissed is None:
        return None
    until = dismissed.until.isoformat() if dismissed.until else None
    return {"reason": dismissed.reason, "at": iso(dismissed.at), "until": until}


def link_dict(link: LinkRow) -> dict[str, Any]:
    """A link that is not ok, as the JSON contract writes it."""
    return {
        "url": link.url, "state": link.state, "verdict": link.verdict,
        "verdict_message": link.verdict_message,
        "http_status": link.http_status, "detail": link.detail, "since": iso(link.since),
        "first_failed": iso(link.first_failed), "last_checked": iso(link.last_checked),
        "new": link.new, "resources": list(link.resources), "sections": list(link.sections),
        "providers": list(link.providers), "redirect_target": link.redirect_target,
        "suggestion": link.suggestion, "dismissed": dismissed_dict(link.dismissed),
    }


def not_checked_dict(row: NotCheckedRow) -> dict[str, Any]:
    """A link that is not checked, as the JSON contract writes it."""
    return {
        "url": row.url, "reason": row.reason, "state": row.state,
        "last_checked": iso(row.last_checked), "resources": list(row.resources),
        "sections": list(row.sections), "providers": list(row.providers),
    }


def upcoming_dict(row: UpcomingRow) -> dict[str, Any]:
    """An upcoming offering as the JSON contract writes it."""
    return {
        "provider": row.provider, "title": row.title, "url": row.url, "format": row.format,
        "start": iso(row.start), "end": iso(row.end), "timezone": row.timezone,
        "fee_known": row.fee_known,
        "fees": [{"tier": f.tier, "amount": f.amount, "currency": f.currency} for f in row.fees],
    }


def report_document(report: Report) -> dict[str, Any]:
    """The report as the ``shelfcheck.report/1`` JSON document (see docs/report.md)."""
    doc: dict[str, Any] = materialize(report_stream(report))
    return doc


def report_stream(report: Report) -> dict[str, Any]:
    """The same document with its long lists (changes, open problems, links) as iterators,
    encoded as they are written (`exports.jsonstream`)."""
    s = report.summary
    return {
        "schema": report.schema,
        "generated_at": iso(report.generated_at),
        "period": {"start": iso(report.period_start), "end": iso(report.period_end)},
        "summary": {
            "links_checked": s.links_checked, "broken": s.broken, "redirected": s.redirected,
            "unverifiable": s.unverifiable, "offerings_added": s.offerings_added,
            "offerings_removed": s.offerings_removed,
            "offerings_rescheduled": s.offerings_rescheduled, "fees_changed": s.fees_changed,
            "warnings": s.warnings, "actions": s.actions, "no_url": s.no_url,
            "recovered": s.recovered, "unchecked": s.unchecked,
            "offerings_updated": s.offerings_updated, "offerings_ended": s.offerings_ended,
            "dismissed": s.dismissed, "open": s.open, "not_checked": s.not_checked,
        },
        "inconclusive": report.inconclusive,
        "runs": [
            {"id": r.id, "kind": r.kind, "started_at": iso(r.started_at),
             "finished_at": iso(r.finished_at), "outcome": r.outcome, "detail": r.detail}
            for r in report.runs
        ],
        "changes": (change_dict(c) for c in report.changes),
        "open": (open_dict(o) for o in report.open),
        "links": (link_dict(link) for link in report.links),
        "not_checked": (not_checked_dict(row) for row in report.not_checked),
        "no_url": [{"title": n.title, "section": n.section, "provider": n.provider}
                   for n in report.no_url],
        "upcoming": [upcoming_dict(u) for u in report.upcoming],
    }


class JsonReporter(Reporter):
    """The ``shelfcheck.report/1`` JSON contract; ``<``, ``>`` and ``&`` are \\u-escaped."""

    kind = "json"
    extension = "json"
    media_type = "application/json"
    description = "versioned JSON for other tools (schema shelfcheck.report/1)"

    def chunks(self, report: Report) -> Iterator[bytes]:
        """``json.dumps(document, indent=2)``, written as it is encoded."""
        # Same value once parsed, but inert if someone pastes the file into an HTML page.
        return utf8_chunks(script_safe(iter_json(report_stream(report))), end="\n")


CSV_COLUMNS = ["detected_at", "kind", "severity", "provider", "title", "url", "old", "new",
               "tier", "verdict", "http_status", "resources", "sections", "detail", "start",
               "run_id", "count", "last_detected_at", "status", "since", "runs"]


class CsvReporter(Reporter):
    """One row per change of the period (status ``change``), then one per problem that is
    still open (status ``open``, with since and runs), then one per link that is not checked
    (status ``not_checked``, the reason in ``detail``)."""

    kind = "csv"
    extension = "csv"
    media_type = "text/csv"
    description = "one row per change, for spreadsheets"

    def chunks(self, report: Report) -> Iterator[bytes]:
        """The rows, written as they come (`exports.catalog_csv.csv_chunks`)."""
        return csv_chunks(CSV_COLUMNS, self._rows(report))

    @staticmethod
    def _rows(report: Report) -> Iterator[Sequence[object]]:
        """The rows after the header; `csv_chunks` makes formula-like text inert."""
        for c in report.changes:
            yield [
                iso(c.detected_at), c.kind, c.severity, c.provider or "", c.title,
                c.url, c.old, c.new, c.tier,
                c.verdict or "", "" if c.http_status is None else c.http_status,
                "; ".join(c.resources), "; ".join(c.sections),
                c.detail, iso(c.start) or "", "" if c.run_id is None else c.run_id,
                c.count, iso(c.last_detected_at) or "", "change", "", "",
            ]
        for o in report.open:
            yield [
                "", o.kind, o.severity, o.provider or "", o.title, o.url,
                "", "", "", "", "", "; ".join(o.resources), "", o.detail,
                "", "", "", "", "open", iso(o.since) or "", o.runs,
            ]
        for n in report.not_checked:
            yield [
                "", "", "", ", ".join(n.providers), "", n.url, "", "", "", "", "",
                "; ".join(n.resources), "; ".join(n.sections),
                n.reason, "", "", "", "", "not_checked", "", "",
            ]
