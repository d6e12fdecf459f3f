"""Classify a 2xx page, or where a redirect chain landed, into the verdicts of a 200.

`read_page` looks at one page: a redirect stub, a parked domain, a maintenance page, a login
wall, or a not-found notice. `read_landing` looks at where the redirects of a link ended: the
site's home page or a section root (a removed page), or a sign-in page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from shelfcheck.crawler.content.page import Page
from shelfcheck.crawler.content.wording import (
    AWAY_FOR_NOW,
    LOGIN,
    LOGIN_PATH,
    MAINTENANCE,
    MAINTENANCE_NOUN,
    NOT_FOUND_HEADING,
    NOT_FOUND_TEXT,
    PARKED_TEXT,
    PARKING_HOSTS,
)

STUB_MAX_DELAY = 5.0    # seconds of a meta refresh that still counts as immediate
STUB_MAX_WORDS = 60     # words a redirect stub shows at most
SHORT_PAGE = 250        # main-text words below which opening not-found wording may decide
PARKED_MAX_WORDS = 300  # main-text words of a parking page at most
PARKED_EMPTY = 40       # words below which a page with a parking service is nothing else
STUB_PAGE = 80          # main-text words below which opening maintenance wording may decide
OPENING = 700           # characters of main text read for opening wording


@dataclass(frozen=True)
class Finding:
    """A verdict read from a page; `target` is where a stub sends the reader."""

    verdict: str
    detail: str
    target: str | None = None


def read_page(page: Page, url: str) -> Finding | None:
    """The class of a 2xx HTML page at `url`, or None when it reads as the page itself."""
    for judge in (_stub, _parked, _maintenance_heading, _not_found_heading, _login_form,
                  _maintenance_text, _not_found_text):
        found = judge(page, url)
        if found is not None:
            return found
    return None


def _stub(page: Page, url: str) -> Finding | None:
    if page.words > STUB_MAX_WORDS:
        return None
    target = None
    how = ""
    if page.refresh is not None and page.refresh[0] <= STUB_MAX_DELAY:
        target, how = page.refresh[1], f"meta refresh after {page.refresh[0]:g} s"
    elif page.script_targets:
        target, how = page.script_targets[0], "JavaScript redirect"
    if not target:
        return None
    absolute = urljoin(url, target)
    if urlsplit(absolute).scheme not in ("http", "https") or absolute == url:
        return None
    return Finding("redirected", f"{how} to {absolute}", absolute)


def parked_markers(page: Page) -> list[str]:
    """The parking and domain-sale markers of a page."""
    markers: list[str] = []
    hosts = sorted({m.group(0).lower() for m in (PARKING_HOSTS.search(x) for x in page.links)
                    if m} | {m.group(0).lower() for m in PARKING_HOSTS.finditer(page.script_text)})
    if hosts:
        markers.append("parking service " + ", ".join(hosts[:3]))
    text = page.fold(" ".join([page.title, page.text[:20000]]))
    phrases = sorted({m.group(0) for m in PARKED_TEXT.finditer(text)})
    markers.extend(repr(p) for p in phrases[:4])
    return markers


def _parked(page: Page, url: str) -> Finding | None:
    # Parking markers on a page that is nothing else: named after its domain, or nearly empty.
    # A page about domains (or with "related searches") has a title and text of its own.
    markers = parked_markers(page)
    if not markers or page.words >= PARKED_MAX_WORDS:
        return None
    service = markers[0].startswith("parking service")
    if _mentions_domain(page, url) or (service and page.words < PARKED_EMPTY):
        return Finding("parked", "parked or for-sale domain: " + "; ".join(markers))
    return None


def _mentions_domain(page: Page, url: str) -> bool:
    """True when the title or first heading is the domain name itself, or names it for sale."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if not host:
        return False
    for text in (page.title, page.heading):
        folded = page.fold(text).removeprefix("www.").strip(" !.")
        if folded == host or (host in folded and PARKED_TEXT.search(folded)):
            return True
    return False


