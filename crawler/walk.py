"""The walk over one provider's pages, without I/O: which page to fetch next, what each gave.

The listing spider does the fetching; tests drive the same walk over fixture files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from parsel import Selector

from shelfcheck.catalog.offerings import OfferingData, PageFailure, ProviderCrawl
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url
from shelfcheck.crawler.extract.ical import FeedEvent, parse_feed
from shelfcheck.crawler.extract.items import (
    Draft,
    extract_draft,
    finalize,
    item_link,
    listing_items,
    next_pages,
)
from shelfcheck.crawler.extract.model import Page
from shelfcheck.crawler.extract.registry import ItemContext
from shelfcheck.crawler.parked import Parked
from shelfcheck.crawler.recipe import Recipe

log = logging.getLogger(__name__)

MAX_MOVED_PROBES = 20
"""Old URLs of vanished offerings fetched at most per crawl, to see where they redirect."""


@dataclass(frozen=True)
class ItemRef:
    """A listed item waiting for its detail page."""

    listing: Page
    item: Selector
    link: str


@dataclass(frozen=True)
class Fetch:
    """A page to fetch: a listing page, an item's detail page or a feed."""

    url: str
    kind: str  # listing | detail | feed | preset-feed (optional) | probe | moved
    item: ItemRef | None = None


