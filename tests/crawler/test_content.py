"""The content rules one by one: decoding, bot walls, landings, stubs, moves and fingerprints."""

from __future__ import annotations

import pytest

from shelfcheck.crawler.content.classify import read_landing, read_page
from shelfcheck.crawler.content.fingerprint import Fingerprint, drift, fingerprint, text_overlap
from shelfcheck.crawler.content.hooks import is_https_upgrade, permanent_lead
from shelfcheck.crawler.content.page import parse_page
from shelfcheck.crawler.content.walls import bot_wall


def test_pages_are_decoded_by_their_declared_or_sniffed_encoding() -> None:
    latin = "<title>Página no encontrada</title>".encode("latin-1")
    assert parse_page(latin, "text/html; charset=iso-8859-1").title == "Página no encontrada"
    meta = "<meta charset='windows-1252'><title>Caf\u00e9 \u2013 ok</title>".encode("cp1252")
    assert parse_page(meta).title == "Café – ok"
    bom = "\ufeff<title>Seite nicht gefunden</title>".encode("utf-16")
    assert parse_page(bom).title == "Seite nicht gefunden"
    nbsp = parse_page(b"<h1>Page&nbsp;not&nbsp;found</h1>")
    assert read_page(nbsp, "https://x.org/a").verdict == "soft_404"  # type: ignore[union-attr]


def test_main_text_leaves_out_navigation_and_banners() -> None:
    page = parse_page(b"<body><nav>Home About Log in</nav><div class='cookie-banner'>We use "
                      b"cookies</div><main><h1>Course</h1><p>Real words here.</p></main>"
                      b"<footer>Copyright</footer></body>")
    assert page.main_text == "Course Real words here."
    assert "cookies" in page.text


@pytest.mark.parametrize(("status", "headers", "body", "wall"), [
    (403, {"cf-mitigated": "challenge"}, "", "Cloudflare"),
    (503, {"server": "cloudflare"}, "<title>Just a moment...</title>", "Cloudflare"),
    (403, {"server": "AkamaiGHost"}, "Access Denied", "Akamai"),
    (403, {"x-iinfo": "1-2-3"}, "", "Imperva"),
    (403, {}, "Incapsula incident ID: 42", "Imperva"),
    (403, {"x-datadome": "protected"}, "", "DataDome"),
    (403, {}, "<div id='px-captcha'></div>", "PerimeterX"),
    (405, {"x-amzn-waf-action": "captcha"}, "", "AWS WAF"),
    (403, {"x-sucuri-id": "1"}, "", "Sucuri"),
    (404, {"server": "cloudflare"}, "Not found", None),
    (503, {"server": "cloudflare"}, "origin down", None),
    (200, {"x-datadome": "protected"}, "<script>window._pxAppId='PX1'</script>", None),
    (403, {}, "Forbidden", None),
])
def test_bot_walls_are_named(status: int, headers: dict[str, str], body: str,
                             wall: str | None) -> None:
    assert bot_wall(status, headers.get, body) == wall


@pytest.mark.parametrize(("url", "final", "verdict"), [
    ("https://x.org/training/old", "https://x.org/", "redirect_to_home"),
    ("https://x.org/training/old", "https://www.x.org/index.html", "redirect_to_home"),
    ("https://x.org/courses/cat-101", "https://x.org/courses/", "redirect_to_home"),
    ("https://x.org/a/b", "https://x.org/en/", "redirect_to_home"),
    ("https://x.org/members/c", "https://x.org/user/login?destination=/members/c",
     "login_required"),
    ("https://x.org/db", "https://login.ezproxy.x.edu/login?url=https://db.com", "login_required"),
    ("https://x.org/programs/cas", "https://x.org/cas-studies/overview", None),
    ("https://x.org/a/b", "https://x.org/authors/smith", None),
    ("https://x.org/moved", "https://x.org/ok", None),
    ("https://x.org/guide", "https://x.org/guide/", None),
    ("https://x.org/", "https://x.org/en/", None),
    ("https://x.org/training/old", "https://x.org/learning/old", None),
    ("https://x.org/courses/a", "https://x.org/courses/a/overview", None),
])
def test_where_a_redirect_lands(url: str, final: str, verdict: str | None) -> None:
    found = read_landing(url, final)
    assert (found.verdict if found else None) == verdict


def test_redirect_stubs_are_immediate_and_short() -> None:
    stub = parse_page(b"<meta http-equiv='refresh' content='0; url=/new'><p>Moved.</p>")
    found = read_page(stub, "https://x.org/old")
    assert found is not None and found.verdict == "redirected"
    assert found.target == "https://x.org/new"
    js = parse_page(b"<script>window.location.replace('https://y.org/');</script>")
    assert read_page(js, "https://x.org/old").target == "https://y.org/"  # type: ignore[union-attr]
    slow = parse_page(b"<meta http-equiv='refresh' content='300'><p>Live scores.</p>")
    assert read_page(slow, "https://x.org/live") is None
    words = " ".join(["word"] * 200)
    long = parse_page(f"<meta http-equiv='refresh' content='0; url=/n'><p>{words}</p>".encode())
    assert read_page(long, "https://x.org/a") is None


