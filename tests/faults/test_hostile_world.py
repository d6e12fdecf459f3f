"""Hostile servers: one catalog whose links and provider listings all point at hostile hosts
(tests/faults/hostile.py), plus one healthy host. `check-links` and `crawl` must end in bounded
time with the right verdict for every case, never stop, and serve the healthy host at once;
then the report and every export must keep the web's hostile text inert.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import icalendar
import lxml.etree
import lxml.html
import pytest

from shelfcheck.catalog.verdicts import UNVERIFIABLE
from tests.faults.hostile import (
    LONG_SEGMENT,
    XSS_CDATA,
    XSS_FORMULA,
    XSS_HEADING,
    XSS_TITLE,
)
from tests.faults.world import (
    FAST,
    HostileServer,
    check_integrity,
    clean_env,
    measure,
    provider_recipe,
    query,
    run,
    write_catalog,
)

LONG_URL_PATH = "/long/" + "a" * 1900  # under the catalog's 2,000-character limit
HEALTHY_PATHS = ["/ok", "/page/1", "/page/2", "/page/3", "/page/4"]
FAILING = {"timeout", "connection_error", "redirect_loop", "invalid_url", "dns_error"}
# Every hostile host's first timeout comes after download_timeout (2 s): the healthy host must
# be done well before, while the hostile ones still hang.
PROMPT_SECONDS = 3.0


def link_cases(srv: HostileServer) -> dict[str, tuple[str, set[str]]]:
    """Resource title -> (URL, the verdicts that are right for it)."""
    u = srv.url
    return {
        # RFC 9309: its robots.txt times out too, so the host is disallowed: unverifiable.
        "accepts, never answers": (u("silent", "/x"), {"robots_unreachable"}),
        "drips a byte a second": (u("drip", "/x"), {"timeout"}),
        "resets mid-body": (u("reset", "/x"), {"connection_error"}),
        "gzip bomb": (u("gzip", "/x"), {"ok"}),
        "50 MB page": (u("huge", "/x"), {"ok"}),
        "50 MB page without a length": (u("huge", "/chunked"), {"ok"}),
        "redirect loop": (u("redirect", "/loop-a"), {"redirect_loop"}),
        "redirect to file:": (u("redirect", "/to-file"), {"invalid_url"}),
        "redirect to ftp:": (u("redirect", "/to-ftp"), {"invalid_url"}),
        "redirect to javascript:": (u("redirect", "/to-js"), {"invalid_url"}),
        "redirect to a hostile URL": (u("redirect", "/moved-xss"), {"redirected"}),
        "invalid UTF-8": (u("charset", "/bad-utf8"), {"ok"}),
        "charset declared wrong": (u("charset", "/wrong-charset"), {"ok"}),
        "malformed HTML": (u("html", "/malformed"), {"ok"}),
        "deeply nested HTML": (u("html", "/nested"), {"ok"}),
        "percent-encoded URL": (u("healthy", "/caf%C3%A9/%7Euser/na%C3%AFve?q=a%20b"), {"ok"}),
        "very long URL": (u("healthy", LONG_URL_PATH), {"ok"}),
        # No DNS in the test sandbox: the IDN name is normalized and fails fast and cleanly
        # (tests/faults/test_guard_netns.py resolves one).
        "IDN host": ("http://bücher.example/kurs", {"dns_error"}),
    }


UNREACHABLE = {  # provider -> (host, listing path): listings that cannot be read in bounds
    "p-silent": ("silent", "/listing"), "p-drip": ("drip", "/listing"),
    "p-reset": ("reset", "/listing"), "p-gzip": ("gzip", "/listing"),
    "p-huge": ("huge", "/listing"), "p-chunked": ("huge", "/chunked"),
    "p-loop": ("redirect", "/loop-a"), "p-file": ("redirect", "/to-file"),
    "p-ftp": ("redirect", "/to-ftp"), "p-js": ("redirect", "/to-js"),
}
READABLE = {  # provider -> (host, listing path, offerings expected)
    "p-healthy": ("healthy", "/listing", 3),
    "p-badutf8": ("charset", "/bad-utf8", 2),
    "p-charset": ("charset", "/wrong-charset", 2),
    "p-malformed": ("html", "/malformed", 3),
    "p-nested": ("html", "/nested", 2),
    "p-dupes": ("dupes", "/listing", 3),
    "p-idn": ("idn", "/listing", 6),
    "p-absurd": ("absurd", "/listing", 10),
    "p-xss": ("xss", "/listing", 5),
    "p-big": ("big", "/listing?n=600", 600),
}


class Problems(list[str]):
    """Soft assertions: every broken case is listed at once."""

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.append(message)

    def assert_none(self, what: str) -> None:
        assert not self, f"{what}:\n  " + "\n  ".join(self)


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostileServer]:
    with HostileServer(tmp_path / "world") as server:
        yield server


def healthy_delay(srv: HostileServer, skip: int = 0, host: str = "healthy") -> float:
    """Seconds from the first request of a run (log entries after `skip`) to the end of the
    healthy host's last request."""
    log = srv.requests()[skip:]
    first = min(entry["t"] for entry in log)
    ends = [entry["end"] for entry in log if entry["host"] == host and "end" in entry]
    assert ends, f"the {host} host was never served"
    return max(ends) - first


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param(
    "postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])], indirect=True)
def test_hostile_world(db_url: str, hostile: HostileServer, tmp_path: Path) -> None:
    srv = hostile
    cases = link_cases(srv)
    resources = [(title, url) for title, (url, _ok) in cases.items()]
    resources += [(f"healthy {path}", srv.url("healthy", path)) for path in HEALTHY_PATHS]
    providers: dict[str, dict[str, Any] | None] = {
        slug: provider_recipe(srv.url(host, path)) for slug, (host, path) in UNREACHABLE.items()}
    providers.update({slug: provider_recipe(srv.url(host, path))
                      for slug, (host, path, _n) in READABLE.items()})
    catalog = write_catalog(tmp_path / "catalog.yaml", resources, providers)
    env = clean_env(**FAST, SHELFCHECK_DATABASE_URL=db_url,
                    SHELFCHECK_CATALOG_FILE=str(catalog))
    synced, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr

    checked, link_seconds = run("check-links", cwd=tmp_path, env=env, timeout=90)
    link_prompt = healthy_delay(srv)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert_link_verdicts(db_url, cases, srv)
    assert link_seconds < 60, f"check-links took {link_seconds:.1f} s"
    assert link_prompt < PROMPT_SECONDS, f"the healthy host was done after {link_prompt:.1f} s"

    skip = len(srv.requests())
    crawled, crawl_seconds = run("crawl", cwd=tmp_path, env=env, timeout=120)
    crawl_prompt = healthy_delay(srv, skip)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    assert "Traceback" not in crawled.stderr, crawled.stderr
    assert_listing_outcomes(db_url)
    assert crawl_seconds < 90, f"crawl took {crawl_seconds:.1f} s"
    assert crawl_prompt < PROMPT_SECONDS, f"the healthy listing was done after {crawl_prompt:.1f} s"
    assert_absurd_values(db_url)

    turned = hostile_provider_keeps_offerings(db_url, srv, tmp_path, env)
    write_report_and_exports(tmp_path, env)
    assert_outputs_inert(tmp_path)
    integrity = check_integrity(db_url)
    assert not integrity.problems, integrity.problems
    measure("hostile world", db=db_url.split(":")[0], link_cases=len(cases),
            links=len(resources), check_links_s=round(link_seconds, 1),
            healthy_links_done_s=round(link_prompt, 2), providers=len(providers),
            crawl_s=round(crawl_seconds, 1), healthy_listing_done_s=round(crawl_prompt, 2),
            turned_hostile_s=round(turned, 1), counts=integrity.counts)


def assert_link_verdicts(db_url: str, cases: dict[str, tuple[str, set[str]]],
                         srv: HostileServer) -> None:
    rows = query(db_url, """
        SELECT r.title, l.state, c.verdict, c.detail, l.url, l.redirect_target
        FROM resource r JOIN link l ON l.id = r.link_id JOIN link_check c ON c.link_id = l.id""")
    found = {title: row for title, *row in rows}
    problems = Problems()
    for title, (_url, verdicts) in cases.items():
        state, verdict, detail, _stored, _target = found[title]
        problems.check(verdict in verdicts, f"{title}: verdict {verdict} ({detail}), "
                                            f"expected {sorted(verdicts)}")
        expected_state = ("broken" if verdict in FAILING else
                          "redirected" if verdict == "redirected" else
                          "unverifiable" if verdict in UNVERIFIABLE else "ok")
        problems.check(state == expected_state, f"{title}: state {state}")
    for path in HEALTHY_PATHS:
        problems.check(found[f"healthy {path}"][0] == "ok",
                       f"healthy {path}: {found[f'healthy {path}']}")
    problems.check("xn--bcher-kva.example" in found["IDN host"][3], "IDN host not punycoded")
    problems.check(found["very long URL"][3].endswith(LONG_URL_PATH), "long URL was changed")
    target = found["redirect to a hostile URL"][4] or ""
    problems.check("<" not in target and '"' not in target,
                   f"the redirect target is stored unescaped: {target!r}")
    problems.assert_none("link verdicts")


def assert_listing_outcomes(db_url: str) -> None:
    raw = query(db_url, "SELECT stats FROM crawl_run WHERE kind = 'listings' "
                        "ORDER BY id DESC LIMIT 1")[0][0]
    stats = raw if isinstance(raw, dict) else json.loads(raw)
    counts = dict(query(db_url, """
        SELECT p.slug, count(o.id) FROM provider p LEFT JOIN offering o ON o.provider_id = p.id
        GROUP BY p.slug"""))
    unreachable = {slug for (slug,) in query(db_url, """
        SELECT p.slug FROM change_event e JOIN provider p ON p.id = e.provider_id
        WHERE e.kind = 'provider_unreachable'""")}
    problems = Problems()
    for slug in UNREACHABLE:
        info = stats["providers"][slug]
        problems.check(info["status"] == "unreachable", f"{slug}: {info['status']}")
        problems.check(slug in unreachable, f"{slug}: no provider_unreachable event")
        problems.check(counts[slug] == 0, f"{slug}: {counts[slug]} offerings")
    for slug, (_host, _path, expected) in READABLE.items():
        info = stats["providers"][slug]
        problems.check(info["status"] == "baseline", f"{slug}: {info['status']} {info}")
        problems.check(counts[slug] == expected, f"{slug}: {counts[slug]} offerings, "
                                                 f"expected {expected}")
    reasons = {slug: stats["providers"][slug]["failures"][0]["reason"]
               for slug in ("p-gzip", "p-huge", "p-chunked")}
    for slug, reason in reasons.items():
        problems.check("size" in reason.lower() or "larger" in reason.lower(),
                       f"{slug}: the failure does not name the size bound: {reason}")
    titles = {t for (t,) in query(db_url, "SELECT o.title FROM offering o JOIN provider p "
                                          "ON p.id = o.provider_id WHERE p.slug = 'p-nested'")}
    problems.check(titles == {"Shallow course", "Deep course"}, f"p-nested: {titles}")
    urls = [u for (u,) in query(db_url, "SELECT o.url FROM offering o JOIN provider p "
                                        "ON p.id = o.provider_id WHERE p.slug = 'p-idn'")]
    problems.check(sum("xn--bcher-kva.example" in u for u in urls) == 2, f"p-idn: {urls}")
    problems.check(any("caf%C3%A9" in u for u in urls), f"p-idn: {urls}")
    problems.check(any(LONG_SEGMENT in u for u in urls), "p-idn: the long URL is missing")
    problems.assert_none("listing outcomes")


def assert_absurd_values(db_url: str) -> None:
    rows = query(db_url, """
        SELECT o.title, o.fee_known, o.fee_raw, o.start_at, o.start_raw, o.warnings,
               (SELECT count(*) FROM fee_tier t WHERE t.offering_id = o.id)
        FROM offering o JOIN provider p ON p.id = o.provider_id WHERE p.slug = 'p-absurd'""")
    by_title = {r[0]: r[1:] for r in rows}
    problems = Problems()
    for title, raw in (("Negative fee course", "-$5.00"), ("Negative fee course two", "$-5"),
                       ("Trillion fee course", "$1,000,000,000,000"),
                       ("Trillion plain course", "$1000000000000"),
                       ("Bad grouping course", "$1,00.0"), ("JSON-LD year one", "-5"),
                       ("JSON-LD year 9999", "1e12")):
        known, fee_raw, _start, _start_raw, warnings, tiers = by_title[title]
        problems.check(not known and tiers == 0, f"{title}: a fee was guessed ({tiers} tiers)")
        problems.check(fee_raw == raw, f"{title}: fee_raw {fee_raw!r}, expected {raw!r}")
        problems.check("fields.fee" in str(warnings), f"{title}: no warning: {warnings}")
    for title, year in (("Year one course", "0001"), ("Year 9999 course", "9999"),
                        ("JSON-LD year one", "0001"), ("JSON-LD year 9999", "9999")):
        _known, _fee, start, start_raw, warnings, _tiers = by_title[title]
        problems.check(start is None, f"{title}: a start was guessed: {start}")
        problems.check(year in (start_raw or ""), f"{title}: start_raw {start_raw!r}")
        problems.check("fields.start" in str(warnings), f"{title}: no warning: {warnings}")
    known, _fee, start, *_rest = by_title["Sane course"]
    problems.check(bool(known) and start is not None, "the sane course lost its values")
    problems.assert_none("absurd fees and dates")


def hostile_provider_keeps_offerings(db_url: str, srv: HostileServer, tmp_path: Path,
                                     env: dict[str, str]) -> float:
    """p-healthy's listing turns hostile (resets), then turns into the hostile-text listing."""
    before = query(db_url, "SELECT o.key, o.state FROM offering o JOIN provider p "
                           "ON p.id = o.provider_id WHERE p.slug = 'p-healthy' ORDER BY o.key")
    to_reset = {**env, "SHELFCHECK_HOST_MAP": f"{srv.hosts['healthy']}={srv.hosts['reset']}"}
    result, seconds = run("crawl", "p-healthy", cwd=tmp_path, env=to_reset)
    assert result.returncode == 3, result.stdout + result.stderr  # inconclusive: unreachable
    after = query(db_url, "SELECT o.key, o.state FROM offering o JOIN provider p "
                          "ON p.id = o.provider_id WHERE p.slug = 'p-healthy' ORDER BY o.key")
    assert after == before, "an unreachable listing changed offerings"
    assert not query(db_url, "SELECT id FROM change_event WHERE kind = 'offering_removed'")
    to_xss = {**env, "SHELFCHECK_HOST_MAP": f"{srv.hosts['healthy']}/listing="
                                            f"{srv.hosts['xss']}/listing"}
    result, _ = run("crawl", "p-healthy", cwd=tmp_path, env=to_xss)
    assert result.returncode == 0, result.stdout + result.stderr
    added = query(db_url, "SELECT title FROM change_event WHERE kind = 'offering_added'")
    assert XSS_TITLE in {t for (t,) in added}, added
    return seconds


EXPORTS = ("json", "csv", "ics", "atom", "html", "jsonld")


def write_report_and_exports(tmp_path: Path, env: dict[str, str]) -> None:
    """The main job writes the report (due: none was written yet) and every export."""
    result, _ = run("refresh", "--skip-links", "--skip-listings", cwd=tmp_path, env={
        **env, "SHELFCHECK_REPORTS_DIR": str(tmp_path / "out-report"),
        "SHELFCHECK_EXPORTS": ",".join(EXPORTS),
        "SHELFCHECK_EXPORTS_DIR": str(tmp_path / "out-exports")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "report: ok" in result.stdout and "exports: ok" in result.stdout, result.stdout


def _html_problems(name: str, text: str) -> list[str]:
    doc = lxml.html.fromstring(text)
    problems = []
    for script in doc.iter("script"):
        if script.get("type") != "application/ld+json":
            problems.append(f"{name}: a <script> element: {lxml.html.tostring(script)[:80]!r}")
        elif "<" in (script.text or ""):
            problems.append(f"{name}: '<' inside embedded JSON-LD")
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute, value in element.attrib.items():
            if attribute.lower().startswith("on"):
                problems.append(f"{name}: <{element.tag} {attribute}=...>")
            if attribute in ("href", "src") and not re.match(r"(https?:|mailto:|#|$)", value):
                problems.append(f"{name}: <{element.tag} {attribute}={value[:60]!r}>")
    if "alert('title')" not in doc.text_content():
        problems.append(f"{name}: the hostile title is missing (nothing was tested)")
    return problems


def strings(data: Any) -> set[str]:
    """Every string value in a JSON document."""
    if isinstance(data, str):
        return {data}
    values = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return set().union(*(strings(v) for v in values)) if values else set()


def assert_outputs_inert(tmp_path: Path) -> None:
    report, exports = tmp_path / "out-report", tmp_path / "out-exports"
    problems = Problems()
    # HTML: no element or attribute came from the web, only text.
    for path in (report / "latest.html", exports / "guide.html"):
        problems.extend(_html_problems(path.name, path.read_text(encoding="utf-8")))
    # Markdown: no title starts a heading or an HTML tag.
    markdown = (report / "latest.md").read_text(encoding="utf-8")
    problems.check("<script>" not in markdown, "md: raw <script>")
    problems.check(not re.search(r"^#\s*Heading", markdown, re.M), "md: an injected heading")
    problems.check("alert('title')" in markdown, "md: the hostile title is missing")
    # JSON: parses, keeps the text, holds no raw '<'.
    for path in (report / "latest.json", exports / "guide.jsonld"):
        raw = path.read_text(encoding="utf-8")
        problems.check("<" not in raw, f"{path.name}: a raw '<'")
        problems.check(XSS_TITLE in strings(json.loads(raw)),
                       f"{path.name}: the hostile title did not survive a round trip")
    catalog = json.loads((exports / "catalog.json").read_text(encoding="utf-8"))
    problems.check(XSS_TITLE in strings(catalog), "catalog.json: the hostile title is missing")
    # CSV: a spreadsheet runs no formula.
    for path in (report / "latest.csv", exports / "offerings.csv", exports / "resources.csv"):
        cells = [c for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
                 for c in row]
        bad = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        problems.check(not bad, f"{path.name}: formula cells {bad[:3]}")
    offerings_csv = (exports / "offerings.csv").read_text(encoding="utf-8")
    problems.check("'" + XSS_FORMULA.replace('"', '""') in offerings_csv,
                   "offerings.csv: the formula title is missing or not made inert")
    # iCalendar: a title cannot start a property or an event.
    ics = (exports / "offerings.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    problems.check(len(events) == len(re.findall(rb"^BEGIN:VEVENT", ics, re.M)),
                   "ics: an injected BEGIN:VEVENT")
    problems.check(not re.search(rb"^SUMMARY:injected", ics, re.M), "ics: an injected SUMMARY")
    problems.check(any("BEGIN:VEVENT" in str(e.get("SUMMARY")) for e in events),
                   "ics: the hostile title is missing")
    # Atom: well-formed XML; entry HTML as inert as the report's.
    atom = (exports / "changes.atom").read_bytes()
    lxml.etree.fromstring(atom)
    feed = feedparser.parse(atom)
    problems.check(not feed.bozo, f"atom: not well-formed: {feed.get('bozo_exception')}")
    problems.check(any(XSS_CDATA in entry.title for entry in feed.entries),
                   "atom: the hostile title is missing")
    content = "".join(c.value for e in feed.entries for c in e.get("content", []))
    problems.extend(_html_problems("changes.atom content", f"<div>{content}</div>"))
    problems.check(XSS_HEADING.split("\r\n")[0] in markdown, "md: heading title missing")
    problems.assert_none("web text in reports and exports")


@pytest.mark.slow
def test_listing_with_10000_items(hostile: HostileServer, tmp_path: Path) -> None:
    """10,000 items on one listing page: all stored, in bounded time, while the healthy
    provider's listing is fetched at once (extraction runs off the reactor thread)."""
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    providers: dict[str, dict[str, Any] | None] = {
        "p-big": provider_recipe(hostile.url("big", "/listing?n=10000")),
        "p-healthy": provider_recipe(hostile.url("healthy", "/listing")),
        "p-silent": provider_recipe(hostile.url("silent", "/listing")),
    }
    catalog = write_catalog(tmp_path / "catalog.yaml", [], providers)
    env = clean_env(**FAST, SHELFCHECK_DATABASE_URL=db_url)
    synced, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr
    crawled, seconds = run("crawl", cwd=tmp_path, env=env, timeout=170)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    prompt = healthy_delay(hostile)
    counts = dict(query(db_url, "SELECT p.slug, count(o.id) FROM provider p LEFT JOIN offering o "
                                "ON o.provider_id = p.id GROUP BY p.slug"))
    assert counts["p-big"] == 10_000 and counts["p-healthy"] == 3, counts
    assert prompt < PROMPT_SECONDS, f"the healthy listing was done after {prompt:.1f} s"
    assert seconds < 160, f"the crawl took {seconds:.0f} s"
    measure("listing with 10,000 items", crawl_s=round(seconds, 1),
            healthy_listing_done_s=round(prompt, 2), offerings=counts["p-big"])
