"""schema.org data (JSON-LD, microdata, RDFa via extruct), read as candidates.

Read: Event (and its subtypes), Course with hasCourseInstance, CourseInstance, and Product with
Offer. Only nodes that describe the item are used: their `url`/`@id` is the item's URL or the
page's, or, on a detail page, the one such node carrying no URL, or the one node whose URL differs
from the page's only in its query (display parameters such as LibCal's `?hs=a`). Nodes about
other pages (related products, breadcrumbs) are ignored. An Offer whose `priceValidUntil` has
passed is stale and ignored. hCalendar (`crawler.extract.hcalendar`) gives only start and end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url
from shelfcheck.crawler.extract.dates import parse_instant
from shelfcheck.crawler.extract.fees import Fees, Tier
from shelfcheck.crawler.extract.model import Candidate, Page
from shelfcheck.crawler.extract.text import clean

SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")
_TARGET_TYPES = ("Course", "CourseInstance", "Product")


def _strip(name: str) -> str:
    for prefix in SCHEMA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _types(node: dict[str, Any]) -> list[str]:
    value = node.get("@type", [])
    return [_strip(str(t)) for t in (value if isinstance(value, list) else [value])]


def is_target(node: dict[str, Any]) -> bool:
    """True for schema.org nodes that describe an offering."""
    return any(t in _TARGET_TYPES or t.endswith("Event") for t in _types(node))


def _simplify(value: Any, index: dict[str, Any], depth: int = 0) -> Any:
    """Expanded JSON-LD (RDFa) to plain form: short keys, unwrapped @value and @id references."""
    if depth > 6:
        return value
    if isinstance(value, list):
        items = [_simplify(v, index, depth + 1) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        if "@value" in value:
            return value["@value"]
        if set(value) == {"@id"} and value["@id"] in index:
            return _simplify(index[value["@id"]], index, depth + 1)
        return {(_strip(k) if k != "@type" else k): (
            _simplify(v, index, depth + 1) if k != "@type" else v) for k, v in value.items()}
    return value


def schema_nodes(data: list[Any]) -> Iterator[dict[str, Any]]:
    """Every offering node in extruct's output (walking @graph, lists and ItemLists)."""
    index = {n["@id"]: n for n in data if isinstance(n, dict) and "@id" in n}
    stack = list(reversed(data))
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if any(k.startswith(SCHEMA_PREFIXES) for k in node):
                node = _simplify(node, index)
            if is_target(node):
                yield node
                continue
            for key in ("@graph", "itemListElement", "item", "mainEntity", "hasPart", "event",
                        "subEvent"):
                if key in node:
                    stack.append(node[key])


def _first(value: Any) -> Any:
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


def value_text(value: Any) -> str:
    """A property value as text: the first of a list, the name or @id of a node."""
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id") or ""
    return clean(str(value)) if value is not None else ""


def match_key(url: str | None) -> str | None:
    """The normalized URL without its fragment, under which nodes and items are matched."""
    if not url:
        return None
    try:
        return normalize_url(str(url).split("#", 1)[0])
    except InvalidURL:
        return None


def node_url(node: dict[str, Any]) -> str | None:
    """The URL a node describes: `url`, else its `@id` without the fragment."""
    return value_text(node.get("url")) or (value_text(node.get("@id")).split("#", 1)[0] or None)


def matching_nodes(nodes: list[dict[str, Any]], urls: list[str | None], *,
                   allow_unnamed: bool) -> list[dict[str, Any]]:
    """Nodes about one of `urls`; else, if allowed, the single node that names no URL."""
    keys = {k for k in (match_key(u) for u in urls) if k}
    matched = [n for n in nodes if match_key(node_url(n)) in keys]
    if matched:
        return matched
    unnamed = [n for n in nodes if not node_url(n)]
    if allow_unnamed and len(unnamed) == 1 and len(nodes) == 1:
        return unnamed
    if allow_unnamed:
        # a detail page's own node may drop display parameters of the link (LibCal's ?hs=a)
        paths = {k.split("?", 1)[0] for k in keys}
        same_path = [n for n in nodes if (match_key(node_url(n)) or "?").split("?", 1)[0] in paths]
        if len(same_path) == 1:
            return same_path
    return []


def value_instant(value: Any, tz: str, *, end: bool) -> datetime | None:
    """A date or time value in `tz`; a bare end date is the end of that day."""
    text = value_text(value)
    parsed = parse_instant(text, tz=tz) if text else None
    if parsed is not None and end and len(text) == 10:
        parsed = datetime.combine(parsed.date(), time(23, 59), tzinfo=parsed.tzinfo)
    return parsed


