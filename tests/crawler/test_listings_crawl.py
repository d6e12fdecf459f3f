"""End to end: `shelfcheck crawl` in child processes against the loopback sites in state A,
then state B, then B again (conditional requests), on SQLite and PostgreSQL.

State B holds one provider per situation (see tests/fixtures/sites-b/README.md): real changes
(infopeople), noise and reorder (lja), `&nbsp;` and session parameters (able), a redesign
(ala-elearning), a listing outage (webjunction) and a failing pagination page 2 (techsoup).
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.health import open_problems
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Offering, Provider
from shelfcheck.catalog.sync import sync_catalog
from shelfcheck.crawler.recipe import validate_recipe
from tests.conftest import run_shelfcheck
from tests.loopback import LoopbackServer
from tests.sites import host_map


@dataclass
class Sites:
    """The loopback sites server (a child process)."""

    base: str

    def log(self) -> list[dict[str, Any]]:
        """The requests seen since the last call."""
        with urllib.request.urlopen(f"{self.base}/_log?clear=1", timeout=10) as answer:
            data: list[dict[str, Any]] = json.load(answer)
        return data

    def env(self, state: str) -> dict[str, str]:
        """Settings sending the providers' hosts to this server in `state`."""
        return {"SHELFCHECK_HOST_MAP": ",".join(host_map(self.base, state)),
                "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true"}


class SitesProcess(LoopbackServer):
    """The demo's provider web (tests/sites.py) in a child process."""

    module = "tests.sites"


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    with SitesProcess("--port", "0", quiet=True) as server:
        yield Sites(server.base)


@dataclass
class Scenario:
    """The database after crawls of state A, B and B again, with outputs and request logs."""

    url: str
    cwd: Path
    env: dict[str, str]
    results: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    run_ids: dict[str, int] = field(default_factory=dict)

    def engine(self) -> Engine:
        return open_database(self.url)

    def events(self, step: str, provider: str | None = None) -> list[ChangeEvent]:
        engine = self.engine()
        try:
            with transaction(engine) as session:
                query = select(ChangeEvent).where(ChangeEvent.run_id == self.run_ids[step])
                if provider:
                    query = query.join(Provider, Provider.id == ChangeEvent.provider_id).where(
                        Provider.slug == provider)
                events = list(session.scalars(query.order_by(ChangeEvent.id)))
                session.expunge_all()
                return events
        finally:
            engine.dispose()

    def offerings(self, provider: str) -> list[Offering]:
        engine = self.engine()
        try:
            with transaction(engine) as session:
                rows = list(session.scalars(select(Offering).join(Offering.provider)
                                            .where(Provider.slug == provider)))
                session.expunge_all()
                return rows
        finally:
            engine.dispose()


def sync_packaged_catalog(db_url: str) -> None:
    """`catalog sync` of the packaged guide, in-process."""
    engine = open_database(db_url)
    with transaction(engine) as session:
        sync_catalog(session, load_catalog(None, recipe_validator=validate_recipe))
    engine.dispose()


def crawl_states(sites: Sites, db_url: str, tmp: Path) -> Scenario:
    """Sync the packaged catalog, then crawl state A, state B and state B again."""
    scenario = Scenario(db_url, tmp, {"SHELFCHECK_DATABASE_URL": db_url})
    sync_packaged_catalog(db_url)
    sites.log()
    for step, state in (("A", "A"), ("B", "B"), ("B2", "B")):
        result = run_shelfcheck("crawl", cwd=tmp, env={**scenario.env, **sites.env(state)})
        scenario.results[step] = result
        scenario.logs[step] = sites.log()
        assert result.returncode == 0, result.stdout + result.stderr
    engine = scenario.engine()
    with transaction(engine) as session:
        runs = list(session.scalars(select(CrawlRun.id).where(CrawlRun.kind == "listings")
                                    .order_by(CrawlRun.id)))
    engine.dispose()
    scenario.run_ids = dict(zip(("A", "B", "B2"), runs, strict=True))
    return scenario


