"""Reading a guide page: from a file or an http(s) URL, with its encoding, base URL, canonical
address and title; the page chrome (header, navigation, footer, asides) is stripped first."""

from __future__ import annotations

import http.client
import urllib.parse
import urllib.request
from pathlib import Path

from bs4 import BeautifulSoup, Comment, Tag

from shelfcheck import USER_AGENT
from shelfcheck.catalog.importguide.text import clean, node_text
from shelfcheck.errors import UsageError

# Removed before anything else is read; `header`/`footer` only outside the page's content.
_CHROME_SELECTORS = (
    "script", "style", "noscript", "template", "form", "nav", "iframe",
    "[role=navigation]", "[role=banner]", "[role=contentinfo]", "[role=search]",
    ".breadcrumb", ".breadcrumbs", "#s-lib-bc", "#s-lg-guide-tabs", "#s-lg-tabs-container",
    "#s-lg-guide-header", "#s-lg-guide-prev-next", "#s-lib-footer-public", "#s-lg-public-skiplink",
    "#s-lg-alert", ".s-lg-boxnav", "#s-lg-side-nav", ".s-lg-tabs-side", ".sr-only",
    ".visually-hidden", "[class*=s-lib-profile]",
    # Asides and notes are not the guide's resources: sidebars, callouts, and the flags and
    # upcoming-offerings lists of shelfcheck's own guide.html.
    "aside", "[role=complementary]", "[role=note]",
)
_PAGE_CHROME_TAGS = ("header", "footer")
_CONTENT_TAGS = ("main", "article", "section")


class ImportGuideError(UsageError, ValueError):
    """The guide page cannot be read or holds no sections; the message names the source."""


def read_page(source: str, timeout: float) -> tuple[bytes, str | None, str | None]:
    """Return (bytes, charset from the server or None, URL of the page or None)."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return (
                    response.read(),
                    response.headers.get_content_charset(),
                    response.geturl(),
                )
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError is an OSError
            raise ImportGuideError(f"{source}: cannot fetch the page ({exc})") from exc
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(source).path))
    else:
        path = Path(source)
    try:
        return path.read_bytes(), None, None
    except OSError as exc:
        raise ImportGuideError(f"{source}: cannot read the file ({exc.strerror or exc})") from exc


def page_base_url(soup: BeautifulSoup, page_url: str | None) -> str | None:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        return urllib.parse.urljoin(page_url or "", str(base["href"]))
    return page_url or _canonical(soup)


def _canonical(soup: BeautifulSoup) -> str | None:
    for tag in soup.find_all("link", href=True):
        if "canonical" in [r.lower() for r in tag.get_attribute_list("rel") if r]:
            return clean(str(tag["href"])) or None
    og = soup.find("meta", attrs={"property": "og:url"})
    if isinstance(og, Tag) and og.get("content"):
        return clean(str(og["content"])) or None
    return None


def guide_url(soup: BeautifulSoup, page_url: str | None) -> str | None:
    return _canonical(soup) or page_url


def guide_title(soup: BeautifulSoup) -> str | None:
    for candidate in (soup.select_one("#s-lg-guide-name"), soup.find("h1")):
        if isinstance(candidate, Tag) and (text := node_text(candidate)):
            return text
    if soup.title and (text := clean(soup.title.get_text())):
        # LibGuides: "Page - Guide - LibGuides at Site"; elsewhere the whole title.
        parts = [p for p in text.split(" - ") if p]
        return parts[1] if len(parts) >= 3 else parts[0]
    return None


def strip_chrome(soup: BeautifulSoup) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.select(", ".join(_CHROME_SELECTORS)):
        tag.decompose()
    for tag in soup.find_all(_PAGE_CHROME_TAGS):
        if tag.find_parent(_CONTENT_TAGS) is None:
            tag.decompose()
