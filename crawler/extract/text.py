"""Text helpers shared by the extractors: visible text of an element, whitespace, excerpts."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr",
    "ul",
})
_CELL_TAGS = frozenset({"td", "th"})
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})


def clean(text: str | None) -> str:
    """Collapse every kind of whitespace (including ``&nbsp;``) to one space, and strip."""
    if not text:
        return ""
    return _SPACES.sub(" ", text).strip()


def element_text(node: Any) -> str:
    """The visible text of an lxml element (or a string), one line per block element or ``<br>``.

    Comments, scripts and styles are skipped; each line is whitespace-collapsed; empty lines
    are dropped.
    """
    if isinstance(node, str):
        return "\n".join(line for line in (clean(p) for p in node.splitlines()) if line)
    parts: list[str] = []

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None:  # comment or processing instruction
            if el.tail:
                parts.append(el.tail)
            return
        tag = tag.lower().rsplit("}", 1)[-1]
        if tag in _SKIP_TAGS:
            if el.tail:
                parts.append(el.tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
        elif tag in _CELL_TAGS:
            parts.append(" ")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
        if block:
            parts.append("\n")
        if el.tail:
            parts.append(el.tail)

    if isinstance(node, etree._Element):
        tail, node.tail = node.tail, None
        try:
            walk(node)
        finally:
            node.tail = tail
    lines = (clean(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def excerpt(text: str | None, limit: int = 300) -> str | None:
    """The first `limit` characters of a whitespace-collapsed text, cut at a word."""
    flat = clean(text)
    if not flat:
        return None
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
