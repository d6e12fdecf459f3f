"""Links that are not checked (`check: false`, `link_exclude`) in the report: listed apart, in no
count of problems, whatever state they last had (the golden week, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select, update

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import Link, Resource
from shelfcheck.catalog.notchecked import LinkExclude
from shelfcheck.reports.build import build_report
from shelfcheck.reports.model import Report
from shelfcheck.reports.reporters import get_reporter
from tests.report_state import load_state, read_state
from tests.reports.test_report import NOW, WEEK_AGO, validate

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "report"
BROKEN = "https://www.webjunction.org/documents/webjunction/Library_Staff_Competency_Collections.html"
REDIRECTED = "http://ala-apa.org/lssc"
NEVER = "https://www.webjunction.org/"
EXCLUDE = LinkExclude([r"^http://ala-apa\.org/", r"webjunction\.org/$"])


def build(engine: Engine, exclude: LinkExclude | None) -> Report:
    with transaction(engine) as session:
        return build_report(session, start=WEEK_AGO, end=NOW, now=NOW, exclude=exclude)


def test_not_checked_links_leave_every_problem_list(engine: Engine) -> None:
    load_state(engine, read_state(GOLDEN / "week.yaml"))
    before = build(engine, None).summary
    with transaction(engine) as session:
        link_id = session.scalar(select(Link.id).where(Link.url == BROKEN))
        session.execute(update(Resource).where(Resource.link_id == link_id).values(check=False))

    only_check = build(engine, None)
    assert [(n.url, n.reason, n.state) for n in only_check.not_checked] == [
        (BROKEN, "check: false", "broken")]
    assert only_check.summary.broken == before.broken - 1

    report = build(engine, EXCLUDE)
    assert [(n.url, n.reason, n.state) for n in report.not_checked] == [
        (REDIRECTED, "excluded by link_exclude", "redirected"),
        (NEVER, "excluded by link_exclude", "unknown"),
        (BROKEN, "check: false", "broken")]
    s = report.summary
    assert (s.broken, s.redirected, s.not_checked, s.unchecked) == (
        before.broken - 1, before.redirected - 1, 3, before.unchecked - 1)
    assert (s.actions, s.open) == (before.actions - 2, before.open - 2)
    listed = {link.url for link in report.links} | {o.url for o in report.open}
    assert not listed & {BROKEN, REDIRECTED, NEVER}

    doc = json.loads(get_reporter("json")().render(report))
    validate(doc)
    assert doc["summary"]["not_checked"] == 3
    assert doc["not_checked"][2] == {
        "url": BROKEN, "reason": "check: false", "state": "broken",
        "last_checked": "2027-01-02T02:04:00+00:00",
        "resources": ["WebJunction Library Staff Competency Collection (2012)"],
        "sections": ["Competencies"], "providers": ["webjunction"]}
    md = get_reporter("md")().render(report).decode()
    action = md.split("## Action needed", 1)[1].split("## Training changes", 1)[0]
    assert BROKEN not in action and REDIRECTED not in action
    assert "## Not checked (3)" in md
    assert "- Links not checked (`check: false` or `link_exclude`): 3" in md
    html = get_reporter("html")().render(report).decode()
    assert 'href="#not-checked"' in html and 'id="not-checked"' in html
    assert html.count(BROKEN) == 1 and "Fix these first" in html