def test_crawls_of_state_a_then_b_then_b_again(sites: Sites, db_url: str, tmp_path: Path,
                                               cli: Any) -> None:
    """One crawl sequence per database; each check below is one situation of the issue."""
    scenario = crawl_states(sites, db_url, tmp_path)
    check_state_a_is_a_quiet_complete_baseline(scenario)
    check_state_b_changes_of_infopeople(scenario)
    check_noise_and_reorder_are_not_changes(scenario)
    check_nbsp_and_session_parameters_are_not_changes(scenario)
    check_listing_outage_keeps_every_offering(scenario)
    check_failure_on_pagination_page_2_keeps_every_offering(scenario)
    check_drift_to_a_redesigned_page_removes_nothing(scenario)
    check_unchanged_pages_cost_a_304(scenario)
    check_crawl_prints_progress_changes_and_warnings(scenario)
    check_offerings_command(scenario, cli)


def kinds(events: list[ChangeEvent]) -> list[str]:
    return sorted(e.kind for e in events)


def check_state_a_is_a_quiet_complete_baseline(scenario: Scenario) -> None:
    out = scenario.results["A"].stdout
    assert "crawling 6 providers" in out and "6 baseline" in out
    assert scenario.events("A") == []
    paths = [entry["path"] for entry in scenario.logs["A"]]
    # pagination followed to the end, detail pages and the feed fetched, robots.txt obeyed
    for path in ("/A/infopeople/training?page=1", "/A/techsoup/community/events-webinars?page=1",
                 "/A/lja/shop/page/2/", "/A/infopeople/civicrm/event/ical?list=1&reset=1",
                 "/A/infopeople/civicrm/event/info?id=1086&reset=1", "/robots.txt"):
        assert path in paths
    engine = scenario.engine()
    with transaction(engine) as session:
        stats = session.get_one(CrawlRun, scenario.run_ids["A"]).stats
    engine.dispose()
    assert stats["offerings"] == 32
    assert {slug: p["status"] for slug, p in stats["providers"].items()} == dict.fromkeys(
        ("able", "ala-elearning", "infopeople", "lja", "techsoup", "webjunction"), "baseline")
    assert stats["providers"]["infopeople"]["listing_pages"] == 2


def check_state_b_changes_of_infopeople(scenario: Scenario) -> None:
    events = scenario.events("B", "infopeople")
    assert kinds(events) == ["fee_changed", "fee_changed", "fee_changed", "offering_added",
                             "offering_removed", "offering_rescheduled", "offering_updated"]
    fees = sorted((e.title, e.tier, e.old, e.new) for e in events if e.kind == "fee_changed")
    assert fees[0] == ("Introduction to Library Budgets", "", "250.00", "275.00")
    moved = next(e for e in events if e.kind == "offering_rescheduled")
    assert (moved.old, moved.new) == ("2027-09-14T12:00:00-07:00", "2027-09-21T12:00:00-07:00")


def check_noise_and_reorder_are_not_changes(scenario: Scenario) -> None:
    assert scenario.events("B", "lja") == []
    assert any(e["path"] == "/B/lja/shop/" and e["status"] == 200 for e in scenario.logs["B"])


def check_nbsp_and_session_parameters_are_not_changes(scenario: Scenario) -> None:
    assert scenario.events("B", "able") == []
    assert sorted(o.url or "" for o in scenario.offerings("able"))[0] == (
        "http://www.lili.org/forlibs/ce/able/course1/01intro.htm")


def check_listing_outage_keeps_every_offering(scenario: Scenario) -> None:
    events = scenario.events("B", "webjunction")
    assert [(e.kind, e.url) for e in events] == [
        ("provider_unreachable", "https://www.webjunction.org/events/webjunction.html")]
    assert "HTTP 503" in (events[0].detail or "")
    assert [o.state for o in scenario.offerings("webjunction")] == ["active"] * 5


def check_failure_on_pagination_page_2_keeps_every_offering(scenario: Scenario) -> None:
    events = scenario.events("B", "techsoup")
    assert [(e.kind, e.url) for e in events] == [
        ("provider_unreachable", "https://www.techsoup.org/community/events-webinars?page=1")]
    offerings = {o.title: o.state for o in scenario.offerings("techsoup")}
    assert offerings["Tech Planning for Small Libraries"] == "active"  # listed on page 2
    assert list(offerings.values()) == ["active"] * 5


def check_drift_to_a_redesigned_page_removes_nothing(scenario: Scenario) -> None:
    events = scenario.events("B", "ala-elearning")
    assert [(e.kind, e.old, e.new) for e in events] == [("extractor_drift", "6", "0")]
    assert sorted(o.state for o in scenario.offerings("ala-elearning")) == (
        ["active"] * 5 + ["ended"])