def test_https_upgrades_are_permanent_moves() -> None:
    assert is_https_upgrade("http://x.org/a?b=1", "https://x.org/a?b=1")
    assert is_https_upgrade("http://x.org/a", "https://www.x.org/a")
    assert not is_https_upgrade("http://x.org/a", "https://x.org/b")
    chain = [{"url": "http://x.org/a", "status": 302}]
    assert permanent_lead(chain, "https://x.org/a") == (1, True)
    chain = [{"url": "http://x.org/a", "status": 301}, {"url": "https://x.org/a", "status": 302}]
    assert permanent_lead(chain, "https://x.org/b") == (1, True)
    chain = [{"url": "http://x.org/a", "status": 301}, {"url": "http://x.org/b", "status": 302}]
    assert permanent_lead(chain, "https://x.org/b") == (2, False)
    assert permanent_lead([{"url": "https://x.org/a", "status": 302}], "https://x.org/b") == \
        (0, False)


def test_fingerprints_round_trip_and_ignore_noise() -> None:
    text = ("Learn how to find out what a patron really needs, through open questions and "
            "active listening. The workshop covers chat and telephone reference. ") * 4
    base = fingerprint(parse_page(f"<title>Reference</title><p>{text}</p>".encode()))
    assert Fingerprint.load(base.title, base.dump()) == base
    later = fingerprint(parse_page(
        f"<title>Reference</title><p>Updated March 3, 2027. Visitors: 1234.</p><p>{text}</p>"
        .encode()))
    assert text_overlap(base, later) > 0.8 and drift(base, later) is None
    other = fingerprint(parse_page(b"<title>Garden furniture sale</title><p>Save on patio "
                                   b"sets, umbrellas and loungers this week only, with free "
                                   b"delivery on orders over fifty dollars.</p>"))
    why = drift(base, other)
    assert why is not None and "'Reference'" in why and "Garden furniture sale" in why
    assert drift(base, other, catalog_title="Garden furniture sale") is None


def test_the_verdict_table_of_the_docs_is_the_registry() -> None:
    from pathlib import Path

    from shelfcheck.catalog.verdicts import VERDICTS

    doc = (Path(__file__).parents[2] / "docs" / "verdicts.md").read_text(encoding="utf-8")
    table = doc.split("<!-- verdict-table")[1].split("<!-- /verdict-table -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert rows == [f"| `{v.key}` | {v.kind} | {v.message} |" for v in VERDICTS.values()]


def test_spider_hooks_read_scrapy_responses() -> None:
    from scrapy.http import HtmlResponse, Request, Response

    from shelfcheck.crawler.content.hooks import read_response, wall_of

    request = Request("https://x.org/old")
    denied = Response("https://x.org/old", status=403, request=request,
                      headers={"Server": "AkamaiGHost"}, body=b"Access Denied")
    assert wall_of(denied) == "Akamai"
    assert wall_of(Response("https://x.org/a", status=404, request=request,
                            headers={"Server": "AkamaiGHost"})) is None
    home = HtmlResponse("https://x.org/", status=200, request=request,
                        body=b"<title>Welcome</title><p>Home of the library.</p>",
                        headers={"Content-Type": "text/html; charset=utf-8"})
    judged = read_response("https://x.org/old", home, True, baseline=None, baseline_title=None,
                           catalog_title=None)
    assert judged.finding is not None and judged.finding.verdict == "redirect_to_home"
    same = read_response("https://x.org/", home, False, baseline=judged.fingerprint.dump(),
                         baseline_title=judged.fingerprint.title, catalog_title=None)
    assert same.finding is None


def test_a_listing_that_turns_over_keeps_its_title_and_is_no_drift() -> None:
    def listing(items: list[str]) -> Fingerprint:
        body = "".join(f"<li><h3>{t}</h3><p>A live session on {t.lower()} for staff, with "
                       f"questions from participants and a recording.</p></li>" for t in items)
        return fingerprint(parse_page(
            f"<title>Upcoming Webinars | WebJunction</title><main><ul>{body}</ul></main>"
            .encode()))

    before = listing(["Storytime basics", "Copyright at the desk", "Weeding with CREW"])
    after = listing(["Grant writing", "Serving teens", "Budget season", "ILS upgrades"])
    assert text_overlap(before, after) < 0.3
    assert drift(before, after) is None
