"""Declarative field selectors: CSS, label patterns ("Dates: ..."), sentences and fee rows."""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from parsel import Selector, SelectorList

from shelfcheck.crawler.extract.dates import When, parse_instant, parse_when
from shelfcheck.crawler.extract.fees import Fees, fees_from_rows, parse_fees
from shelfcheck.crawler.extract.model import Candidate
from shelfcheck.crawler.extract.text import clean, element_text, excerpt
from shelfcheck.crawler.recipe import FieldSpec, Recipe

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$(\"'])|\n")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class Scopes:
    """What a field spec can read: the item on the listing page, that page, the detail page."""

    item: Selector
    page: Selector
    detail: Selector | None

    def get(self, scope: str) -> Selector | None:
        """The selector of one scope (None when the detail page was not fetched)."""
        return {"listing": self.item, "page": self.page, "detail": self.detail}[scope]


@dataclass
class FieldResult:
    """A field's candidate (or None), and whether any of its specs matched an element."""

    candidate: Candidate | None
    matched: bool
    tried: list[str] = field(default_factory=list)


_HIDDEN = ("screen-reader-text", "sr-only", "visually-hidden", "element-invisible")


def fee_text(root: Any) -> str:
    """The text of a price element with a sale made explicit: the struck-through amount
    (`<del>`, `<s>`, `<strike>`) reads "Regular price …", and screen-reader copies of the
    amounts ("Original price was: …") are dropped when the markup says it already."""
    if not isinstance(root, etree._Element):
        return element_text(root)
    struck = root.xpath(".//del|.//s|.//strike")
    if not struck:
        return element_text(root)
    copy = deepcopy(root)
    for node in copy.xpath(".//*[@class]"):
        if any(c in _HIDDEN for c in (node.get("class") or "").split()):
            parent = node.getparent()
            if parent is not None:
                tail = node.tail
                parent.remove(node)
                if tail:
                    prev = node.getprevious()
                    if prev is not None:
                        prev.tail = (prev.tail or "") + tail
                    else:
                        parent.text = (parent.text or "") + tail
    for node in copy.xpath(".//del|.//s|.//strike"):
        node.text = "Regular price: " + (node.text or "")
        node.tail = " " + (node.tail or "")
    return element_text(copy)


def _text_of(nodes: SelectorList[Selector], attr: str | None, *, fee: bool = False) -> str:
    texts = []
    for node in nodes:
        if attr:
            value = node.attrib.get(attr)
            if value is not None:
                texts.append(value)
        elif isinstance(node.root, str):
            texts.append(node.root)
        else:
            texts.append(fee_text(node.root) if fee else element_text(node.root))
    return "\n".join(t for t in texts if t.strip())


def _label_value(text: str, label: str) -> str | None:
    pattern = re.compile(rf"^\s*{re.escape(label.rstrip(':'))}\s*[:\-–]?\s*(.*)$",
                         re.IGNORECASE | re.MULTILINE)
    match = pattern.search(text)
    return match.group(1).strip() if match else None


def read_text(spec: FieldSpec, scope: Selector, *, fee: bool = False) -> tuple[str | None, str]:
    """The text a spec selects in a scope: (None, raw) when its element or label is absent."""
    nodes = scope.css(spec.css) if spec.css else SelectorList([scope])
    if not nodes:
        return None, ""
    text = _text_of(nodes, spec.attr, fee=fee)
    if spec.css and not text and spec.attr:
        return None, ""
    if spec.label:
        value = _label_value(text, spec.label)
        if value is None:
            return None, text
        text = value
    if spec.sentences:
        wanted = re.compile(spec.sentences)
        text = " ".join(s for s in _SENTENCE.split(text) if wanted.search(s))
    return text, text


