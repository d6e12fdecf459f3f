"""Jinja2 environments for the Markdown and HTML reports, and the filters they share.

Every value that came from the web is escaped by default: the HTML environment autoescapes, and
the Markdown environment escapes every `{{ ... }}` output in `finalize` unless a filter marked it
safe. A URL becomes a link only when it is http or https.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from shelfcheck.errors import ConfigError

TEMPLATES_DIR = Path(__file__).with_name("templates")

_WEB_URL = re.compile(r"https?://[^\s<>\"'`\\\x00-\x1f\x7f]+", re.IGNORECASE)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_KEY = re.compile(r"[A-Za-z0-9_.:/+-]+")


class MdSafe(str):
    """Markdown text that is already escaped."""

    __slots__ = ()


def is_web_url(url: object) -> bool:
    """True when `url` is an http or https URL that can be put in a link as it is."""
    return isinstance(url, str) and _WEB_URL.fullmatch(url) is not None


def md_escape(value: object) -> str:
    """Plain text made inert in Markdown: control characters become spaces, markup is escaped."""
    text = _CONTROL.sub(" ", str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_ENTITY.sub(r"\\&", text)


def md_finalize(value: Any) -> str:
    """Escape every output of the Markdown templates that is not already MdSafe."""
    if value is None:
        return ""
    if isinstance(value, MdSafe):
        return value
    return md_escape(value)


def md_url(url: str | None) -> MdSafe:
    """An http(s) URL as a Markdown autolink; any other value as escaped text."""
    if url is None:
        return MdSafe("")
    if is_web_url(url):
        return MdSafe(f"<{url}>")
    return MdSafe(md_escape(url))


def md_code(value: object) -> MdSafe:
    """A key such as `not_found` as inline code; anything else as escaped text."""
    text = "" if value is None else str(value)
    if _KEY.fullmatch(text):
        return MdSafe(f"`{text}`")
    return MdSafe(md_escape(text))


_URL_BREAK = re.compile(r"(?<=[/?&=_-])(?!/)")


def breakable_url(url: str) -> Markup:
    """A URL as escaped text that may wrap after ``/ ? & = _ -`` (a ``<wbr>`` there)."""
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    parts = _URL_BREAK.split(rest)
    return escape(head + sep) + Markup("<wbr>").join(escape(p) for p in parts)


def html_link(url: str | None, text: str | None = None, style: str = "") -> Markup:
    """An http(s) URL as an escaped link; any other value as escaped text, never a link.

    A URL shown as its own label may wrap at sensible points (`breakable_url`)."""
    if url is None:
        return Markup("")
    label = breakable_url(url) if text is None else escape(text)
    if is_web_url(url):
        return Markup('<a href="{}" style="{}">{}</a>').format(url, style, label)
    return label


def zone(name: str) -> ZoneInfo:
    """The time zone `name`, or a ConfigError naming the `timezone` key."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"key 'timezone': unknown time zone (got {name!r})") from None


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 link``, ``2 links``."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """The word for `count` things: ``link`` or ``links``."""
    return singular if count == 1 else plural_form or singular + "s"


def recipe_urls(recipe: object) -> list[str]:
    """The http(s) URLs a recipe names at its top level (the listing pages to check)."""
    if not isinstance(recipe, dict):
        return []
    urls: list[str] = []
    for value in recipe.values():
        for item in value if isinstance(value, list) else [value]:
            if is_web_url(item) and item not in urls:
                urls.append(item)
    return urls


def fee_text(fees: Sequence[Any], fee_known: bool) -> str:
    """Fees as one phrase: ``45.00 USD (members); 60.00 USD``, ``free`` or ``fee not stated``."""
    if not fee_known:
        return "fee not stated"
    if not fees:
        return "free"
    parts = []
    for fee in fees:
        amount = "free" if _is_zero(fee.amount) else f"{fee.amount} {fee.currency}"
        parts.append(f"{amount} ({fee.tier})" if fee.tier else amount)
    return "; ".join(parts)


def money(amount: str | None, currency: str | None) -> str:
    """An amount with its currency (``195.00 USD``), or ``none``."""
    if amount is None:
        return "none"
    return f"{amount} {currency}" if currency else amount


def _is_zero(amount: str) -> bool:
    try:
        return float(amount) == 0
    except ValueError:
        return False


def listing(values: Iterable[str]) -> str:
    """Values joined with "; "."""
    return "; ".join(values)


def environment(kind: str, timezone: str) -> Environment:
    """The Jinja2 environment of `kind` ("md" or "html"), showing times in `timezone`."""
    tz = zone(timezone)

    def when(value: datetime | str | None) -> str:
        if value is None:
            return "(unknown)"
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return value
            if parsed.tzinfo is None:
                return value
            value = parsed
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    def day(value: datetime | None) -> str:
        return "(unknown)" if value is None else value.astimezone(tz).strftime("%Y-%m-%d")

    if kind == "html":
        env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True)
        env.filters["link"] = html_link
    else:
        env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=False,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, finalize=md_finalize)
        env.filters["url"] = md_url
        env.filters["code"] = md_code
    env.filters.update(when=when, day=day, plural=plural, fees=fee_text, listing=listing,
                       money=money, noun=noun, recipe_urls=recipe_urls)
    return env