def check_unchanged_pages_cost_a_304(scenario: Scenario) -> None:
    log = scenario.logs["B2"]
    pages = [e for e in log if e["path"] != "/robots.txt"]
    assert pages and all(e["conditional"] for e in pages if e["status"] in (200, 304))
    assert all(e["status"] in (304, 500, 503) for e in pages)
    # the same state again: no events at all; the standing problems are provider health states
    assert kinds(scenario.events("B2")) == []
    engine = scenario.engine()
    with transaction(engine) as session:
        health = {p.slug: (h.state.value, h.runs) for h, p in open_problems(session)}
        assert health == {"ala-elearning": ("drift", 2), "techsoup": ("unreachable", 2),
                          "webjunction": ("unreachable", 2)}
        run = session.get_one(CrawlRun, scenario.run_ids["B2"])
        assert run.outcome == "ok"
        assert run.stats["not_modified"] == run.stats["pages"] > 0
        assert run.stats["providers"]["infopeople"]["not_modified"] == 9
    engine.dispose()


def check_crawl_prints_progress_changes_and_warnings(scenario: Scenario) -> None:
    out = scenario.results["B"].stdout
    assert "infopeople: 9 pages fetched" in out
    assert "+ added        Teen Services on a Shoestring" in out
    assert "$ fee          Introduction to Library Budgets: 250.00 → 275.00" in out
    assert "webjunction: provider unreachable" in out and "HTTP 503" in out
    assert "ala-elearning: extractor drift: 0 offerings found" in out
    assert "item: '#frontpage-available-course-list .coursebox' matched nothing" in out


def check_offerings_command(scenario: Scenario, cli: Any) -> None:
    result = cli("--database-url", scenario.url, "offerings", "--provider", "infopeople",
                 "--format", "json")
    rows = {r["title"]: r for r in json.loads(result.output)}
    assert "Serving Patrons Experiencing Homelessness" not in rows  # removed
    assert rows["Readers’ Advisory for Adults"]["fees"] == [
        {"tier": "California library staff", "amount": "110.00", "currency": "USD"},
        {"tier": "Library school students", "amount": "50.00", "currency": "USD"},
        {"tier": "Out-of-state library staff", "amount": "175.00", "currency": "USD"}]
    assert rows["Teen Services on a Shoestring"]["start"] == "2027-03-24T19:00:00+00:00"
    table = cli("--database-url", scenario.url, "offerings", "--upcoming").output
    assert "Teen Services on a Shoestring" in table and "2027-03-24 12:00 PDT" in table
    assert "unscheduled" not in table  # upcoming: only offerings with a future start
    assert "Instruction for Adult Learners" not in table  # ended


def test_no_reachable_provider_is_inconclusive(sites: Sites, db_url: str, tmp_path: Path) -> None:
    env = {"SHELFCHECK_DATABASE_URL": db_url}
    sync_packaged_catalog(db_url)
    result = run_shelfcheck("crawl", "webjunction", cwd=tmp_path, env={**env, **sites.env("B")})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "inconclusive" in result.stdout


def test_recipes_test_shows_fields_and_sources(sites: Sites, tmp_path: Path) -> None:
    result = run_shelfcheck("recipes", "test", "infopeople", "--items", "2", cwd=tmp_path,
                            env=sites.env("A"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "item 1 (detail page https://infopeople.org/civicrm/event/info?id=1097&reset=1)" in out
    assert "hcalendar (h-event start)" in out
    assert "selector (css '.event_summary-section' on the detail page)" in out
    redirected = run_shelfcheck("recipes", "test", "ala-elearning", "--url",
                                "https://elearning.ala.org/course/view.php?id=12",
                                cwd=tmp_path, env=sites.env("A"))
    assert redirected.returncode == 0, redirected.stderr
    assert "read as a detail page" in redirected.stdout
    assert "ALSC members 115.00" in redirected.stdout


def test_crawl_and_offerings_refuse_unknown_providers(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert cli("--database-url", url, "catalog", "sync").exit_code == 0
    unknown = cli("--database-url", url, "crawl", "nope")
    assert unknown.exit_code == 2 and "unknown provider 'nope'" in unknown.output
    no_recipe = cli("--database-url", url, "crawl", "lssc")
    assert no_recipe.exit_code == 2 and "has no listing recipe" in no_recipe.output
    offerings = cli("--database-url", url, "offerings", "--provider", "nope")
    assert offerings.exit_code == 2 and "unknown provider 'nope'" in offerings.output
    assert "No offerings: run `shelfcheck crawl` first." in cli(
        "--database-url", url, "offerings").output