def _convert(name: str, spec: FieldSpec, text: str, recipe: Recipe, tz: str,
             now: datetime) -> tuple[Any, str | None]:
    """A selected text to a field value; (None, raw) when the text gives none."""
    flat = clean(text)
    if name == "lssc":
        return (re.search(spec.pattern or "", text, re.IGNORECASE) is not None), flat
    if spec.pattern:
        match = re.search(spec.pattern, text)
        if match is None:
            return None, flat
        text = (match.group(1) if match.groups() else match.group(0)) or ""
        flat = clean(text)
    if name == "title":
        return (flat or None), flat
    if name == "description":
        return excerpt(text), flat
    if name == "status":
        from shelfcheck.crawler.extract.platform import status_of

        found = status_of(flat)
        return (found.value if found else None), flat
    if name == "format":
        for key, value in spec.map:
            if key.casefold() in flat.casefold():
                return value, flat
        return None, flat
    if name == "fee":
        fees = parse_fees(text, currency=recipe.currency)
        return (fees if fees.known or fees.problem else None), flat
    if name == "when":
        when = parse_when(text, tz=tz, date_order=recipe.date_order, now=now)
        return (when if when.schedule != "unknown" else None), flat
    if name in ("start", "end"):
        if _ISO.match(flat):
            return parse_instant(flat, tz=tz), flat
        when = parse_when(text, tz=tz, date_order=recipe.date_order, now=now)
        return (when.start if when.schedule == "scheduled" else None), flat
    raise AssertionError(name)


def _rows(spec: FieldSpec, scope: Selector, recipe: Recipe) -> tuple[Fees | None, bool, str]:
    rows = scope.css(spec.rows or "")
    if not rows:
        return None, False, ""
    pairs = []
    for row in rows:
        label = _text_of(row.css(spec.tier), None) if spec.tier else ""
        amount = _text_of(row.css(spec.amount or ""), None, fee=True)
        if amount:
            pairs.append((clean(label), clean(amount)))
    fees = fees_from_rows(pairs, currency=recipe.currency) if pairs else None
    usable = fees is not None and (fees.known or fees.problem is not None)
    return (fees if usable else None), True, (fees.raw if fees else "")


def select_field(name: str, recipe: Recipe, scopes: Scopes, *, tz: str,
                 now: datetime) -> FieldResult:
    """Try a field's specs in order; the first that yields a value gives the candidate."""
    result = FieldResult(None, False)
    for spec in recipe.fields.get(name, ()):
        scope_name = recipe.scope_of(spec)
        where = spec.describe(scope_name)
        result.tried.append(where)
        if spec.const is not None:
            value: Any = spec.const
            if name == "fee":
                value = parse_fees(str(spec.const), currency=recipe.currency)
            elif name == "when":
                value = parse_when(str(spec.const), tz=tz, date_order=recipe.date_order, now=now)
            result.matched = True
            result.candidate = Candidate(name, value, "recipe", where, str(spec.const))
            return result
        scope = scopes.get(scope_name)
        if scope is None:
            continue
        if spec.rows:
            fees, matched, raw = _rows(spec, scope, recipe)
            result.matched = result.matched or matched or spec.optional
            if fees is not None:
                result.candidate = Candidate(name, fees, "selector", where, raw)
                return result
            continue
        text, _raw = read_text(spec, scope, fee=name == "fee")
        if text is None:
            result.matched = result.matched or spec.optional
            continue
        result.matched = True
        value, converted_raw = _convert(name, spec, text, recipe, tz, now)
        if value is not None:
            result.candidate = Candidate(name, value, "selector", where, converted_raw)
            return result
    return result


def when_parts(candidate: Candidate) -> list[Candidate]:
    """A `when` candidate split into start/end/schedule candidates of the same source."""
    when: When = candidate.value
    parts = [Candidate("schedule", when.schedule, candidate.source, candidate.detail, when.raw)]
    if when.start is not None:
        parts.append(Candidate("start", when.start, candidate.source, candidate.detail, when.raw))
    if when.end is not None:
        parts.append(Candidate("end", when.end, candidate.source, candidate.detail, when.raw))
    if when.timezone:
        parts.append(Candidate("timezone", when.timezone, candidate.source, candidate.detail))
    return parts