def _offers(node: dict[str, Any], currency: str, now: datetime) -> tuple[Fees | None, str]:
    if str(_first(node.get("isAccessibleForFree"))).lower() == "true":
        return Fees(True, [Tier("", Decimal("0.00"), currency, "isAccessibleForFree")],
                    "isAccessibleForFree"), "isAccessibleForFree"
    offers = node.get("offers")
    if offers is None:
        return None, ""
    offers = offers if isinstance(offers, list) else [offers]
    tiers: list[Tier] = []
    stale = False
    for offer in offers:
        if not isinstance(offer, dict) or "AggregateOffer" in _types(offer):
            continue
        valid = value_text(offer.get("priceValidUntil"))
        if valid:
            until = parse_instant(valid, tz="UTC")
            if until is not None and until.date() < now.date():
                stale = True
                continue
        spec = _first(offer.get("priceSpecification"))
        price = offer.get("price")
        if price is None and isinstance(spec, dict):
            price = spec.get("price")
        cur = value_text(offer.get("priceCurrency")) or (
            value_text(spec.get("priceCurrency")) if isinstance(spec, dict) else "") or currency
        try:
            amount = Decimal(str(_first(price)).replace(",", "")).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            continue
        label = (value_text(offer.get("name")) or value_text(offer.get("eligibleCustomerType"))
                 or value_text(offer.get("category")))
        tiers.append(Tier(label, amount, cur.upper(), str(_first(price))))
    if not tiers:
        return None, "stale offer (priceValidUntil passed)" if stale else ""
    if len(tiers) == 1:
        tiers = [Tier("", tiers[0].amount, tiers[0].currency, tiers[0].raw)]
    raw = "; ".join(f"{t.tier} {t.raw}".strip() for t in tiers)
    return Fees(True, tiers, raw), "offers"


_AVAILABILITY = {"SoldOut": "sold_out", "OutOfStock": "sold_out", "Discontinued": "closed"}


def _identity(node: dict[str, Any], source: str, kind: str) -> list[Candidate]:
    """The node's own id (`sku`, `productID`, `identifier`) and its offers' availability."""
    out: list[Candidate] = []
    for key, namespace in (("sku", "sku"), ("productID", "product"), ("identifier", "id")):
        value = _first(node.get(key))
        if isinstance(value, dict):
            value = value.get("value") or value.get("@value")
        text = clean(str(value)) if value not in (None, "") else ""
        if text and not text.startswith(("http://", "https://")):
            out.append(Candidate("platform_id", f"{namespace}:{text}", source, f"{kind} {key}",
                                 text))
            break
    offers = node.get("offers")
    for offer in (offers if isinstance(offers, list) else [offers]):
        if isinstance(offer, dict):
            availability = value_text(offer.get("availability")).rsplit("/", 1)[-1]
            if availability in _AVAILABILITY:
                out.append(Candidate("status", _AVAILABILITY[availability], source,
                                     f"{kind} offers availability", availability))
                break
    return out


def node_candidates(node: dict[str, Any], source: str, *, tz: str, currency: str,
                    now: datetime) -> list[Candidate]:
    """The candidates one schema.org node gives."""
    kind = "/".join(_types(node))
    out: list[Candidate] = []
    name = value_text(node.get("name"))
    if name:
        out.append(Candidate("title", name, source, f"{kind} name", name))
    url = node_url(node)
    if url:
        out.append(Candidate("url", url, source, f"{kind} url", url))
    description = value_text(node.get("description"))
    if description:
        out.append(Candidate("description", description, source, f"{kind} description"))
    timed = node
    instances = node.get("hasCourseInstance")
    if instances:
        choices = [i for i in (instances if isinstance(instances, list) else [instances])
                   if isinstance(i, dict)]
        upcoming = [i for i in choices
                    if (e := value_instant(i.get("endDate") or i.get("startDate"), tz, end=True))
                    and e >= now]
        timed = (upcoming or choices or [node])[0]
    for field, key in (("start", "startDate"), ("end", "endDate")):
        value = value_instant(timed.get(key), tz, end=field == "end")
        if value is not None:
            out.append(Candidate(field, value, source, f"{kind} {key}", value_text(timed.get(key))))
    status = value_text(node.get("eventStatus"))
    if status.endswith("EventCancelled"):
        out.append(Candidate("cancelled", True, source, f"{kind} eventStatus", status))
    out.extend(_identity(node, source, kind))
    fees, how = _offers(timed if timed is not node and timed.get("offers") else node,
                        currency, now)
    if fees is not None:
        out.append(Candidate("fee", fees, source, f"{kind} {how}", fees.raw))
    elif how:
        out.append(Candidate("note", how, source, f"{kind} offers"))
    types = _types(node)
    if any(t in ("Course", "CourseInstance") for t in types):
        out.append(Candidate("format", "course", source, f"{kind} type"))
    return out


def schema_candidates(page: Page, syntax: str, *, urls: list[str | None], fragment: str | None,
                      detail: bool, tz: str, currency: str, now: datetime) -> list[Candidate]:
    """Candidates from one schema.org syntax of a page, or of an item's HTML `fragment`.

    Nodes in an item's fragment belong to the item; elsewhere a node must name the item's URL,
    or be the only node of a detail page.
    """
    data = page.structured(syntax, fragment)
    nodes = list(schema_nodes(data))
    chosen = nodes[:1] if fragment is not None else matching_nodes(
        nodes, urls, allow_unnamed=detail)
    out: list[Candidate] = []
    for node in chosen[:1]:
        out.extend(node_candidates(node, syntax, tz=tz, currency=currency, now=now))
    return out
