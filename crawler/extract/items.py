"""Items of a provider's listing: find them, extract their candidates, merge them into records.

The precedence of sources is documented in `crawler.extract` (the package docstring).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin

from parsel import Selector

from shelfcheck.catalog.offerings import FeeData, OfferingData
from shelfcheck.catalog.states import OfferingStatus
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url
from shelfcheck.crawler.extract.fees import Fees
from shelfcheck.crawler.extract.hooks import HOOKS, HookPages
from shelfcheck.crawler.extract.ical import FeedEvent
from shelfcheck.crawler.extract.model import STRUCTURED_KINDS, Candidate, Page
from shelfcheck.crawler.extract.platform import title_status
from shelfcheck.crawler.extract.registry import PAGE_EXTRACTORS, ItemContext, feed_item_candidates
from shelfcheck.crawler.extract.sanity import Rejected, screen
from shelfcheck.crawler.extract.text import clean
from shelfcheck.crawler.recipe import Recipe

__all__ = [
    "Draft",
    "ItemContext",
    "Page",
    "extract_draft",
    "finalize",
    "item_link",
    "listing_items",
    "next_pages",
]


@dataclass
class Draft:
    """An item's candidates from its pages, kept until the provider's feeds are read."""

    provider: str
    link: str | None
    listing_url: str
    detail_url: str | None
    candidates: list[Candidate] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def listing_items(recipe: Recipe, page: Page) -> list[Selector]:
    """The item elements on a listing page."""
    return list(page.selector.css(recipe.item))


def _href(node: Selector, base: str) -> str | None:
    href = node.attrib.get("href")
    if href is None:
        inner = node.css("a[href]")
        href = inner[0].attrib.get("href") if inner else None
    if not href or href.strip().lower().startswith(("javascript:", "mailto:", "#")):
        return None
    absolute = urljoin(base, href.strip())
    try:
        return normalize_url(absolute)
    except InvalidURL:
        return None


def item_link(recipe: Recipe, item: Selector, page: Page) -> str | None:
    """The item's canonical URL: its link, absolute and normalized (session parameters gone)."""
    nodes = item.css(recipe.link)
    return _href(nodes[0], page.base_url) if nodes else None


def next_pages(recipe: Recipe, page: Page) -> list[str]:
    """The pagination links of a listing page."""
    if not recipe.paginate:
        return []
    urls = []
    for node in page.selector.css(recipe.paginate):
        url = _href(node, page.base_url)
        if url and url not in urls:
            urls.append(url)
    return urls


def extract_draft(ctx: ItemContext, provider: str) -> Draft:
    """Run every page extractor kind the recipe enables over one item."""
    kinds = [k for k in ctx.recipe.structured if k in PAGE_EXTRACTORS] + ["selectors",
                                                                            "platform"]
    candidates: list[Candidate] = []
    for kind in kinds:
        candidates.extend(PAGE_EXTRACTORS[kind].extract(ctx))
    return Draft(provider, ctx.link, ctx.listing.url,
                 ctx.detail.url if ctx.detail is not None else None,
                 candidates, set(ctx.missing), list(ctx.warnings))


def _describe(c: Candidate) -> str:
    return f"{c.source} ({c.detail})" if c.detail else c.source


def _ordered(cands: Iterable[Candidate], name: str, order: tuple[str, ...]) -> list[Candidate]:
    """Candidates of one field, sorted by the position of their source in `order`."""
    rank = {source: i for i, source in enumerate(order)}
    picked = [c for c in cands if c.field == name and c.source in rank]
    return sorted(picked, key=lambda c: rank[c.source])