@dataclass
class ProviderWalk:
    """The state of one provider's crawl; feed it pages, get the next fetches."""

    slug: str
    recipe: Recipe
    tz: str
    now: datetime
    max_items: int | None = None
    max_listing_pages: int | None = None
    probe_url: str | None = None  # fetch this page instead of the listing (`recipes test --url`)
    drafts: list[Draft] = field(default_factory=list)
    feed_events: list[FeedEvent] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    crawl: ProviderCrawl = field(init=False)
    items_seen: int = 0
    listing_fetches: int = 0
    probed_detail: bool = False
    order: dict[str, int] = field(default_factory=dict)  # item link -> position in the listing
    # canonical URLs of the provider's stored offerings: those no longer listed are fetched once
    # the listing is read, and a redirect to a listed URL is identity rung "redirect"
    known_urls: frozenset[str] = frozenset()
    probed_moved: bool = False
    finished: bool = False
    keep_drafts: bool = False  # keep every item's candidates (`recipes test` shows them)
    feeds_pending: int = 0  # feeds not read yet: until then, items wait as drafts
    # each item once merged with the feeds (its link, its record or None without a title, where),
    # parked on disk until the walk is finished
    settled: Parked[tuple[str | None, OfferingData | None, str]] = field(default_factory=Parked)

    def __post_init__(self) -> None:
        self.crawl = ProviderCrawl(self.slug, listing_url=self.recipe.listing[0],
                                   item_selector=self.recipe.item)

    def _new(self, url: str, kind: str, item: ItemRef | None = None) -> Fetch | None:
        try:
            key = normalize_url(url)
        except InvalidURL:
            self.crawl.warnings.append(f"skipped an invalid URL: {url!r}")
            return None
        if key in self.seen:
            return None
        self.seen.add(key)
        return Fetch(key, kind, item)

    def start(self) -> list[Fetch]:
        """The first fetches: the listing URLs (or the probed page) and the feeds."""
        if self.probe_url:
            fetches = [self._new(self.probe_url, "probe")]
        else:
            fetches = [self._new(url, "listing") for url in self.recipe.listing]
        self.listing_fetches = sum(f is not None for f in fetches)
        feeds = [self._new(url, "feed") for url in self.recipe.feeds]
        feeds += [self._new(url, "preset-feed") for url in self.recipe.preset_feeds]
        self.feeds_pending = sum(f is not None for f in feeds)
        return [f for f in fetches + feeds if f is not None]

    def _context(self, listing: Page, item: Selector, link: str | None,
                 detail: Page | None) -> ItemContext:
        return ItemContext(self.recipe, listing, item, link, detail, self.tz, self.now)

    def _add_draft(self, ctx: ItemContext) -> None:
        """An item's candidates: merged with the feeds at once when they are read, so memory
        holds its record, not its candidates, until the end of the crawl."""
        draft = extract_draft(ctx, self.slug)
        if self.feeds_pending or self.keep_drafts:
            self.drafts.append(draft)
        else:
            self._settle(draft)

    @property
    def items(self) -> int:
        """The items read so far (merged or waiting for the feeds)."""
        return len(self.drafts) + self.settled.count

    def _settle(self, draft: Draft) -> None:
        record = finalize(self.recipe, draft, self.feed_events, tz=self.tz)
        self.settled.append((draft.link, record,
                             draft.detail_url or draft.link or draft.listing_url))

    def _feed_read(self) -> None:
        self.feeds_pending -= 1
        if self.feeds_pending <= 0 and not self.keep_drafts:
            drafts, self.drafts = self.drafts, []
            for draft in drafts:
                self._settle(draft)

    def on_page(self, fetch: Fetch, page: Page, *, not_modified: bool = False) -> list[Fetch]:
        """Take a fetched page; returns the fetches it leads to."""
        self.crawl.pages += 1
        self.crawl.not_modified += int(not_modified)
        if fetch.kind == "moved":
            self._on_moved(fetch, page)
            return []
        if fetch.kind in ("feed", "preset-feed"):
            try:
                self.feed_events.extend(parse_feed(page.text, tz=self.tz))
            except ValueError as exc:
                if fetch.kind == "feed":
                    self.crawl.warnings.append(f"feed {fetch.url}: {exc}")
                else:  # a feed the preset guessed: its absence is no news
                    log.debug("optional feed %s: %s", fetch.url, exc)
            self._feed_read()
            return []
        if fetch.kind == "detail":
            assert fetch.item is not None
            ref = fetch.item
            self._add_draft(self._context(ref.listing, ref.item, ref.link, page))
            return []
        if fetch.kind == "probe" and not listing_items(self.recipe, page):
            # `probe_url` is not a listing page: read it as an item's detail page
            self.probed_detail = True
            self._add_draft(self._context(page, page.selector, page.url,
                                          page if self.recipe.follow else None))
            return []
        return self._on_listing(page)

    def _on_listing(self, page: Page) -> list[Fetch]:
        self.crawl.listing_pages += 1
        out: list[Fetch] = []
        items = listing_items(self.recipe, page)
        if not items:
            self.crawl.warnings.append(
                f"item: '{self.recipe.item}' matched nothing on {page.url}")
        for item in items:
            if self.max_items is not None and self.items_seen >= self.max_items:
                break
            self.items_seen += 1
            link = item_link(self.recipe, item, page)
            if link is not None:
                self.order.setdefault(link, self.items_seen)
            if self.recipe.follow and link:
                fetch = self._new(link, "detail", ItemRef(page, item, link))
                if fetch is not None:
                    out.append(fetch)
                continue
            if self.recipe.follow:
                self.crawl.warnings.append(
                    f"link: '{self.recipe.link}' matched nothing in an item on {page.url}")
            self._add_draft(self._context(page, item, link, None))
        limit = self.recipe.max_pages if self.max_listing_pages is None else self.max_listing_pages
        for url in next_pages(self.recipe, page):
            fetch = self._new(url, "listing")
            if fetch is None:
                continue
            if self.listing_fetches >= limit:
                if self.max_listing_pages is None:
                    self.crawl.warnings.append(
                        f"paginate: stopped after max_pages={limit} listing pages")
                break
            self.listing_fetches += 1
            out.append(fetch)
        return out

    def followups(self) -> list[Fetch]:
        """Once every page asked for is in: the old URLs of stored offerings no longer listed
        (at most `MAX_MOVED_PROBES`), to learn where they redirect. Asked for once."""
        if self.probed_moved or self.probe_url or self.crawl.failures or not self.order:
            return []  # a redirect counts only to a listed URL of a complete listing
        self.probed_moved = True
        gone = sorted(u for u in self.known_urls if u not in self.order)[:MAX_MOVED_PROBES]
        return [f for f in (self._new(u, "moved") for u in gone) if f is not None]

    def _on_moved(self, fetch: Fetch, page: Page) -> None:
        self.crawl.pages -= 1  # not a page of the listing: it counts for nothing else
        try:
            final = normalize_url(page.url)
        except InvalidURL:
            return
        if final != fetch.url and final in self.order:
            self.crawl.redirects[fetch.url] = final

    def on_failure(self, fetch: Fetch, reason: str, *, status: int | None = None) -> None:
        """A page could not be fetched (`status`: the HTTP status, when there was one).

        A detail page that is gone (404, 410) or not a text page leaves its item to the listing's
        fields, with a warning: the item is still listed, so it is neither removed nor a reason
        to call the provider unreachable. Any other failure makes the crawl incomplete, except
        for an old URL fetched to see where it moved and a feed a preset guessed: that they fail
        says nothing of the listing.
        """
        if fetch.kind in ("feed", "preset-feed"):
            self._feed_read()
        if fetch.kind in ("moved", "preset-feed"):
            log.debug("%s %s: %s", fetch.kind, fetch.url, reason)
            return
        if fetch.kind == "detail" and fetch.item is not None and (
                status in (404, 410) or reason.startswith("not a text page")):
            ref = fetch.item
            ctx = self._context(ref.listing, ref.item, ref.link, None)
            ctx.warnings.append(f"detail page {fetch.url}: {reason}; listing fields only")
            self._add_draft(ctx)
            return
        self.crawl.failures.append(PageFailure(fetch.url, reason))

    def finish(self) -> ProviderCrawl:
        """Merge every item with the feeds; the provider's crawl result (once: the drafts and
        feed events are let go, and a later call returns the same result). The merged items
        come back from disk here, one provider at a time."""
        if self.finished:
            return self.crawl
        self.finished = True
        for draft in self.drafts:
            self._settle(draft)
        settled = self.settled.take()
        settled.sort(key=lambda item: self.order.get(item[0] or "", len(self.order) + 1))
        records = []
        for _link, record, where in settled:
            if record is None:
                self.crawl.warnings.append(f"fields.title: no title for an item ({where})")
                continue
            records.append(record)
        self.crawl.records = records
        self.crawl.warnings = summarize(self.crawl.warnings
                                        + [w for r in records for w in r.warnings])
        if not self.keep_drafts:
            self.drafts, self.feed_events = [], []
        return self.crawl


def summarize(warnings: list[str]) -> list[str]:
    """Identical warnings counted once: "fields.when: nothing matched (…) (×5)"."""
    counts: dict[str, int] = {}
    for warning in warnings:
        counts[warning] = counts.get(warning, 0) + 1
    return [w if n == 1 else f"{w} (×{n})" for w, n in counts.items()]
