"""`links dismiss` / `links undismiss` end to end: real link checks (child processes) against a
loopback server whose answers change, the CLI, and the report it feeds, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shelfcheck.catalog.dismissals import holds
from shelfcheck.catalog.models import Link, LinkDismissal, utcnow
from tests.crawler.test_linkcheck import check_links, sync
from tests.loopback import PageHandler, served


class Site(ThreadingHTTPServer):
    """Answers each path with the status in `statuses` (404 when unlisted); logs the paths."""

    def __init__(self) -> None:
        self.statuses: dict[str, int] = {}
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Page)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Page(PageHandler):
    server: Site

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        self.server.requests.append(self.path)
        status = self.server.statuses.get(self.path, 404)
        page = f"<html><head><title>{status}</title></head><body>page {self.path} " \
               f"{'x' * 600}</body></html>".encode()
        return status, {"Content-Type": "text/html; charset=utf-8"}, page


@pytest.fixture
def site() -> Iterator[Site]:
    with served(Site()) as server:
        yield server


def report_json(cli: Any, db_url: str, out: str) -> dict[str, Any]:
    result = cli("--database-url", db_url, "report", "--days", "1", "--format", "json,md",
                 "--out", out)
    assert result.exit_code == 0, result.output
    return dict(json.loads((Path(out) / "latest.json").read_text()))


def test_dismiss_holds_until_the_result_changes(cli: Any, db_url: str, tmp_path: Path,
                                                site: Site) -> None:
    site.statuses.update({"/ok": 200, "/gone": 404})
    gone, ok = site.url("/gone"), site.url("/ok")
    sync(db_url, tmp_path, {"Links": [("Gone page", gone), ("Fine page", ok)]})
    env = {"SHELFCHECK_CONFIRM_AFTER": "1"}
    assert check_links(db_url, tmp_path, env=env).returncode == 0

    # what cannot be dismissed, with a clear message
    for args, message in [
        ((ok, "--reason", "x"), "is ok: only a link that is broken, redirected or unverifiable"),
        ((site.url("/elsewhere"), "--reason", "x"), "no resource of the catalog uses the link"),
        ((gone, "--reason", "  "), "--reason must say why"),
        ((gone, "--reason", "x", "--until", "2020-01-01"), "--until 2020-01-01 is in the past"),
        ((gone, "--reason", "x", "--until", "soon"), "--until 'soon' is not a date"),
    ]:
        refused = cli("--database-url", db_url, "links", "dismiss", *args)
        assert refused.exit_code == 2 and message in refused.output, refused.output

    until = (date.today() + timedelta(days=30)).isoformat()
    done = cli("--database-url", db_url, "links", "dismiss", gone, "--reason",
               "the provider retired it; replacement pending", "--until", until)
    assert done.exit_code == 0, done.output
    assert f"dismissed {gone} (broken, not_found)" in done.output
    listed = cli("--database-url", db_url, "links", "--state", "dismissed")
    assert gone in listed.output and ok not in listed.output
    assert "broken (dismissed)" in listed.output

    doc = report_json(cli, db_url, "r1")
    (link,) = doc["links"]
    assert link["url"] == gone and link["state"] == "broken"
    assert link["dismissed"]["reason"] == "the provider retired it; replacement pending"
    assert link["dismissed"]["until"] == until
    assert (doc["summary"]["broken"], doc["summary"]["dismissed"]) == (0, 1)
    assert [o for o in doc["open"] if o["url"] == gone] == []
    md = (Path("r1") / "latest.md").read_text()
    assert "### Broken links" not in md and "## Dismissed (1)" in md

    # the same result again: the dismissal holds
    assert check_links(db_url, tmp_path, env=env).returncode == 0
    assert report_json(cli, db_url, "r2")["summary"]["dismissed"] == 1

    # the result changes (404 -> 410): the link is reported again
    site.statuses["/gone"] = 410
    assert check_links(db_url, tmp_path, env=env).returncode == 0
    doc = report_json(cli, db_url, "r3")
    (link,) = doc["links"]
    assert (link["verdict"], link["dismissed"]) == ("gone", None)
    assert (doc["summary"]["broken"], doc["summary"]["dismissed"]) == (1, 0)
    assert [o["kind"] for o in doc["open"]] == ["link_broken"]

    undone = cli("--database-url", db_url, "links", "undismiss", gone)
    assert undone.exit_code == 0 and "dismissal removed" in undone.output
    again = cli("--database-url", db_url, "links", "undismiss", gone)
    assert again.exit_code == 0 and "was not dismissed" in again.output


def test_a_dismissal_lapses_after_its_date() -> None:
    link = Link(url="https://example.org/", state="unverifiable", last_verdict="blocked")
    row = LinkDismissal(reason="bot wall", at=utcnow(), until=date(2027, 1, 10),
                        state="unverifiable", verdict="blocked", redirect_target=None)
    assert holds(row, link, date(2027, 1, 10))
    assert not holds(row, link, date(2027, 1, 11))
    row.until = None
    assert holds(row, link, date(2030, 1, 1))
    link.redirect_target = "https://example.org/new"
    assert not holds(row, link, date(2027, 1, 1))
