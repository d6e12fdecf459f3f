"""Link health without a crawl: the state machine, applying a run, the outage guard, helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.linkstate import Check, LinkStatus, apply_run, assess_outage, transition
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, LinkCheck, Resource, Section
from shelfcheck.catalog.verdicts import FAILING, UNVERIFIABLE, VERDICTS
from shelfcheck.crawler.linkanalysis import (
    looks_like,
    not_found_phrase,
    page_signature,
    retry_after_seconds,
    status_verdict,
)
from shelfcheck.crawler.netguard import address_problem
from shelfcheck.crawler.politeness import slot_key

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def test_verdicts_have_stable_keys_and_messages() -> None:
    assert set(VERDICTS) == {
        "ok", "redirected", "not_found", "gone", "server_error", "timeout", "dns_error",
        "connection_error", "tls_error", "soft_404", "blocked", "rate_limited",
        "redirect_loop", "invalid_url", "no_url", "redirect_to_home", "parked",
        "content_changed", "client_error", "login_required", "maintenance", "tarpit",
        "bad_response", "check_error", "robots_unreachable"}
    assert all(v.message.endswith(".") for v in VERDICTS.values())
    assert {"blocked", "rate_limited", "login_required", "maintenance", "check_error",
            "robots_unreachable"} == UNVERIFIABLE
    import shelfcheck.catalog.linkstate as ls

    assert ls.FAILING == FAILING and ls.UNVERIFIABLE == UNVERIFIABLE


def test_failures_confirm_after_n_checks() -> None:
    status = LinkStatus("ok", T0, 0, None, T0, None)
    one = transition(status, Check("not_found", 404), T0 + timedelta(days=1), 2)
    assert one.event is None and one.status.state == "ok"
    assert one.status.consecutive_failures == 1
    assert one.status.first_failed_at == T0 + timedelta(days=1)
    two = transition(one.status, Check("timeout"), T0 + timedelta(days=2), 2)
    assert two.event == "link_broken" and two.status.state == "broken"
    assert two.status.first_failed_at == T0 + timedelta(days=1)
    assert two.status.state_since == T0 + timedelta(days=2)
    three = transition(two.status, Check("gone", 410), T0 + timedelta(days=3), 2)
    assert three.event is None and three.status.consecutive_failures == 3
    back = transition(three.status, Check("ok", 200), T0 + timedelta(days=4), 2)
    assert back.event == "link_recovered"
    assert (back.status.state, back.status.consecutive_failures, back.status.first_failed_at,
            back.status.last_ok_at) == ("ok", 0, None, T0 + timedelta(days=4))


def test_unverifiable_never_counts_as_broken() -> None:
    status = LinkStatus()
    for day in range(5):
        result = transition(status, Check("blocked", 403), T0 + timedelta(days=day), 1)
        assert result.status.state == "unverifiable"
        assert result.status.consecutive_failures == 0
        assert result.event == ("link_unverifiable" if day == 0 else None)
        status = result.status
    assert transition(status, Check("ok", 200), T0, 2).event == "link_recovered"
    assert transition(LinkStatus("broken"), Check("rate_limited", 429), T0, 2).event == \
        "link_unverifiable"


def test_redirects_write_an_event_only_when_new() -> None:
    first = transition(LinkStatus("ok"), Check("redirected", 200, "https://b/"), T0, 2)
    assert first.event == "link_redirected" and first.status.redirect_target == "https://b/"
    same = transition(first.status, Check("redirected", 200, "https://b/"), T0, 2)
    assert same.event is None
    moved_again = transition(same.status, Check("redirected", 200, "https://c/"), T0, 2)
    assert moved_again.event == "link_redirected"
    assert transition(moved_again.status, Check("ok", 200), T0, 2).event is None
    assert transition(LinkStatus("unknown"), Check("ok", 200), T0, 2).event is None
    with pytest.raises(ValueError):
        transition(LinkStatus(), Check("bogus"), T0, 2)


def _world(engine: Engine) -> tuple[int, list[int]]:
    """Two links on two hosts; link 1 is used by two resources in two sections."""
    with transaction(engine) as session:
        s1, s2 = Section(name="One", position=0), Section(name="Two", position=1)
        a = Link(url="https://a.example/x", host="a.example", state="unknown")
        b = Link(url="https://b.example/y", host="b.example", state="unknown")
        session.add_all([s1, s2, a, b])
        session.flush()
        session.add_all([
            Resource(title="First", section=s1, url=a.url, link=a),
            Resource(title="Second", section=s2, url=a.url, link=a),
            Resource(title="Other", section=s1, url=b.url, link=b),
        ])
        run = CrawlRun(kind="links", outcome="running", stats={})
        session.add(run)
        session.flush()
        return run.id, [a.id, b.id]


def _check(engine: Engine, run_id: int, link_id: int, verdict: str, status: int | None) -> None:
    with transaction(engine) as session:
        session.add(LinkCheck(link_id=link_id, run_id=run_id, verdict=verdict,
                              http_status=status, checked_at=T0))


def test_apply_run_events_name_every_resource(engine: Engine) -> None:
    run_id, (a, b) = _world(engine)
    _check(engine, run_id, a, "gone", 410)
    _check(engine, run_id, b, "ok", 200)
    with transaction(engine) as session:
        assert apply_run(session, run_id, confirm_after=1) == {"link_broken": 1}
    with transaction(engine) as session:
        event = session.scalars(select(ChangeEvent)).one()
        assert (event.kind, event.severity, event.run_id, event.link_id) == (
            "link_broken", "action", run_id, a)
        assert (event.verdict, event.http_status) == ("gone", 410)
        assert sorted(event.resources or []) == ["First", "Second"]
        assert event.sections == ["One", "Two"]
        link_a, link_b = session.get_one(Link, a), session.get_one(Link, b)
        assert (link_a.state, link_a.last_verdict, link_a.last_http_status) == (
            "broken", "gone", 410)
        assert link_a.last_checked_at == T0
        assert (link_b.state, link_b.last_ok_at) == ("ok", T0)


def test_outage_guard_counts_hosts(engine: Engine) -> None:
    run_id, (a, b) = _world(engine)
    _check(engine, run_id, a, "dns_error", None)
    _check(engine, run_id, b, "ok", 200)
    with transaction(engine) as session:
        half = assess_outage(session, run_id, 0.8)
        assert (half.inconclusive, half.hosts, half.failing_hosts) == (False, 2, 1)
        assert assess_outage(session, run_id, 0.5).inconclusive
        canary = assess_outage(session, run_id, 0.8, canary_failure="https://c/: timeout")
        assert canary.inconclusive and "canary" in canary.reason


def test_status_and_header_helpers() -> None:
    assert status_verdict(200) is None and status_verdict(304) is None
    assert status_verdict(404) == ("not_found", "HTTP 404 Not Found")
    assert status_verdict(410)[0] == "gone"  # type: ignore[index]
    assert status_verdict(999)[0] == "blocked"  # type: ignore[index]
    assert status_verdict(200, challenge=True)[0] == "blocked"  # type: ignore[index]
    assert status_verdict(503)[0] == "maintenance"  # type: ignore[index]
    assert status_verdict(500)[0] == "server_error"  # type: ignore[index]
    for status in (400, 405, 418, 451):
        assert status_verdict(status) == ("client_error", f"HTTP {status}")
    for status in (401, 403, 407):
        assert status_verdict(status)[0] == "blocked"  # type: ignore[index]
    assert "Akamai" in status_verdict(403, wall="Akamai")[1]  # type: ignore[index]
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("Mon, 02 Nov 2026 02:01:00 GMT", now=T0) == 60.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
    assert slot_key("https://Example.org:443/a") == "example.org"
    assert slot_key("http://127.0.0.1:8080/") == "127.0.0.1:8080"
    assert address_problem("127.0.0.1") == "address 127.0.0.1 is loopback"
    assert address_problem("10.1.2.3") == "address 10.1.2.3 is private"
    assert address_problem("169.254.169.254") == "address 169.254.169.254 is link-local"
    assert "192.168.0.1 is private" in (address_problem("::ffff:192.168.0.1") or "")
    assert address_problem("93.184.216.34") is None


def test_soft_404_helpers() -> None:
    assert not_found_phrase(b"<title>Page Not Found | Library</title>")
    assert not_found_phrase(b"<title>404</title>")
    assert not_found_phrase(b"<html><body><p>Sorry, no document is available.</p></body>")
    assert not_found_phrase(b"<title>Course page /page/404</title><h1>Webinars</h1>") is None
    assert not_found_phrase(b"<title>Finding resources</title><p>Welcome</p>") is None
    words = "Oops nothing lives at this address try the search box or browse " * 3
    probe = page_signature(200, "https://x/zz-probe", False,
                           f"<title>Lib</title><body>{words} zz-probe</body>".encode(),
                           ignore=["/zz-probe"])
    same = page_signature(200, "https://x/old", False,
                          f"<title>Lib</title><body>{words} old</body>".encode(),
                          ignore=["/old"])
    real = page_signature(200, "https://x/real", False,
                          b"<title>Lib</title><body>Webinars on cataloguing, fees and dates "
                          b"for library support staff, with certificates.</body>")
    assert looks_like(same, probe) and looks_like(real, probe) is None
    home = page_signature(200, "https://x/", True, b"<title>Home</title>")
    assert "same page" in (looks_like(home, home) or "")


def test_link_source_streams_active_links_by_host(engine: Engine) -> None:
    from shelfcheck.catalog.models import Provider
    from shelfcheck.crawler.linksource import LinkSource

    with transaction(engine) as session:
        section = Section(name="S", position=0)
        mine, other = Provider(slug="mine", name="Mine"), Provider(slug="other", name="Other")
        links = [Link(url=f"https://h{i % 2}.example/{i}", host=f"h{i % 2}.example")
                 for i in range(5)]
        session.add_all([section, mine, other, *links])
        session.flush()
        for i, link in enumerate(links):
            session.add(Resource(title=f"R{i}", section=section, url=link.url, link=link,
                                 provider=mine if i < 4 else other,
                                 state="retired" if i == 0 else "active"))
        ids = [link.id for link in links]
    everything = LinkSource(engine, page=1)
    assert everything.hosts() == [("h0.example", 2), ("h1.example", 2)]
    assert [r.id for r in everything.iter_host("h0.example")] == [ids[2], ids[4]]
    assert LinkSource(engine, provider_id=None, link_ids=[ids[1]]).hosts() == [
        ("h1.example", 1)]
    with transaction(engine) as session:
        mine_id = session.scalars(select(Provider.id).where(Provider.slug == "mine")).one()
    assert [r.url for r in LinkSource(engine, provider_id=mine_id).iter_host("h0.example")] == [
        "https://h0.example/2"]


def test_not_checked_links_of_one_provider_ignore_the_other_providers(engine: Engine) -> None:
    """A link is `check: false` within a provider's scope when none of that provider's active
    resources using it is checked, whatever the other providers' resources say."""
    from shelfcheck.catalog.models import Provider
    from shelfcheck.catalog.notchecked import unchecked_link
    from shelfcheck.crawler.linksource import LinkSource

    with transaction(engine) as session:
        section = Section(name="S", position=0)
        mine, other = Provider(slug="mine", name="Mine"), Provider(slug="other", name="Other")
        links = {name: Link(url=f"https://{name}.example/", host=f"{name}.example")
                 for name in ("shared", "mine", "others", "retired")}
        session.add_all([section, mine, other, *links.values()])
        for i, (link, provider, check, state) in enumerate([
                ("shared", mine, False, "active"), ("shared", other, True, "active"),
                ("mine", mine, True, "active"), ("others", other, False, "active"),
                ("retired", mine, False, "retired")]):
            session.add(Resource(title=f"R{i}", section=section, url=links[link].url,
                                 link=links[link], provider=provider, check=check, state=state))
        session.flush()
        scopes = {"mine": mine.id, "other": other.id, "all": None}

    def unchecked(provider_id: int | None) -> set[str]:
        with engine.connect() as conn:
            return set(conn.scalars(select(Link.host).where(*unchecked_link(provider_id))))

    assert {name: unchecked(pid) for name, pid in scopes.items()} == {
        "mine": {"shared.example"}, "other": {"others.example"}, "all": {"others.example"}}
    sources = {name: LinkSource(engine, provider_id=pid) for name, pid in scopes.items()}
    assert {name: (s.hosts(), s.not_checked_count()) for name, s in sources.items()} == {
        "mine": ([("mine.example", 1)], 1), "other": ([("shared.example", 1)], 1),
        "all": ([("mine.example", 1), ("shared.example", 1)], 1)}
