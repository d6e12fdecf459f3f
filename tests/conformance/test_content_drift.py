"""Content drift end to end: the baseline is taken at the first good check and kept in the
database; a page that now shows something else is `content_changed` (broken once confirmed);
noise is not; `shelfcheck links accept URL` re-baselines it and returns it to ok."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import ChangeEvent, Link
from tests.conformance.server import Answer, ConformanceServer
from tests.corpus.verdicts.platforms import SHELLS
from tests.corpus.verdicts.texts import BANNERS, TOPICS
from tests.crawler.test_linkcheck import check_links, last_checks, sync

HTML = {"Content-Type": "text/html; charset=utf-8"}


def course(topic: int, shell: str = "drupal9", noise: str = "", extra: str = "") -> Answer:
    title, _slug, sentences = TOPICS[topic]
    main = "".join(f"<p>{s}</p>" for s in sentences) + extra
    return Answer(200, HTML, SHELLS[shell]("Library Association", title, main, noise).encode())


def run(db_url: str, folder: Path) -> dict[str, Any]:
    done = check_links(db_url, folder)
    assert done.returncode in (0, 1), done.stderr
    return {url.rsplit("/", 1)[-1]: c for url, c in last_checks(db_url).items()}


def links(db_url: str) -> dict[str, Link]:
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            rows = list(session.scalars(select(Link)))
            session.expunge_all()
            return {link.url.rsplit("/", 1)[-1]: link for link in rows}
    finally:
        engine.dispose()


@pytest.mark.timeout(300)
def test_drift_is_found_noise_is_not_and_accept_rebaselines(
        db_url: str, tmp_path: Path, cli: Any) -> None:
    routes = {"/reused": [course(0)], "/noisy": [course(1, "wordpress")],
              "/stable": [course(2, "libguides")]}
    with ConformanceServer(routes) as server:
        sync(db_url, tmp_path, {"Training": [
            ("Introduction to Cataloging", server.base + "/reused"),
            ("Reference Interview Skills", server.base + "/noisy"),
            ("Library Support Staff Certification", server.base + "/stable")]})
        first = run(db_url, tmp_path)
        assert {k: c.verdict for k, c in first.items()} == {
            "reused": "ok", "noisy": "ok", "stable": "ok"}
        taken = links(db_url)
        assert all(link.content_baseline for link in taken.values())
        assert taken["reused"].content_baseline_title.startswith("Introduction to Cataloging")

        # The path now holds another course; the noisy page gets banners, a date, one more line.
        server.routes["/reused"] = [course(7)]
        noise = BANNERS[0] + BANNERS[3].format(date="March 3, 2027")
        server.routes["/noisy"] = [course(1, "wordpress", noise,
                                          "<p>Visitors this week: 1,234.</p>")]
        second = run(db_url, tmp_path)
        assert second["noisy"].verdict == "ok" and second["stable"].verdict == "ok"
        assert second["reused"].verdict == "content_changed"
        assert "Introduction to Cataloging" in second["reused"].detail
        assert "Readers' Advisory for Adults" in second["reused"].detail
        third = run(db_url, tmp_path)
        assert third["reused"].verdict == "content_changed"
        now = links(db_url)
        assert now["reused"].state == "broken"
        # The baseline was kept: a failing page never becomes the baseline.
        assert now["reused"].content_baseline == taken["reused"].content_baseline

        result = cli("--database-url", db_url, "links", "accept", server.base + "/reused")
        assert result.exit_code == 0, result.output
        assert "the link is ok again" in result.output
        accepted = links(db_url)["reused"]
        assert accepted.state == "ok"
        assert accepted.content_baseline_title.startswith("Readers' Advisory for Adults")
        engine = open_database(db_url)
        try:
            with transaction(engine) as session:
                kinds = [e.kind for e in session.scalars(
                    select(ChangeEvent).where(ChangeEvent.url == accepted.url)
                    .order_by(ChangeEvent.id))]
        finally:
            engine.dispose()
        assert kinds == ["link_broken", "link_recovered"]
        fourth = run(db_url, tmp_path)
        assert fourth["reused"].verdict == "ok"

        missing = cli("--database-url", db_url, "links", "accept", server.base + "/nowhere")
        assert missing.exit_code == 2 and "is not a link of the catalog" in missing.output
