"""The value types of a recipe (`crawler.recipe`): each check raises ValueError with the message
`catalog sync` shows beside the key path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator

from shelfcheck.crawler.extract.model import STRUCTURED_KINDS

SCOPES = ("listing", "detail", "page")
FORMATS = ("webinar", "course", "self-paced", "workshop", "event")
SCHEDULES = ("self-paced", "unscheduled")
PREFERENCES = ("structured", "selector")
PREFERABLE = ("title", "when", "start", "end", "fee", "format", "description", "status")


def _css(selector: Any) -> str:
    from cssselect import SelectorError
    from parsel.csstranslator import HTMLTranslator

    if not isinstance(selector, str) or not selector.strip():
        raise ValueError("must be a non-empty CSS selector")
    try:
        HTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise ValueError(f"CSS selector {selector!r} does not parse: {exc}") from None
    except Exception as exc:  # cssselect raises other errors on some inputs
        raise ValueError(f"CSS selector {selector!r} does not parse: {exc}") from None
    return selector


def _regex(pattern: Any) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("must be a non-empty regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"regular expression {pattern!r} does not compile: {exc}") from None
    return pattern


def _url(url: Any) -> str:
    from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

    if not isinstance(url, str):
        raise ValueError("must be a URL")
    try:
        normalize_url(url)
    except InvalidURL as exc:
        raise ValueError(str(exc)) from None
    return url


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text")
    return value


def check_one_of(allowed: tuple[str, ...], what: str = "must be one of") -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"{what} {', '.join(allowed)}")
        return str(value)
    return check


def check_preference(value: Any) -> str:
    if value not in PREFERENCES:
        raise ValueError("must be 'structured' or 'selector'")
    return str(value)


def check_kind(value: Any) -> str:
    if value not in STRUCTURED_KINDS:
        raise ValueError(f"unknown kind {value!r} (allowed: {', '.join(STRUCTURED_KINDS)})")
    return str(value)


def check_zone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return str(value)


def check_hook(value: Any) -> str:
    from shelfcheck.crawler.extract.hooks import HOOKS

    if value not in HOOKS:
        known = ", ".join(sorted(HOOKS)) or "none are registered"
        raise ValueError(f"unknown hook {value!r} ({known})")
    return str(value)


def check_preset(value: Any) -> str:
    from shelfcheck.crawler.presets import PRESETS

    if value not in PRESETS:
        raise ValueError(f"unknown preset {value!r} (known: {', '.join(sorted(PRESETS))})")
    return str(value)


def check_currency(value: Any) -> str:
    if not (isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value)):
        raise ValueError("must be an ISO 4217 code such as USD")
    return value


def check_at_least_one(value: int) -> int:
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def listify(value: Any) -> Any:
    return [value] if isinstance(value, str | Mapping) else value


def check_format_map(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("must map page text to a format")
    bad = [v for v in value.values() if v not in FORMATS]
    if bad:
        raise ValueError(f"unknown format {bad[0]!r} (allowed: {', '.join(FORMATS)})")
    return tuple(value.items())


Css = Annotated[str, BeforeValidator(_css)]
Regex = Annotated[str, BeforeValidator(_regex)]
Url = Annotated[str, BeforeValidator(_url)]
Text = Annotated[str, BeforeValidator(_text)]
