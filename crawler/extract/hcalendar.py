"""hCalendar markup read as candidates: only start and end (its `summary` class often marks a
description), from classic "vevent" and microformats2 "h-event"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parsel import Selector

from shelfcheck.crawler.extract.model import Candidate, Page
from shelfcheck.crawler.extract.structured import match_key, value_instant, value_text
from shelfcheck.crawler.extract.text import clean


def _classic_value(node: Selector) -> str:
    """A classic microformat property value: the value-class pattern, abbr/time attributes."""
    titled = node.css(".value-title::attr(title)").get()
    if titled:
        return titled
    values = node.css(".value")
    if values:
        return " ".join(_classic_value(v) for v in values)
    attrs = node.attrib
    tag = node.root.tag if isinstance(node.root.tag, str) else ""
    if tag == "abbr" and attrs.get("title"):
        return attrs["title"]
    if tag in ("time", "ins", "del") and attrs.get("datetime"):
        return attrs["datetime"]
    if tag in ("data", "input") and attrs.get("value"):
        return attrs["value"]
    return clean(" ".join(node.css("::text").getall()))


def _classic_events(selector: Selector) -> list[dict[str, Any]]:
    """Classic hCalendar (class "vevent"): dtstart, dtend and url, read with parsel."""
    events = []
    for event in selector.css(".vevent"):
        found: dict[str, Any] = {}
        for prop, key in (("dtstart", "start"), ("dtend", "end")):
            nodes = event.css(f".{prop}")
            if nodes:
                found[key] = [_classic_value(nodes[0])]
        url = event.css("a.url::attr(href), .url a::attr(href)").get()
        if url:
            found["url"] = [url]
        events.append(found)
    return events


def _mf_events(items: list[Any]) -> Iterator[dict[str, Any]]:
    """The microformats2 h-event items, nested ones included."""
    for item in items:
        if not isinstance(item, dict):
            continue
        if "h-event" in (item.get("@type") or item.get("type") or []):
            yield item
        yield from _mf_events(item.get("children", []))


def hcalendar_candidates(page: Page, *, urls: list[str | None], fragment: str | None,
                         detail: bool, tz: str) -> list[Candidate]:
    """Start and end from hCalendar markup about the item: classic "vevent" (read directly;
    mf2py's backwards-compatible parse is slow) and microformats2 "h-event" (via extruct)."""
    scope = Selector(text=fragment) if fragment is not None else page.selector
    events = _classic_events(scope) if "vevent" in (fragment or page.text) else []
    if "h-event" in (fragment or page.text):
        events += list(_mf_events(page.structured("microformat", fragment)))
    if not events:
        return []
    keys = {k for k in (match_key(u) for u in urls) if k}
    chosen = [e for e in events if match_key(value_text(e.get("url"))) in keys]
    if not chosen and (fragment is not None or (detail and len(events) == 1)):
        chosen = events[:1]
    out: list[Candidate] = []
    for event in chosen[:1]:
        for field, key in (("start", "start"), ("end", "end")):
            value = value_instant(event.get(key), tz, end=field == "end")
            if value is not None:
                out.append(Candidate(field, value, "hcalendar", f"h-event {key}",
                                     value_text(event.get(key))))
    return out