def _maintenance_heading(page: Page, url: str) -> Finding | None:
    away = page.words < STUB_PAGE and bool(AWAY_FOR_NOW.search(page.fold(page.main_text)))
    for where, text in (("title", page.title), ("heading", " | ".join(page.headings[:2]))):
        folded = page.fold(text)
        if MAINTENANCE.search(folded) or (away and MAINTENANCE_NOUN.search(folded)):
            return Finding("maintenance", f"{where} says {text[:80]!r}")
    return None


def _maintenance_text(page: Page, url: str) -> Finding | None:
    if page.words < STUB_PAGE:
        found = MAINTENANCE.search(page.fold(page.main_text[:OPENING]))
        if found:
            return Finding("maintenance", f"page says {found.group(0)!r}")
    return None


def _login_form(page: Page, url: str) -> Finding | None:
    if not page.password_fields:
        return None
    label = page.fold(" ".join([page.title, *page.headings[:2]]))
    if page.words < 150 or LOGIN.search(label):
        return Finding("login_required", "a sign-in form in place of the content"
                       + (f" ({page.title[:60]!r})" if page.title else ""))
    return None


def _not_found_heading(page: Page, url: str) -> Finding | None:
    for where, text in (("title", page.title), ("heading", page.heading)):
        if text and NOT_FOUND_HEADING.search(page.fold(text)):
            return Finding("soft_404", f"{where} says {text[:80]!r}")
    return None


def _not_found_text(page: Page, url: str) -> Finding | None:
    if page.words < SHORT_PAGE:
        found = NOT_FOUND_TEXT.search(page.fold(page.main_text[:OPENING]))
        if found:
            return Finding("soft_404", f"page says {found.group(0)!r}")
    return None


def not_found_wording(page: Page) -> str | None:
    """The not-found wording of a page, or None (the soft-404 rule alone)."""
    found = _not_found_heading(page, "") or _not_found_text(page, "")
    return found.detail if found else None


# --- where a redirect chain landed ----------------------------------------------------------

_HOME_NAMES = re.compile(
    r"^/((index|default|home|start|welcome|main)(\.[a-z]{2,5})?|"
    r"(en|fr|de|es|it|pt|nl|sv|da|nb|no|fi|pl|cs|ja|zh|ko|ru|ar|he|tr|el|hu|ro|ca|eu|cy)"
    r"([-_][a-z]{2})?(/(index|home)(\.[a-z]{2,5})?)?)/?$", re.I)


def _segments(path: str) -> list[str]:
    return [s for s in unquote(path).split("/") if s]


def is_home(path: str) -> bool:
    """True for the site root and its usual aliases (/index.html, /home, /en/)."""
    return path in ("", "/") or bool(_HOME_NAMES.match(path))


def read_landing(url: str, final_url: str) -> Finding | None:
    """The class of the page a link's redirects landed on, or None when nothing is wrong."""
    start, end = urlsplit(url), urlsplit(final_url)
    if LOGIN_PATH.search(end.path) and not LOGIN_PATH.search(start.path):
        return Finding("login_required", f"redirects to a sign-in page ({final_url})")
    if "ezproxy" in (end.hostname or "") or "/login?url=" in final_url.lower():
        return Finding("login_required", f"redirects to a proxy sign-in ({final_url})")
    before, after = _segments(start.path), _segments(end.path)
    if not before or is_home(start.path):
        return None
    same_site = (start.hostname or "").removeprefix("www.") == \
        (end.hostname or "").removeprefix("www.")
    if is_home(end.path) and not end.query:
        where = "the site's home page" if same_site else f"the home page of {end.hostname}"
        return Finding("redirect_to_home", f"redirects to {where} ({final_url})")
    if same_site and len(after) == 1 and len(before) >= 2 and not end.query \
            and before[0].lower() == after[0].lower():
        return Finding("redirect_to_home",
                       f"redirects to the section root /{after[0]}/ ({final_url})")
    return None
