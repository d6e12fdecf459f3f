"""What the link spider calls: bot walls of a response, the reading of a 2xx page, and which
redirect hops count as a permanent move. Kept apart from the spider so it stays small."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response

from shelfcheck.crawler.content.fingerprint import Fingerprint
from shelfcheck.crawler.content.judge import Judgement, judge
from shelfcheck.crawler.content.page import decode_html
from shelfcheck.crawler.content.walls import bot_wall

PERMANENT = frozenset({301, 308})
STUB_VIA = "via"  # a chain hop's key naming a meta refresh / JavaScript redirect stub


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def wall_of(response: Response) -> str | None:
    """The bot wall that answered instead of the page, or None."""
    if response.status < 400:
        return None

    def header(name: str) -> str | None:
        values = response.headers.getlist(name.encode())
        return b", ".join(values).decode("latin-1") if values else None

    text = decode_html(response.body[:20000], _content_type(response)) if response.body else ""
    return bot_wall(response.status, header, text)


def read_response(url: str, response: Response, redirected: bool, *,
                  baseline: str | None, baseline_title: str | None,
                  catalog_title: str | None) -> Judgement:
    """Judge a 2xx HTML answer of the link `url` (its identity form)."""
    return judge(url, response.url if redirected else url, response.body,
                 _content_type(response),
                 baseline=Fingerprint.load(baseline_title, baseline),
                 catalog_title=catalog_title)


def is_https_upgrade(url: str, target: str) -> bool:
    """True when `target` is `url` moved from http to https, with the same host and path."""
    a, b = urlsplit(url), urlsplit(target)
    return (a.scheme == "http" and b.scheme == "https"
            and (a.hostname or "").removeprefix("www.") == (b.hostname or "").removeprefix("www.")
            and (a.path or "/") == (b.path or "/") and a.query == b.query)


def permanent_lead(chain: Sequence[dict[str, Any]], final_url: str) -> tuple[int, bool]:
    """How many leading hops are permanent moves (301/308, a redirect stub, a same-path
    http → https upgrade), and whether those hops are only such upgrades."""
    targets = [hop["url"] for hop in chain[1:]] + [final_url]
    lead, upgrades = 0, 0
    for hop, target in zip(chain, targets, strict=True):
        upgrade = is_https_upgrade(hop["url"], target)
        if hop["status"] not in PERMANENT and not hop.get(STUB_VIA) and not upgrade:
            break
        lead += 1
        upgrades += int(upgrade)
    return lead, bool(lead) and upgrades == lead


def content_of(judgement: Judgement | None, had_baseline: bool, verdict: str,
               working: frozenset[str]) -> dict[str, Any] | None:
    """The fingerprint an item carries to the pipeline; `baseline` asks to take it as one."""
    if judgement is None or not judgement.fingerprint.sketch:
        return None
    return {"fingerprint": judgement.fingerprint.dump(), "title": judgement.fingerprint.title,
            "baseline": not had_baseline and verdict in working}
