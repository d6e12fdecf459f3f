"""Link health end to end: `shelfcheck check-links` child processes against the loopback world.

Each crawl runs in its own process (`run_shelfcheck`), since Twisted's reactor starts once per
process. The world (tests/mockserver) serves HTTP and HTTPS on several ports of 127.0.0.1, each
port a "host", and logs every request with the number in flight on its host.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, LinkCheck
from shelfcheck.catalog.sync import sync_catalog
from shelfcheck.catalog.verdicts import FAILING
from tests.conftest import run_shelfcheck
from tests.mockserver import MockServer


@pytest.fixture
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    """A fresh world per test: its per-path counters (flaky, Retry-After) start at zero."""
    with MockServer(tmp_path_factory.mktemp("world")) as server:
        yield server


def sync(db_url: str, folder: Path, sections: dict[str, list[tuple[str, str | None]]]) -> None:
    """Load a catalog of {section: [(title, url)]} into the database."""
    data = {
        "schema": "shelfcheck.catalogfile/1",
        "providers": [{"slug": "world", "name": "The test world", "home": "http://example.invalid/"}],
        "sections": [
            {"name": name, "resources": [
                {"title": title, "url": url, "provider": "world", "description": title}
                for title, url in items
            ]}
            for name, items in sections.items()
        ],
    }
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            sync_catalog(session, load_catalog(str(path)))
    finally:
        engine.dispose()


def check_links(db_url: str, cwd: Path, *args: str, env: dict[str, str] | None = None,
                private: bool = True) -> Any:
    full = {"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_DOWNLOAD_TIMEOUT": "1",
            "SHELFCHECK_RETRY_BACKOFF": "0.3", "SHELFCHECK_RETRY_TIMES": "2"}
    if private:
        full["SHELFCHECK_ALLOW_PRIVATE_ADDRESSES"] = "true"
    full.update(env or {})
    return run_shelfcheck("check-links", *args, cwd=cwd, env=full)


def checks_of(engine: Engine, run_id: int) -> dict[str, LinkCheck]:
    with transaction(engine) as session:
        rows = session.execute(
            select(LinkCheck, Link.url).join(Link).where(LinkCheck.run_id == run_id)
        ).all()
        return {url: check for check, url in rows}


def last_checks(db_url: str) -> dict[str, LinkCheck]:
    """The checks of the newest run, by URL."""
    engine = open_database(db_url)
    try:
        return checks_of(engine, last_run(engine).id)
    finally:
        engine.dispose()


def last_run(engine: Engine) -> CrawlRun:
    with transaction(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.kind == "links")
                              .order_by(CrawlRun.id.desc())).first()
        assert run is not None
        return run


def links_by_url(engine: Engine) -> dict[str, Link]:
    with transaction(engine) as session:
        return {link.url: link for link in session.scalars(select(Link))}


def events(engine: Engine, run_id: int) -> list[ChangeEvent]:
    with transaction(engine) as session:
        return list(session.scalars(select(ChangeEvent).where(ChangeEvent.run_id == run_id)
                                    .order_by(ChangeEvent.id)))


def test_every_verdict_politeness_and_confirmation(
    world: MockServer, db_url: str, tmp_path: Path
) -> None:
    w = world.url
    expected = {
        w("main", "/ok"): ("ok", 200),
        w("main", "/etag"): ("ok", 200),
        w("main", "/temp"): ("ok", 200),
        w("main", "/moved"): ("redirected", 200),
        w("main", "/moved308"): ("redirected", 200),
        w("main", "/chain"): ("redirected", 200),
        w("main", "/not-found"): ("not_found", 404),
        w("main", "/gone"): ("gone", 410),
        w("main", "/error"): ("server_error", 500),
        w("main", "/flaky"): ("ok", 200),
        w("slow", "/slow"): ("timeout", None),
        w("main", "/reset"): ("connection_error", None),
        w("main", "/forbidden"): ("blocked", 403),
        w("main", "/linkedin"): ("blocked", 999),
        w("main", "/challenge"): ("blocked", 403),
        w("main", "/private/page"): ("blocked", None),
        w("main", "/rate-then-ok"): ("ok", 200),
        w("main", "/rate-always"): ("rate_limited", 429),
        w("main", "/rate-long"): ("rate_limited", 429),
        w("main", "/soft-phrase"): ("soft_404", 200),
        w("main", "/loop-a"): ("redirect_loop", 302),
        w("main", "/hop/1"): ("redirect_loop", 302),
        w("main", "/files/report.pdf"): ("ok", 200),
        w("soft", "/real"): ("ok", 200),
        w("soft", "/retired-course"): ("soft_404", 200),
        w("home", "/courses"): ("ok", 200),
        w("home", "/old-course"): ("redirect_to_home", 200),
        w("crawl", "/a"): ("ok", 200),
        w("crawl", "/b"): ("ok", 200),
        w("tls", "/secure"): ("ok", 200),
        w("tls-expired", "/"): ("tls_error", None),
        w("tls-wrongname", "/"): ("tls_error", None),
        w("tls-untrusted", "/"): ("tls_error", None),
        # RFC 9309: robots.txt unreachable (connection refused) -> nothing fetched, unverifiable.
        world.info["closed"] + "/": ("robots_unreachable", None),
        "http://no-such-host.invalid/page": ("dns_error", None),
        **{w("main", f"/busy/{i}"): ("ok", 200) for i in range(8)},
    }
    items = [(f"Link {i}", url) for i, url in enumerate(expected)]
    items += [("No address", None)]
    sync(db_url, tmp_path, {"Everything": items,
                            "Elsewhere": [("Gone again", w("main", "/gone"))]})
    env = {"SSL_CERT_FILE": world.ca}

    first = check_links(db_url, tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "checked 43/43 links" in first.stderr
    assert "Links that are not ok:" in first.stdout
    assert "1 resource has no URL (no_url)" in first.stdout
    engine = open_database(db_url)
    try:
        run1 = last_run(engine)
        assert run1.outcome == "ok"
        checks = checks_of(engine, run1.id)
        assert len(checks) == 43  # one check per link, the shared link once
        got = {url: (checks[url].verdict, checks[url].http_status) for url in expected}
        assert got == expected

        pdf = checks[w("main", "/files/report.pdf")]
        assert pdf.method == "HEAD,GET" and "HEAD answered 405" in (pdf.detail or "")
        chain = checks[w("main", "/chain")]
        assert chain.final_url == w("main", "/chain2")  # the permanent hop's target
        assert [hop["status"] for hop in chain.redirect_chain or []] == [301, 302]
        assert checks[w("main", "/temp")].redirect_chain == [
            {"url": w("main", "/temp"), "status": 302}]
        assert checks[w("main", "/moved")].final_url == w("main", "/ok")
        assert "robots.txt" in (checks[w("main", "/private/page")].detail or "")
        assert "Retry-After" in (checks[w("main", "/rate-then-ok")].detail or "")
        assert "beyond the cap" in (checks[w("main", "/rate-long")].detail or "")
        assert "more than 10 redirects" in (checks[w("main", "/hop/1")].detail or "")
        assert checks[w("tls-expired", "/")].detail == "certificate has expired"
        assert "another name" in (checks[w("tls-wrongname", "/")].detail or "")
        assert "not trusted" in (checks[w("tls-untrusted", "/")].detail or "")
        assert "bot challenge" in (checks[w("main", "/challenge")].detail or "")

        log = world.requests()
        by_path: dict[str, list[dict[str, Any]]] = {}
        for entry in log:
            by_path.setdefault(f"{entry['host']}{entry['path']}", []).append(entry)
        # Politeness: never more than 2 in flight per host, and the busy host used both.
        peaks: dict[str, int] = {}
        for entry in log:
            peaks[entry["host"]] = max(peaks.get(entry["host"], 0), entry["in_flight"])
        assert max(peaks.values()) <= 2, peaks
        assert peaks["main"] == 2
        assert all(e["headers"]["user-agent"].startswith("shelfcheck/") for e in log)
        assert not any(e["path"] == "/private/page" for e in log)
        # Retry-After: 1 s honoured; the flaky 503 healed on its third try; the slow page retried.
        rate = by_path["main/rate-then-ok"]
        assert len(rate) == 2 and rate[1]["t"] - rate[0]["t"] >= 0.95
        assert len(by_path["main/flaky"]) == 3
        assert len(by_path["slow/slow"]) == 3
        assert len(by_path["main/error"]) == 3
        # Crawl-delay: 1 s between requests to the polite host.
        polite = sorted(e["t"] for e in log if e["host"] == "crawl" and e["path"] != "/robots.txt")
        assert len(polite) >= 3
        assert all(b - a >= 0.9 for a, b in itertools.pairwise(polite))
        # HEAD was tried first for the file, GET for pages.
        assert [e["method"] for e in by_path["main/files/report.pdf"]] == ["HEAD", "GET"]
        assert by_path["main/ok"][0]["method"] == "GET"

        links = links_by_url(engine)
        # One failing check is not enough (confirm_after = 2): nothing is broken yet.
        assert links[w("main", "/gone")].state == "unknown"
        assert links[w("main", "/gone")].consecutive_failures == 1
        assert links[w("main", "/ok")].state == "ok"
        assert links[w("main", "/etag")].etag == '"v1"'
        assert links[w("main", "/forbidden")].state == "unverifiable"
        assert links[w("main", "/moved")].state == "redirected"
        kinds1 = [(e.kind, e.url) for e in events(engine, run1.id)]
        assert ("link_redirected", w("main", "/moved")) in kinds1
        assert ("link_unverifiable", w("main", "/forbidden")) in kinds1
        assert not any(kind == "link_broken" for kind, _url in kinds1)
        moved = next(e for e in events(engine, run1.id) if e.url == w("main", "/moved"))
        assert moved.new == w("main", "/ok") and moved.old == w("main", "/moved")

        mark = len(world.requests())
        second = check_links(db_url, tmp_path, "--fail-on", "broken", env=env)
        assert second.returncode == 1, second.stderr
        run2 = last_run(engine)
        checks2 = checks_of(engine, run2.id)
        assert checks2[w("main", "/etag")].http_status == 304
        assert checks2[w("main", "/etag")].verdict == "ok"
        etag_requests = [e for e in world.requests()[mark:] if e["path"] == "/etag"]
        assert etag_requests[0]["headers"]["if-none-match"] == '"v1"'
        links = links_by_url(engine)
        gone = links[w("main", "/gone")]
        assert gone.state == "broken" and gone.consecutive_failures == 2
        assert gone.first_failed_at is not None and gone.first_failed_at < gone.last_checked_at
        assert links[w("main", "/rate-always")].state == "unverifiable"
        ev2 = events(engine, run2.id)
        broken = {e.url: e for e in ev2 if e.kind == "link_broken"}
        assert set(broken) == {url for url, (verdict, _s) in expected.items()
                               if verdict in FAILING}
        shared = broken[w("main", "/gone")]
        assert shared.verdict == "gone" and shared.http_status == 410
        assert sorted(shared.resources or []) == ["Gone again", "Link 7"]
        assert sorted(shared.sections or []) == ["Elsewhere", "Everything"]
        # A state that does not change writes no new event.
        assert not any(e.kind in ("link_redirected", "link_unverifiable") for e in ev2)
    finally:
        engine.dispose()


def test_recovery_and_transitions(world: MockServer, db_url: str, tmp_path: Path) -> None:
    flip, stuck = "/switch-recover", "/switch-blocked"
    world.set_status(flip, 404)
    world.set_status(stuck, 200)
    sync(db_url, tmp_path, {"S": [("Flip", world.url("main", flip)),
                                  ("Stuck", world.url("main", stuck))]})
    env = {"SHELFCHECK_CONFIRM_AFTER": "1"}
    assert check_links(db_url, tmp_path, env=env).returncode == 0
    engine = open_database(db_url)
    try:
        run1 = last_run(engine)
        assert [(e.kind, e.verdict) for e in events(engine, run1.id)] == [
            ("link_broken", "not_found")]
        world.set_status(flip, 200)
        world.set_status(stuck, 403)
        result = check_links(db_url, tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        run2 = last_run(engine)
        got = {(e.kind, e.url) for e in events(engine, run2.id)}
        assert got == {("link_recovered", world.url("main", flip)),
                       ("link_unverifiable", world.url("main", stuck))}
        links = links_by_url(engine)
        assert links[world.url("main", flip)].state == "ok"
        assert links[world.url("main", flip)].consecutive_failures == 0
        assert links[world.url("main", flip)].first_failed_at is None
        listing = run_shelfcheck("links", "--state", "unverifiable", cwd=tmp_path,
                                 env={"SHELFCHECK_DATABASE_URL": db_url})
        assert listing.returncode == 0
        assert "Stuck" in listing.stdout and "Flip" not in listing.stdout
        assert "S" in listing.stdout.split()
    finally:
        engine.dispose()


def test_outage_guard_keeps_states(db_url: str, tmp_path: Path) -> None:
    urls = [f"https://provider{i}.invalid/course" for i in range(5)]
    sync(db_url, tmp_path, {"S": [(f"R{i}", url) for i, url in enumerate(urls)]})
    result = check_links(db_url, tmp_path, private=False)
    assert result.returncode == 3, result.stderr
    assert "INCONCLUSIVE" in result.stdout
    assert "5 of 5 hosts failed with DNS or connection errors" in result.stdout
    assert "no link was marked broken" in result.stdout
    engine = open_database(db_url)
    try:
        run = last_run(engine)
        assert run.outcome == "inconclusive"
        assert {c.verdict for c in checks_of(engine, run.id).values()} == {"dns_error"}
        assert [e.kind for e in events(engine, run.id)] == ["run_inconclusive"]
        for link in links_by_url(engine).values():
            assert (link.state, link.consecutive_failures, link.last_checked_at) == (
                "unknown", 0, None)
    finally:
        engine.dispose()


def test_private_addresses_refused_and_canary(world: MockServer, tmp_path: Path,
                                               sqlite_template: Path) -> None:
    import shutil

    db = tmp_path / "c.db"
    shutil.copy(sqlite_template, db)
    db_url = f"sqlite:///{db}"
    port = world.url("main", "/").split(":")[2].rstrip("/")
    urls = [world.url("main", "/ok"), f"http://localhost:{port}/ok"]
    sync(db_url, tmp_path, {"S": [("Loopback", urls[0]), ("By name", urls[1])]})
    mark = len(world.requests())
    result = check_links(db_url, tmp_path, private=False)
    assert result.returncode == 0, result.stderr
    engine = open_database(db_url)
    try:
        checks = checks_of(engine, last_run(engine).id)
        for url in urls:
            assert checks[url].verdict == "blocked"
            assert "address 127.0.0.1 is loopback" in (checks[url].detail or "")
        # Refused at connect: not one request (not even robots.txt) reached the server.
        assert world.requests()[mark:] == []

        canary = run_shelfcheck(
            "check-links", cwd=tmp_path,
            env={"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "1",
                 "SHELFCHECK_CANARY_URL": world.url("main", "/not-found")})
        assert canary.returncode == 3, canary.stderr
        assert "the canary URL failed" in canary.stdout
        assert last_run(engine).outcome == "inconclusive"
    finally:
        engine.dispose()


def test_usage_errors(cli: Any, db_url: str, tmp_path: Path) -> None:
    sync(db_url, tmp_path, {"S": [("A", "https://example.invalid/a")]})
    bad_provider = cli("--database-url", db_url, "check-links", "--provider", "nope")
    assert bad_provider.exit_code == 2
    assert "no provider 'nope'" in bad_provider.output
    bad_url = cli("--database-url", db_url, "check-links", "--url", "https://elsewhere.invalid/")
    assert bad_url.exit_code == 2
    assert "is not a link of any active resource" in bad_url.output
    bad_flag = cli("--database-url", db_url, "check-links", "--fail-on", "everything")
    assert bad_flag.exit_code == 2
