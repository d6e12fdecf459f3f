"""What extractors read and produce: pages, and candidate values per field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from parsel import Selector

FIELDS = ("title", "when", "start", "end", "fee", "format", "lssc", "description", "status")
"""Field names a recipe may declare under `fields:`."""

STRUCTURED_KINDS = ("json-ld", "microdata", "rdfa", "hcalendar", "ical")
"""Structured-data extractor kinds, in their default order of precedence."""

_MARKERS = {
    "json-ld": ("application/ld+json",),
    "microdata": ("itemscope",),
    "rdfa": ("typeof=", "property=", "vocab="),
    "microformat": ("h-event",),
}


@dataclass
class Page:
    """A fetched page: its (real, not host-mapped) URL, text and a lazily built selector."""

    url: str
    text: str
    content_type: str = "text/html"

    @cached_property
    def base_url(self) -> str:
        """The URL relative links resolve against (honours ``<base href>``)."""
        from w3lib.html import get_base_url

        return str(get_base_url(self.text[:20000], self.url))

    @cached_property
    def selector(self) -> Selector:
        """The parsel selector over the page."""
        return Selector(text=self.text or "<html></html>", base_url=self.url)

    @cached_property
    def _structured(self) -> dict[str, list[Any]]:
        return {}

    def structured(self, syntax: str, html: str | None = None) -> list[Any]:
        """extruct's uniform output for one syntax, of the page or of an HTML fragment of it.

        Markup without the syntax's telltale attributes is skipped without parsing.
        """
        text = html if html is not None else self.text
        if not any(mark in text for mark in _MARKERS.get(syntax, ("",))):
            return []
        key = f"{syntax}:{hash(html) if html is not None else ''}"
        cache = self._structured
        if key not in cache:
            import extruct

            if syntax == "microformat" and html is None:
                # mf2py is slow on whole pages: parse only the event elements
                fragments = self.selector.css(".h-event").getall()
                items: list[Any] = []
                for fragment in fragments:
                    items.extend(self.structured("microformat", fragment))
                cache[key] = items
                return items
            try:
                data = extruct.extract(text, base_url=self.url, syntaxes=[syntax], uniform=True,
                                       errors="ignore")
            except Exception:  # extruct raises on broken markup; structured data is optional
                data = {}
            cache[key] = list(data.get(syntax, []))
        return cache[key]


@dataclass(frozen=True)
class Candidate:
    """One value for one field, with where it came from."""

    field: str
    value: Any
    source: str  # a STRUCTURED_KINDS kind, "selector" or "recipe"
    detail: str = ""  # e.g. "css '.price' on the detail page", "Product offers"
    raw: str | None = None

    @property
    def structured(self) -> bool:
        """True when the value came from structured data."""
        return self.source in STRUCTURED_KINDS
