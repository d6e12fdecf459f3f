"""A small registry of extractor kinds (urlwatch-style): each kind reads candidates for an item.

Page extractors read the item's pages (listing item, listing page, detail page): the structured
kinds "json-ld", "microdata", "rdfa", "hcalendar", then "selectors" (the recipe's fields).
Feed extractors ("ical") read the provider's feeds and are matched to items by URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parsel import Selector

from shelfcheck.crawler.extract.hcalendar import hcalendar_candidates
from shelfcheck.crawler.extract.ical import FeedEvent, feed_candidates
from shelfcheck.crawler.extract.model import Candidate, Page
from shelfcheck.crawler.extract.platform import platform_ids, statuses
from shelfcheck.crawler.extract.selectors import Scopes, select_field, when_parts
from shelfcheck.crawler.extract.structured import schema_candidates
from shelfcheck.crawler.recipe import Recipe


@dataclass
class ItemContext:
    """Everything known about one listed item while extracting it."""

    recipe: Recipe
    listing: Page
    item: Selector
    link: str | None
    detail: Page | None
    tz: str
    now: datetime
    warnings: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)

    @property
    def scopes(self) -> Scopes:
        """The selectors field specs read from."""
        return Scopes(self.item, self.listing.selector,
                      self.detail.selector if self.detail is not None else None)


class PageExtractor:
    """Base of the page extractor kinds: a `kind` name and `extract`."""

    def __init__(self, kind: str, *, structured: bool = True) -> None:
        self.kind = kind
        self.structured = structured

    def extract(self, ctx: ItemContext) -> list[Candidate]:
        """The candidates this kind finds for the item."""
        raise NotImplementedError


PAGE_EXTRACTORS: dict[str, PageExtractor] = {}


def register(extractor: PageExtractor) -> PageExtractor:
    """Add an extractor kind to the registry."""
    PAGE_EXTRACTORS[extractor.kind] = extractor
    return extractor


class SchemaOrgExtractor(PageExtractor):
    """schema.org Event/Course/Product+Offer in one syntax, via extruct."""

    def __init__(self, syntax: str) -> None:
        super().__init__(syntax)
        self.syntax = syntax

    def extract(self, ctx: ItemContext) -> list[Candidate]:
        out: list[Candidate] = []
        tz, currency, now = ctx.tz, ctx.recipe.currency, ctx.now
        if ctx.detail is not None:
            out += schema_candidates(ctx.detail, self.syntax, urls=[ctx.detail.url, ctx.link],
                                     fragment=None, detail=True, tz=tz, currency=currency,
                                     now=now)
        fragment = None if self.syntax == "json-ld" else ctx.item.get()
        out += schema_candidates(ctx.listing, self.syntax, urls=[ctx.link], fragment=fragment,
                                 detail=False, tz=tz, currency=currency, now=now)
        return out


class HCalendarExtractor(PageExtractor):
    """hCalendar (vevent / h-event) start and end."""

    def __init__(self) -> None:
        super().__init__("hcalendar")

    def extract(self, ctx: ItemContext) -> list[Candidate]:
        out: list[Candidate] = []
        if ctx.detail is not None:
            out += hcalendar_candidates(ctx.detail, urls=[ctx.detail.url, ctx.link],
                                        fragment=None, detail=True, tz=ctx.tz)
        out += hcalendar_candidates(ctx.listing, urls=[ctx.link], fragment=ctx.item.get(),
                                    detail=False, tz=ctx.tz)
        return out


class SelectorExtractor(PageExtractor):
    """The recipe's declared fields (CSS, labels, sentences, fee rows)."""

    def __init__(self) -> None:
        super().__init__("selectors", structured=False)

    def extract(self, ctx: ItemContext) -> list[Candidate]:
        out: list[Candidate] = []
        for name in ctx.recipe.fields:
            result = select_field(name, ctx.recipe, ctx.scopes, tz=ctx.tz, now=ctx.now)
            if result.candidate is not None:
                cand = result.candidate
                out.extend(when_parts(cand) if name == "when" else [cand])
            if not result.matched:
                ctx.warnings.append(f"fields.{name}: nothing matched ({'; '.join(result.tried)})")
                if result.candidate is None:
                    ctx.missing.add(name)
        return out


class PlatformExtractor(PageExtractor):
    """The platform's own item id and registration status (`extract.platform`)."""

    def __init__(self) -> None:
        super().__init__("platform", structured=False)

    def extract(self, ctx: ItemContext) -> list[Candidate]:
        detail = ctx.detail
        return (platform_ids(ctx.item, ctx.link, detail.url if detail else None,
                             detail.text if detail else None)
                + statuses(ctx.item, detail.selector if detail else None))


for _extractor in (SchemaOrgExtractor("json-ld"), SchemaOrgExtractor("microdata"),
                   SchemaOrgExtractor("rdfa"), HCalendarExtractor(), SelectorExtractor(),
                   PlatformExtractor()):
    register(_extractor)


def feed_item_candidates(kind: str, link: str | None, events: list[FeedEvent]) -> list[Candidate]:
    """Candidates of a feed extractor kind ("ical") for one item."""
    if kind == "ical":
        return feed_candidates(link, events)
    return []
