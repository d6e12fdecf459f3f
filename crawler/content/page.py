"""One HTML page decoded and parsed once: title, headings, main text, forms, refresh target."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from bs4 import BeautifulSoup, Tag
from w3lib.encoding import html_to_unicode

# Elements that are never the page's own content.
_NOISE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe")
_CHROME_TAGS = ("nav", "header", "footer", "aside", "form")
_CHROME_WORDS = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|breadcrumbs?|sidebar|footer|header|masthead|cookie|consent|"
    r"banner|alert|announcement|skip|social|share|toolbar|region-header|region-footer|"
    r"site-header|site-footer|utility|pager|related)([-_\s]|$)", re.I)
_MAIN_SELECTORS = ("main", "[role=main]", "article", "#main-content", "#content", "#main",
                   ".main-content", "#region-main", ".s-lib-main", "#s-lg-guide-main",
                   ".entry-content", ".node__content", "#ds-body")
_SPACE = re.compile(r"\s+")


def _text(node: Tag | None) -> str:
    if node is None:
        return ""
    return _SPACE.sub(" ", node.get_text(" ")).strip()


@dataclass
class Page:
    """What a check needs of an HTML page; built by `parse_page`."""

    title: str
    headings: list[str]
    text: str          # every visible word of the body
    main_text: str     # the body without navigation, header, footer and banners
    password_fields: int  # in the main content, not in a sidebar or header login box
    refresh: tuple[float, str] | None
    script_targets: list[str]
    script_text: str
    links: list[str] = field(default_factory=list)

    @cached_property
    def words(self) -> int:
        return len(self.main_text.split())

    @property
    def heading(self) -> str:
        return self.headings[0] if self.headings else ""


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The page as text: the declared charset (header, BOM, meta), else sniffed, else UTF-8."""
    _enc, text = html_to_unicode(content_type, body)
    return text


_REFRESH = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*[;,]?\s*(?:url\s*=\s*)?['\"]?([^'\"]*)['\"]?\s*$",
                      re.I)
_JS_REDIRECT = re.compile(
    r"(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*['\"]([^'\"]+)['\"]"
    r"|location\.(?:replace|assign)\(\s*['\"]([^'\"]+)['\"]\s*\)", re.I)


def _refresh(soup: BeautifulSoup) -> tuple[float, str] | None:
    for meta in soup.find_all("meta"):
        if str(meta.get("http-equiv", "")).strip().lower() != "refresh":
            continue
        match = _REFRESH.match(str(meta.get("content", "")))
        if match and match.group(2).strip():
            return float(match.group(1) or 0), match.group(2).strip()
    return None


def parse_page(body: bytes, content_type: str | None = None) -> Page:
    """Parse an HTML page (or its prefix)."""
    soup = BeautifulSoup(decode_html(body, content_type), "lxml")
    title = _text(soup.title) if soup.title else ""
    refresh = _refresh(soup)
    scripts = [s.get_text() for s in soup.find_all("script") if not s.get("src")]
    script_text = "\n".join(scripts)
    targets = [a or b for a, b in _JS_REDIRECT.findall(script_text)]
    script_srcs = [str(s.get("src")) for s in soup.find_all("script") if s.get("src")]
    for tag in soup.find_all(_NOISE_TAGS):
        tag.decompose()
    links = [str(a.get("href")) for a in soup.find_all("a") if a.get("href")]
    body_tag = soup.body or soup
    headings = [t for t in (_text(h) for h in body_tag.find_all(("h1", "h2"))) if t][:4]
    text = _text(body_tag)
    main, password = _main(body_tag)
    return Page(title, headings, text, main, password, refresh, targets,
                script_text + "\n" + "\n".join(script_srcs), links + script_srcs)


def _main(body: Tag | BeautifulSoup) -> tuple[str, int]:
    """The main text (the main element when there is one, without chrome), and the password
    fields of the main content."""
    chosen: Tag | BeautifulSoup = body
    for selector in _MAIN_SELECTORS:
        found = body.select_one(selector)
        if found is not None and len(_text(found).split()) >= 3:
            chosen = found
            break
    password = sum(1 for field in chosen.select("input[type=password]")
                   if not _in_chrome(field, chosen))
    for tag in list(chosen.find_all(True)):
        if tag.decomposed:
            continue
        if tag.name in _CHROME_TAGS or _is_chrome(tag):
            tag.decompose()
    return _text(chosen), password


def _in_chrome(tag: Tag, root: Tag | BeautifulSoup) -> bool:
    """True when `tag` sits in navigation, a header, footer or sidebar below `root`."""
    for parent in tag.parents:
        if parent is root or parent.name in ("body", "html", "[document]"):
            return False
        if parent.name in ("nav", "header", "footer", "aside") or _is_chrome(parent):
            return True
    return False


def _is_chrome(tag: Tag) -> bool:
    attrs = tag.attrs or {}
    names = " ".join([str(attrs.get("id", "")), *map(str, attrs.get("class", []) or []),
                      str(attrs.get("role", ""))])
    if attrs.get("role") in ("navigation", "banner", "contentinfo", "alert"):
        return True
    return bool(names.strip()) and bool(_CHROME_WORDS.search(names))
