"""The weekly change report: built from the database, rendered as md, html, json and csv."""

from shelfcheck.reports.build import build_report
from shelfcheck.reports.write import ReportOutcome, report_due, resolve_period, write_report

__all__ = ["ReportOutcome", "build_report", "report_due", "resolve_period", "write_report"]
