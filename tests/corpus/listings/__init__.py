"""The labelled listings corpus: pages in each preset's markup, several themes and versions,
written for shelfcheck with invented data, and the offerings a reader sees on them.

Each site is a folder `<preset>/<site>/` with `site.yaml` (the recipe, the URL each page file
stands for, and the labels: per offering its URL, title, start, fee tiers, regular price, status
and platform id) and the page files. `crawl_site` drives the real walk and extractors over the
files (no HTTP); `score` compares the result with the labels, field by field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from shelfcheck.catalog.offerings import OfferingData, ProviderCrawl
from shelfcheck.crawler.extract.model import Page
from shelfcheck.crawler.recipe import parse_recipe
from shelfcheck.crawler.walk import ProviderWalk

ROOT = Path(__file__).parent
NOW = datetime(2026, 11, 26, tzinfo=UTC)
SCORED = ("title", "start", "fee", "status", "platform_id")


@dataclass
class Site:
    """One labelled site of the corpus."""

    preset: str
    name: str
    folder: Path
    recipe: dict[str, Any]
    pages: dict[str, str]
    offerings: list[dict[str, Any]]
    redirects: dict[str, str] = field(default_factory=dict)


def sites() -> list[Site]:
    """Every site of the corpus, sorted by preset and name."""
    out = []
    for path in sorted(ROOT.glob("*/*/site.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(Site(data["preset"], path.parent.name, path.parent, data["recipe"],
                        data["pages"], data["offerings"], data.get("redirects") or {}))
    return out


def crawl_site(site: Site, *, known_urls: frozenset[str] = frozenset(),
               edit: Callable[[str, str], str] | None = None) -> ProviderCrawl:
    """The site's crawl through its recipe, over its page files; `site.redirects` answer as
    redirects, `known_urls` are the stored offerings' URLs, `edit(url, text)` changes a page."""
    recipe = parse_recipe(site.name, site.recipe)
    walk = ProviderWalk(site.name, recipe, tz=recipe.timezone or "UTC", now=NOW,
                        known_urls=known_urls)
    queue = walk.start()
    while queue or not walk.probed_moved:
        if not queue:
            queue = walk.followups()
            continue
        fetch = queue.pop(0)
        final = site.redirects.get(fetch.url, fetch.url)
        name = site.pages.get(final)
        if name is None:
            walk.on_failure(fetch, "HTTP 404", status=404)
            continue
        text = (site.folder / name).read_text(encoding="utf-8")
        text = edit(final, text) if edit is not None else text
        kind = "text/calendar" if name.endswith(".ics") else "text/html"
        queue.extend(walk.on_page(fetch, Page(final, text, kind)))
    return walk.finish()


def _start(record: OfferingData, label: str) -> bool:
    if label in ("self-paced", "unscheduled"):
        return record.schedule == label
    if record.start is None:
        return False
    if len(label) == 10:  # a date: the day the page names, in the offering's zone
        zone = record.start.tzinfo
        return record.start.astimezone(zone).date().isoformat() == label
    return record.start == datetime.fromisoformat(label)


def _fee(record: OfferingData, label: Any) -> bool:
    if label == "unknown":
        return not record.fee_known
    wanted = sorted((tier, Decimal(amount)) for tier, amount in label)
    return record.fee_known and sorted((f.tier, f.amount) for f in record.fees) == wanted


def field_right(record: OfferingData | None, label: dict[str, Any], name: str) -> bool:
    """Whether the extracted record has the labelled value of one field."""
    if record is None:
        return False
    if name == "title":
        return record.title == label["title"]
    if name == "start":
        return _start(record, str(label["start"]))
    if name == "fee":
        regular = label.get("regular")
        regulars = {f.regular for f in record.fees} or {None}
        return _fee(record, label["fee"]) and regulars == {
            Decimal(regular) if regular else None}
    if name == "status":
        return record.status == label.get("status")
    if name == "platform_id":
        return record.platform_id == label.get("platform_id")
    raise KeyError(name)


@dataclass
class Score:
    """Right and total per field, and what was wrong."""

    right: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    extra: int = 0

    def add(self, other: Score) -> None:
        """Add another score to this one."""
        self.right.update(other.right)
        self.total.update(other.total)
        self.wrong.extend(other.wrong)
        self.extra += other.extra


def score(site: Site, crawl: ProviderCrawl) -> Score:
    """Compare a crawl with the site's labels."""
    by_url = {r.url: r for r in crawl.records}
    result = Score()
    for label in site.offerings:
        record = by_url.get(label["url"])
        for name in SCORED:
            result.total[name] += 1
            if field_right(record, label, name):
                result.right[name] += 1
            else:
                got = "missing" if record is None else {
                    "title": record.title, "start": record.start or record.schedule,
                    "fee": [(f.tier, str(f.amount), f.regular) for f in record.fees]
                    if record.fee_known else "unknown",
                    "status": record.status, "platform_id": record.platform_id}[name]
                result.wrong.append(f"{site.preset}/{site.name}: {label['title']}: {name}: "
                                    f"got {got!r}, label {label.get(name)!r}")
    result.extra = len(set(by_url) - {o["url"] for o in site.offerings})
    return result
