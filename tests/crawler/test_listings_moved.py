"""End to end (a child process per crawl, a real loopback server, SQLite and PostgreSQL): an
offering whose page moved is found by its old URL's redirect (identity rung "redirect"), once the
listing is read; an old URL that answers 404 changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import ChangeEvent, Offering
from tests.conftest import run_shelfcheck

ITEM = ('<li><a href="{href}">{title}</a> <span class="when">March 9, 2027 2:00 pm</span>'
        ' <span class="fee">$40</span></li>')


class Shop(BaseHTTPRequestHandler):
    """Week 1 lists /course/metadata-for-beginners/; week 2 lists it under a new slug and title,
    the old URL redirects there, and the gone course's URL answers 404."""

    week = 1
    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _send(self, status: int, body: str = "", location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self) -> None:
        Shop.requests.append(self.path)
        if self.path == "/robots.txt":
            return self._send(200, "User-agent: *\nAllow: /\n")
        if self.path == "/shop/":
            if Shop.week == 1:
                items = [("/course/metadata-for-beginners/", "Metadata for Beginners"),
                         ("/course/rda-basics/", "RDA Basics")]
            else:
                items = [("/course/metadata-for-newcomers/", "Metadata for Newcomers")]
            body = "".join(ITEM.format(href=h, title=t) for h, t in items)
            return self._send(200, f"<html><body><ul class='courses'>{body}</ul></body></html>")
        if self.path == "/course/metadata-for-beginners/" and Shop.week == 2:
            host = self.headers["Host"]
            return self._send(301, location=f"http://{host}/course/metadata-for-newcomers/")
        if self.path.startswith("/course/") and not self.path.startswith("/course/rda"):
            return self._send(200, "<html><body><h1>Course</h1></body></html>")
        return self._send(404, "not here")


@pytest.fixture
def shop() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Shop.week, Shop.requests = 1, []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_moved_course_is_found_by_its_old_urls_redirect(shop: str, db_url: str,
                                                          tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "providers:\n  - slug: shop\n    name: Example Shop\n    recipe:\n"
        f"      listing: {shop}/shop/\n      item: ul.courses li\n      link: a\n"
        "      timezone: America/New_York\n"
        "      fields: {title: a, when: .when, fee: .fee}\n"
        "sections: []\n", encoding="utf-8")
    env = {"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true",
           "SHELFCHECK_RETRY_TIMES": "0"}
    synced = run_shelfcheck("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    for week in (1, 2):
        Shop.week = week
        Shop.requests.clear()
        result = run_shelfcheck("crawl", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    # week 2 fetched the old URLs of both vanished courses, after the listing
    assert Shop.requests.index("/shop/") < Shop.requests.index("/course/metadata-for-beginners/")
    assert "/course/rda-basics/" in Shop.requests
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            events = [(e.kind, e.detail, e.title) for e in session.scalars(
                select(ChangeEvent).order_by(ChangeEvent.id))]
            offerings = {o.title: (o.state, o.url) for o in session.scalars(select(Offering))}
    finally:
        engine.dispose()
    assert sorted(events) == [
        ("offering_removed", "no longer listed; was 2027-03-09T14:00:00-05:00", "RDA Basics"),
        ("offering_updated", "title and url", "Metadata for Newcomers")]
    assert offerings["Metadata for Newcomers"] == (
        "active", f"{shop}/course/metadata-for-newcomers/")
    assert offerings["RDA Basics"][0] == "removed"
