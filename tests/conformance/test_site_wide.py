"""A site that answers one page for every path: a thin page is a site-wide outage
(`maintenance`, never broken), a rich home page served for unknown paths is a soft 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.server import Answer, ConformanceServer, page
from tests.corpus.verdicts.platforms import SHELLS
from tests.corpus.verdicts.texts import TOPICS
from tests.crawler.test_linkcheck import check_links, last_checks, sync

HTML = {"Content-Type": "text/html; charset=utf-8"}
# Wording the maintenance rules do not know: only the site-wide sameness tells.
AWAY = Answer(200, HTML, b"<!doctype html><title>Library Association</title><h1>We are making "
                         b"improvements</h1><p>Please visit again on Monday.</p>")
HOME = Answer(200, HTML, SHELLS["wordpress"]("Library Association", "Library Association", "".join(
    f"<h2>{t[0]}</h2>" + "".join(f"<p>{s}</p>" for s in t[2]) for t in TOPICS[:6]), "").encode())


@pytest.mark.timeout(300)
def test_one_page_everywhere(db_url: str, tmp_path: Path) -> None:
    with ConformanceServer({}, default=AWAY) as away, \
            ConformanceServer({"/real": [Answer(200, HTML, page("Real course"))]},
                              default=HOME) as spa:
        sync(db_url, tmp_path, {"Training": [
            ("Away A", away.base + "/courses/a"), ("Away B", away.base + "/courses/b"),
            ("Gone", spa.base + "/courses/gone"), ("Real", spa.base + "/real")]})
        done = check_links(db_url, tmp_path)
        assert done.returncode in (0, 1), done.stderr
        checks = last_checks(db_url)
        homes = [t for _m, t in away.seen if t == "/"]
    got = {url.split("/", 3)[-1]: (c.verdict, c.detail) for url, c in checks.items()}
    assert got["courses/a"][0] == "maintenance" and "site-wide" in (got["courses/a"][1] or "")
    assert got["courses/b"][0] == "maintenance"
    assert got["courses/gone"][0] == "soft_404"
    assert got["real"][0] == "ok"
    assert len(homes) == 1  # one home-page request per host and run