def merge(recipe: Recipe, draft: Draft, extra: list[Candidate], *,
          tz: str) -> OfferingData | None:
    """One record from an item's candidates, by the precedence in the module docstring."""
    cands, rejected = screen(draft.candidates + extra)
    structured = tuple(k for k in recipe.structured if k in STRUCTURED_KINDS)
    struct_first = (*structured, "selector", "recipe")
    selector_first = ("selector", "recipe", *structured)

    def order(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        pref = recipe.prefer.get(name) or (recipe.prefer.get("when") if name in (
            "start", "end", "schedule", "timezone") else None)
        if pref == "structured":
            return struct_first
        if pref == "selector":
            return selector_first
        return default

    sources: dict[str, str] = {}
    titles = _ordered(cands, "title", order("title", selector_first))
    if not titles:
        return None
    title = clean(titles[0].value)
    sources["title"] = _describe(titles[0])
    url = draft.link
    if url:
        sources["url"] = f"link '{recipe.link}' on the listing item"
    else:
        urls = _ordered(cands, "url", struct_first)
        url = urls[0].value if urls else None
        if urls:
            sources["url"] = _describe(urls[0])
    record = OfferingData(title=title, url=url, missing=set(draft.missing),
                          warnings=list(draft.warnings) + [r.warning for r in rejected])

    time_order = order("start", struct_first)
    starts = _ordered(cands, "start", time_order)
    if starts:
        record.start, record.start_raw = starts[0].value, starts[0].raw
        sources["start"] = _describe(starts[0])
        ends = _ordered(cands, "end", time_order)
        same = [c for c in ends if c.source == starts[0].source]
        for cand in same + ends:
            if cand.value >= starts[0].value:
                record.end, record.end_raw = cand.value, cand.raw
                sources["end"] = _describe(cand)
                break
    zones = _ordered(cands, "timezone", selector_first)
    record.timezone = zones[0].value if zones else tz
    schedules = _ordered(cands, "schedule", selector_first)
    if recipe.schedule == "self-paced":
        record.schedule, record.start, record.end = "self-paced", None, None
        sources["schedule"] = "recipe (schedule: self-paced)"
    elif record.start is not None:
        record.schedule = "scheduled"
    elif schedules and schedules[0].value in ("unscheduled", "self-paced"):
        record.schedule = schedules[0].value
        record.start_raw = schedules[0].raw
        sources["schedule"] = _describe(schedules[0])
    else:
        record.schedule = recipe.schedule or "unscheduled"
        if "when" in recipe.fields or "start" in recipe.fields:
            record.missing.add("when")
    if record.schedule != "scheduled":
        record.start = record.end = None

    fee = _pick_fee(cands, order("fee", struct_first))
    if fee is not None:
        fees: Fees = _with_sale(fee, cands, record.warnings)
        record.fee_known, record.fee_raw = fees.known, fees.raw or None
        record.fees = [FeeData(t.tier, t.amount, t.currency, t.raw, t.regular)
                       for t in fees.tiers]
        sources["fee"] = _describe(fee)
    for note in (c for c in cands if c.field == "note"):
        record.warnings.append(f"{note.source}: {note.value}: ignored")

    formats = _ordered(cands, "format", order("format", ("selector", "recipe")))
    if formats:
        record.format = formats[0].value
        sources["format"] = _describe(formats[0])
    elif recipe.format:
        record.format = recipe.format
        sources["format"] = "recipe (format)"
    else:
        structured_formats = _ordered(cands, "format", structured)
        if structured_formats:
            record.format = structured_formats[0].value
            sources["format"] = _describe(structured_formats[0])
        elif "webinar" in title.casefold():
            record.format = "webinar"
            sources["format"] = "title mentions a webinar"

    lssc = _ordered(cands, "lssc", ("selector", "recipe"))
    if lssc:
        record.lssc = bool(lssc[0].value)
        sources["lssc"] = _describe(lssc[0])
    descriptions = _ordered(cands, "description", order("description", selector_first))
    if descriptions:
        record.description = descriptions[0].value
        sources["description"] = _describe(descriptions[0])
    record.cancelled = any(c.field == "cancelled" and c.value for c in cands)
    _identity_and_status(record, cands, structured, sources)
    # The same few descriptions recur in every record of a provider: one string each.
    record.sources = {name: sys.intern(where) for name, where in sources.items()}
    _keep_rejected(record, rejected)
    return record


def _identity_and_status(record: OfferingData, cands: list[Candidate],
                         structured: tuple[str, ...], sources: dict[str, str]) -> None:
    """The platform id (structured ids first) and the status (the recipe's `status` field,
    then structured availability, then the platform's badges; a "Cancelled:" title too)."""
    ids = _ordered(cands, "platform_id", (*structured, "platform"))
    if ids:
        record.platform_id = str(ids[0].value)
        sources["platform_id"] = _describe(ids[0])
    found = _ordered(cands, "status", ("selector", "recipe", *structured, "platform"))
    if found:
        record.status = str(found[0].value)
        sources["status"] = _describe(found[0])
    elif title_status(record.title):
        record.status = OfferingStatus.CANCELLED.value
        sources["status"] = "title"
    if record.cancelled:
        record.status = OfferingStatus.CANCELLED.value
    record.cancelled = record.status == OfferingStatus.CANCELLED


def _keep_rejected(record: OfferingData, rejected: list[Rejected]) -> None:
    """Absurd values that left a field empty: keep their raw text, and keep the old value."""
    fees = [r for r in rejected if r.candidate.field == "fee"]
    if fees and not record.fee_known:
        record.fee_raw = fees[0].raw
        record.missing.add("fee")
    times = [r for r in rejected if r.candidate.field == "start"]
    if times and record.start is None and record.schedule != "self-paced":
        record.start_raw = record.start_raw or times[0].raw
        record.missing.add("when")


def _pick_fee(cands: list[Candidate], ordering: tuple[str, ...]) -> Candidate | None:
    fees = _ordered(cands, "fee", ordering)
    if not fees:
        return None
    visible_tiers = [c for c in fees if not c.structured and len(c.value.tiers) >= 2]
    structured = [c for c in fees if c.structured]
    if visible_tiers and all(len(c.value.tiers) < 2 for c in structured):
        return visible_tiers[0]
    return fees[0]


def _with_sale(chosen: Candidate, cands: list[Candidate], warnings: list[str]) -> Fees:
    """A single structured price beside a visible single price: they must agree on the current
    price. When they do, the visible sale's regular price is kept; when they do not, the
    structured price stands (it is what the cart charges) and a warning names both."""
    fees: Fees = chosen.value
    if not chosen.structured or len(fees.tiers) != 1:
        return fees
    visible = [c for c in cands if c.field == "fee" and not c.structured
               and len(c.value.tiers) == 1]
    if not visible:
        return fees
    shown = visible[0].value.tiers[0]
    tier = fees.tiers[0]
    if shown.amount == tier.amount:
        if shown.regular is not None and tier.regular is None:
            return replace(fees, tiers=[replace(tier, regular=shown.regular)])
        return fees
    warnings.append(f"fee: {chosen.source} says {tier.amount}, the page shows {shown.amount} "
                    f"({visible[0].detail}); the {chosen.source} price is used")
    return fees


def finalize(recipe: Recipe, draft: Draft, feeds: list[FeedEvent], *,
             tz: str) -> OfferingData | None:
    """Merge an item's page candidates with its feed events into a record (None: no title)."""
    extra: list[Candidate] = []
    if "ical" in recipe.structured:
        extra = feed_item_candidates("ical", draft.link, feeds)
    record = merge(recipe, draft, extra, tz=tz)
    if record is not None and recipe.hook:
        record = HOOKS[recipe.hook](record, HookPages(draft.listing_url, draft.detail_url))
    return record

