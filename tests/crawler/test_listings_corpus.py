"""The labelled listings corpus (tests/corpus/listings): every preset reads its platforms'
pages right, field by field, and an edit on real markup keeps the offering's identity
(SQLite and PostgreSQL). `benchmarks/listings.py` prints the same figures per preset."""

from __future__ import annotations

import copy
import functools
from datetime import datetime

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Provider
from shelfcheck.catalog.offerings import ProviderCrawl, apply_provider_crawl
from shelfcheck.catalog.runs import start_run
from shelfcheck.crawler.extract.fees import audience
from shelfcheck.crawler.presets import PRESETS
from tests.corpus.listings import NOW, SCORED, Site, crawl_site, score, sites

SITES = {f"{s.preset}/{s.name}": s for s in sites()}


@functools.cache
def _crawl(name: str) -> ProviderCrawl:
    return crawl_site(SITES[name])


def test_every_preset_has_sites_in_several_themes_or_versions() -> None:
    per_preset = {p: [s for s in SITES.values() if s.preset == p] for p in PRESETS}
    assert all(len(found) >= 2 for found in per_preset.values()), per_preset
    assert {s.preset for s in SITES.values()} <= set(PRESETS)


@pytest.mark.parametrize("name", sorted(SITES))
def test_every_labelled_field_is_read_right(name: str) -> None:
    crawl = _crawl(name)
    assert crawl.failures == [] and crawl.warnings == []
    result = score(SITES[name], crawl)
    assert result.wrong == [] and result.extra == 0
    assert all(result.total[f] == len(SITES[name].offerings) for f in SCORED)


def test_every_fee_tier_label_is_an_audience() -> None:
    labels = {f.tier for name in SITES for r in _crawl(name).records for f in r.fees}
    assert "" in labels
    assert all(audience(label) == label for label in labels), labels
    for word in ("price", "original", "current", "was", "now", "cost", "fee"):
        assert not any(word in label.casefold().split() for label in labels), (word, labels)


def test_a_preset_reads_its_platforms_feed_and_a_missing_one_is_no_news() -> None:
    legacy = _crawl("events-calendar/v4-legacy")
    assert {r.sources["start"] for r in legacy.records} == {"ical (VEVENT DTSTART)"}
    coastal = _crawl("civicrm/wordpress-5x")  # its guessed feed answers 404
    assert coastal.failures == [] and coastal.warnings == []


def test_the_corpus_exercises_every_status_and_a_sale() -> None:
    labels = [o for s in SITES.values() for o in s.offerings]
    assert {o.get("status") for o in labels} >= {None, "full", "waitlist", "sold_out",
                                                   "closed", "cancelled"}
    assert any(o.get("regular") for o in labels)


def _apply(engine: Engine, crawl: ProviderCrawl, now: datetime = NOW) -> list[ChangeEvent]:
    run_id = start_run(engine, "listings")
    with transaction(engine) as session:
        provider = session.scalars(select(Provider).where(Provider.slug == crawl.slug)
                                   ).one_or_none()
        if provider is None:
            provider = Provider(slug=crawl.slug, name=crawl.slug)
            session.add(provider)
            session.flush()
        apply_provider_crawl(session, provider, copy.deepcopy(crawl),
                             run=session.get_one(CrawlRun, run_id), now=now)
    with transaction(engine) as session:
        events = list(session.scalars(select(ChangeEvent).where(ChangeEvent.run_id == run_id)
                                      .order_by(ChangeEvent.id)))
        session.expunge_all()
    return events


def _moved(site: Site, old: str, new: str) -> Site:
    """The site after the provider changed one offering's URL (the old one redirects)."""
    pages = {**site.pages, new: site.pages.get(old, site.pages[site.recipe["listing"]])}
    return Site(site.preset, site.name, site.folder, site.recipe, pages, site.offerings,
                {old: new})


def test_a_woocommerce_slug_change_on_real_markup_is_one_update(engine: Engine) -> None:
    site = SITES["woocommerce/storefront-classic"]
    assert _apply(engine, _crawl("woocommerce/storefront-classic")) == []
    old = "https://shop.rivertonacademy.org/product/collection-development-basics/"
    new = "https://shop.rivertonacademy.org/product/collection-development-essentials/"
    moved = Site(site.preset, site.name, site.folder, site.recipe,
                 {(new if u == old else u): n for u, n in site.pages.items()}, site.offerings)
    crawl = crawl_site(moved, edit=lambda url, text: text.replace(old, new).replace(
        "Collection Development Basics", "Collection Development Essentials"))
    events = _apply(engine, crawl)
    assert [(e.kind, e.detail, e.new) for e in events] == [
        ("offering_updated", "title and url", f"Collection Development Essentials | {new}")]
    assert crawl.records[2].platform_id == "wp:305"


def test_a_drupal_path_alias_change_is_found_by_its_redirect(engine: Engine) -> None:
    """Drupal 7 without node ids in the view: the old alias redirects to the new one."""
    site = SITES["drupal-views/drupal7-date"]
    baseline = _crawl("drupal-views/drupal7-date")
    assert _apply(engine, baseline) == []
    old = "https://valleylibtraining.org/training/cataloging-101"
    new = "https://valleylibtraining.org/training/cataloging-101-online"
    moved = _moved(site, old, new)
    crawl = crawl_site(moved, known_urls=frozenset(o.url for o in baseline.records if o.url),
                       edit=lambda url, text: text.replace('href="/training/cataloging-101"',
                                                           'href="/training/cataloging-101-online"'))
    assert crawl.redirects == {old: new}
    events = _apply(engine, crawl)
    assert [(e.kind, e.detail, e.old, e.new) for e in events] == [
        ("offering_updated", "url", old, new)]
