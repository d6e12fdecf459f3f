"""One HTML page decoded and parsed once: title, headings, main text, forms, refresh target.

Parsed with lxml.html (a 256 KB page in about 10 ms; BeautifulSoup took 70 times longer), after
w3lib decoded it by its declared or sniffed encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree
from w3lib.encoding import html_to_unicode

from shelfcheck.crawler.content.wording import fold

# Elements that are never the page's own content.
_NOISE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe")
_CHROME_TAGS = frozenset(("nav", "header", "footer", "aside", "form"))
_BOX_TAGS = frozenset(("nav", "header", "footer", "aside"))  # a login box there is no wall
_CHROME_WORDS = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|breadcrumbs?|sidebar|footer|header|masthead|cookie|consent|"
    r"banner|alert|announcement|skip|social|share|toolbar|region-header|region-footer|"
    r"site-header|site-footer|utility|pager|related)([-_\s]|$)", re.I)
_CHROME_ROLES = frozenset(("navigation", "banner", "contentinfo", "alert"))


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# The main content containers of common platforms, best first.
_MAIN_XPATHS = [etree.XPath(x) for x in (
    "//main", "//*[@role='main']", "//article", "//*[@id='main-content']", "//*[@id='content']",
    "//*[@id='main']", f"//*[{_has_class('main-content')}]", "//*[@id='region-main']",
    f"//*[{_has_class('s-lib-main')}]", "//*[@id='s-lg-guide-main']",
    f"//*[{_has_class('entry-content')}]", f"//*[{_has_class('node__content')}]",
    "//*[@id='ds-body']",
)]
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _text(node: etree._Element | None) -> str:
    if node is None:
        return ""
    return " ".join(" ".join(node.itertext()).split())  # str.split's whitespace is re's \s


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
    _folds: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def fold(self, text: str) -> str:
        """`wording.fold(text)`, worked out once per page: the rules fold the same texts."""
        folded = self._folds.get(text)
        if folded is None:
            folded = self._folds[text] = fold(text)
        return folded

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

EMPTY = Page("", [], "", "", 0, None, [], "", [])


def _refresh(doc: etree._Element) -> tuple[float, str] | None:
    for meta in doc.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        match = _REFRESH.match(meta.get("content") or "")
        if match and match.group(2).strip():
            return float(match.group(1) or 0), match.group(2).strip()
    return None


def parse_page(body: bytes, content_type: str | None = None) -> Page:
    """Parse an HTML page (or its prefix); an empty or unparsable body gives an empty page."""
    text = _XML_DECLARATION.sub("", decode_html(body, content_type))
    if not text.strip():
        return EMPTY
    try:
        doc = etree.fromstring(text, _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return EMPTY
    if doc is None:
        return EMPTY
    title_node = doc.find(".//title")
    title = _text(title_node) if title_node is not None else ""
    refresh = _refresh(doc)
    scripts = list(doc.iter("script"))
    inline = [s.text or "" for s in scripts if not s.get("src")]
    sources = [s.get("src") or "" for s in scripts if s.get("src")]
    script_text = "\n".join(inline)
    targets = [a or b for a, b in _JS_REDIRECT.findall(script_text)]
    for node in list(doc.iter(*_NOISE_TAGS)):
        _drop(node)
    links = [a.get("href") or "" for a in doc.iter("a") if a.get("href")]
    body_node = doc.find("body")
    root = body_node if body_node is not None else doc
    headings = [t for t in (_text(h) for h in root.iter("h1", "h2")) if t][:4]
    main, password = _main(root)
    return Page(title, headings, _text(root), main, password, refresh, targets,
                script_text + "\n" + "\n".join(sources), links + sources)


def _drop(node: etree._Element) -> None:
    """Remove an element but keep the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + " " + tail
        else:
            parent.text = (parent.text or "") + " " + tail
    parent.remove(node)


def _main(root: etree._Element) -> tuple[str, int]:
    """The main text (the main element when there is one, without chrome), and the password
    fields of the main content."""
    chosen = root
    for xpath in _MAIN_XPATHS:
        found = next((n for n in xpath(root) if len(_text(n).split()) >= 3), None)
        if found is not None:
            chosen = found
            break
    password = sum(1 for node in chosen.iter("input")
                   if (node.get("type") or "").lower() == "password"
                   and not _in_box(node, chosen))
    chrome: list[etree._Element] = []
    inside: set[etree._Element] = set()
    for node in chosen.iterdescendants():
        if node.getparent() in inside:
            inside.add(node)  # below a chrome element already: goes with it
        elif isinstance(node.tag, str) and (node.tag in _CHROME_TAGS or _is_chrome(node)):
            chrome.append(node)
            inside.add(node)
    for node in chrome:
        _drop(node)
    return _text(chosen), password


def _in_box(node: etree._Element, root: etree._Element) -> bool:
    """True when `node` sits in navigation, a header, footer or sidebar below `root`."""
    for parent in node.iterancestors():
        if parent is root or parent.tag in ("body", "html"):
            return False
        if parent.tag in _BOX_TAGS or _is_chrome(parent):
            return True
    return False


def _is_chrome(node: etree._Element) -> bool:
    role = node.get("role") or ""
    if role in _CHROME_ROLES:
        return True
    names = " ".join((node.get("id") or "", node.get("class") or "", role)).strip()
    return bool(names) and bool(_CHROME_WORDS.search(names))
