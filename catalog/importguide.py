"""Import a LibGuides-style guide page into a shelfcheck catalog file.

`import_guide` reads the page (a file or an http(s) URL), finds its sections (LibGuides boxes, other
box markup, or failing both the headings of the main content) and in each section the resources:
linked names with the text that describes them, in rich-text paragraphs and in link lists. A
paragraph that opens with a bold name and holds no link is a resource without an address
(``url: None``). Page chrome (header, navigation, breadcrumbs, footer, print and login links) is
dropped first. `dump_catalog` writes the result as YAML.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from shelfcheck import USER_AGENT
from shelfcheck.catalog.urlnorm import MAX_URL_LENGTH, InvalidURL, normalize_url, url_problem
from shelfcheck.errors import UsageError

SCHEMA = "shelfcheck.catalogfile/1"

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

# Elements that hold one resource (or one run of them): the outermost of these around a link.
_BLOCK_TAGS = frozenset({"p", "li", "dt", "dd", "tr", "blockquote", "figure"})
# Elements that start a new piece of text: a space goes between them.
_BREAK_TAGS = frozenset({
    "br", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th", "table", "section",
    "article", "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
})
_INLINE_TAGS = frozenset({
    "a", "abbr", "b", "bdi", "cite", "code", "em", "font", "i", "mark", "q", "s", "small", "span",
    "strong", "sub", "sup", "u",
})
_BOLD_TAGS = frozenset({"strong", "b"})
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")

_BOX_CLASS = re.compile(r"^(?:s-lib-box|s-lg-box|box|panel|card|guide-box|content-box)$")
_BOX_TITLE_SELECTORS = (
    ".s-lib-box-title", ".box-title", ".panel-title", ".panel-heading", ".card-title",
    ".card-header",
)
_SKIP_HREF = re.compile(r"^\s*(?:#|mailto:|javascript:|tel:|data:|about:|sms:|callto:)",
                        re.IGNORECASE)
_SKIP_HREF_PARTS = ("libapps.com/libapps/login", "login.php")
_SKIP_LINK_TEXT = re.compile(
    r"^(?:print(?: page)?|log ?in(?: to libapps)?|sign in|skip to (?:main )?content"
    r"|report a problem\.?|more info(?:rmation)?|show description|(?:back to )?top)$",
    re.IGNORECASE,
)
# Where a sentence or a line ends: text from here on belongs to the next link's sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n")
_WHITESPACE = re.compile(r"\s+")
# Punctuation that joins a name to its description: "Name – does this", "Name: does this".
_LEAD_PUNCT = " \t-\u2010\u2011\u2012\u2013\u2014\u2015:;,.|"


class ImportGuideError(UsageError, ValueError):
    """The guide page cannot be read or holds no sections; the message names the source."""


def import_guide(source: str, *, timeout: float = 20.0,
                 warnings: list[str] | None = None) -> dict[str, Any]:
    """Read a LibGuides-style page (file path or http(s) URL) and return it as a catalog dict.

    Resources carry ``title``, ``url`` (None for a named resource without a link) and
    ``description`` (None where the page gives none); providers are left to the curator.
    Whatever it returns, `catalog sync` accepts: a link whose address is not a usable http(s)
    URL (another scheme, malformed, over the length limit) is skipped with a line appended to
    `warnings`, and titles and section names are made unique. Raises ImportGuideError for
    unreadable input or a page without sections.
    """
    warnings = [] if warnings is None else warnings
    raw, charset, page_url = _read(source, timeout)
    soup = BeautifulSoup(raw, "html.parser", from_encoding=charset)
    base_url = _base_url(soup, page_url)
    guide = {"title": _guide_title(soup), "url": _guide_url(soup, page_url)}
    _strip_chrome(soup)
    sections = []
    names: set[str] = set()
    for name, nodes in _sections(soup):
        resources = _resources(nodes, base_url, warnings)
        if resources:
            name = _unique(name, names)
            names.add(name)
            sections.append({"name": name, "resources": resources})
    if not sections:
        raise ImportGuideError(f"{source}: no sections with resources found on the page")
    return {"schema": SCHEMA, "guide": guide, "providers": [], "sections": sections}


def dump_catalog(data: dict[str, Any]) -> str:
    """Return `data` as catalog-file YAML (keys in their given order) that loads back equal."""
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )


# -- reading -----------------------------------------------------------------------------------


def _read(source: str, timeout: float) -> tuple[bytes, str | None, str | None]:
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


def _base_url(soup: BeautifulSoup, page_url: str | None) -> str | None:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        return urllib.parse.urljoin(page_url or "", str(base["href"]))
    return page_url or _canonical(soup)


def _canonical(soup: BeautifulSoup) -> str | None:
    for tag in soup.find_all("link", href=True):
        if "canonical" in [r.lower() for r in tag.get_attribute_list("rel") if r]:
            return _clean(str(tag["href"])) or None
    og = soup.find("meta", attrs={"property": "og:url"})
    if isinstance(og, Tag) and og.get("content"):
        return _clean(str(og["content"])) or None
    return None


def _guide_url(soup: BeautifulSoup, page_url: str | None) -> str | None:
    return _canonical(soup) or page_url


def _guide_title(soup: BeautifulSoup) -> str | None:
    for candidate in (soup.select_one("#s-lg-guide-name"), soup.find("h1")):
        if isinstance(candidate, Tag) and (text := _text(candidate)):
            return text
    if soup.title and (text := _clean(soup.title.get_text())):
        # LibGuides: "Page - Guide - LibGuides at Site"; elsewhere the whole title.
        parts = [p for p in text.split(" - ") if p]
        return parts[1] if len(parts) >= 3 else parts[0]
    return None


def _strip_chrome(soup: BeautifulSoup) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.select(", ".join(_CHROME_SELECTORS)):
        tag.decompose()
    for tag in soup.find_all(_PAGE_CHROME_TAGS):
        if tag.find_parent(_CONTENT_TAGS) is None:
            tag.decompose()


# -- sections ------------------------------------------------------------------------------------


def _sections(soup: BeautifulSoup) -> list[tuple[str, list[Tag]]]:
    """Return (name, content nodes) per section in page order: boxes first, else headings.

    Parts that share a name (a box per column, say) make one section.
    """
    parts: list[tuple[str, list[Tag]]] = []
    for box in soup.select("div.s-lib-box") or _other_boxes(soup):
        title = _box_title(box)
        if title is not None:
            name = _text(title)
            title.decompose()
            parts.append((name, [box]))
    sections: dict[str, list[Tag]] = {}
    for name, nodes in parts or _heading_sections(soup):
        if name:
            sections.setdefault(name, []).extend(nodes)
    return list(sections.items())


def _is_box(tag: Tag) -> bool:
    return tag.name in ("section", "article") or any(
        _BOX_CLASS.match(c) for c in tag.get_attribute_list("class") if c
    )


def _other_boxes(soup: BeautifulSoup) -> list[Tag]:
    """Box-like elements with a title that hold no other box-like element with a title."""
    candidates = []
    for tag in soup.find_all(True):
        title = _box_title(tag) if _is_box(tag) else None
        if title is None:
            continue
        if title.name in _HEADINGS and len(tag.find_all(title.name)) > 1:
            continue  # a container of several headed parts, not one box
        candidates.append(tag)
    inner: set[int] = set()
    for tag in candidates:
        inner.update(id(p) for p in tag.parents)
    return [t for t in candidates if id(t) not in inner]


def _box_title(box: Tag) -> Tag | None:
    for selector in _BOX_TITLE_SELECTORS:
        found = box.select_one(selector)
        if found is not None:
            return found
    found = box.find(_HEADINGS)
    return found if isinstance(found, Tag) else None


def _heading_sections(soup: BeautifulSoup) -> list[tuple[str, list[Tag]]]:
    """Sections from the highest heading level of the main content, each up to the next one."""
    main = soup.select_one("#s-lg-guide-main, main, [role=main], #content") or soup.body or soup
    level = next((h for h in _HEADINGS if main.find(h)), None)
    if level is None:
        return []
    stop = set(_HEADINGS[: _HEADINGS.index(level) + 1])
    inside = {id(tag) for tag in main.find_all(True)}
    sections = []
    for heading in main.find_all(level):
        name = _text(heading)
        taken = {id(d) for d in heading.descendants}
        nodes: list[Tag] = []
        for element in heading.next_elements:
            if not isinstance(element, Tag) or id(element) in taken:
                continue
            if element.name in stop or id(element) not in inside:
                break
            if element.find(list(stop)) is not None:
                continue  # holds the next section's heading: take its children one by one
            if element.parent is not None and id(element.parent) in taken:
                taken.add(id(element))
                continue
            taken.add(id(element))
            nodes.append(element)
        sections.append((name, nodes))
    return sections


# -- resources -----------------------------------------------------------------------------------


def _resources(nodes: list[Tag], base_url: str | None,
               warnings: list[str]) -> list[dict[str, Any]]:
    """The resources of one section's nodes, in page order, each address and title once.

    A repeated address is dropped (pages link a resource again in later sentences); a repeated
    title with a new address gets the address's host added (and a number, when the host repeats
    too), so that titles stay unique. A link without a usable address is skipped with a warning.
    """
    resources: list[dict[str, Any]] = []
    urls: set[str] = set()
    titles: set[str] = set()
    for block in _blocks(nodes):
        for resource in _block_resources(block, base_url):
            url = resource["url"]
            title = resource["title"]
            if url is not None:
                problem = _href_problem(url)
                if problem:
                    warnings.append(f"skipped the link {title[:80]!r}: {problem}")
                    continue
                key = _url_key(url)
                if key in urls:
                    continue
                urls.add(key)
            if title in titles:
                if url is None:
                    continue
                title = _unique(f"{title} ({urllib.parse.urlsplit(url).netloc})", titles)
                resource["title"] = title
            titles.add(title)
            resources.append(resource)
    return resources


def _href_problem(url: str) -> str | None:
    """Why `url` cannot be a catalog link, as `catalog sync` would say, or None."""
    problem = url_problem(url)
    if problem:
        return problem
    length = max(len(url), len(_url_key(url)))
    if length > MAX_URL_LENGTH:
        return f"the address is {length} characters long; at most {MAX_URL_LENGTH} are accepted"
    return None


def _browser_form(url: str) -> str:
    """The address as a browser requests it: tabs and newlines dropped, spaces as %20 (in the
    path and query only: a space in the host stays, and makes the link skipped)."""
    text = url.strip().replace("\t", "").replace("\n", "").replace("\r", "")
    try:
        netloc = urllib.parse.urlsplit(text).netloc
    except ValueError:
        return text
    return text if " " in netloc else text.replace(" ", "%20")


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`, ... whichever is not taken yet."""
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def _url_key(url: str) -> str:
    """The normalised form under which the catalog compares addresses."""
    try:
        return normalize_url(url)
    except InvalidURL:
        return url


def _blocks(nodes: list[Tag]) -> list[Tag]:
    """Elements that hold resources: outermost block elements, and the block around each link."""
    blocks: list[Tag] = []
    known: set[int] = set()

    def add(tag: Tag) -> None:
        if id(tag) not in known:
            known.add(id(tag))
            blocks.append(tag)

    for node in nodes:
        for tag in [node, *node.find_all(True)]:
            if tag.name in _BLOCK_TAGS and _outer_block(tag, node) is tag:
                add(tag)
            elif tag.name == "a" and _link_href(tag) is not None:
                add(_outer_block(tag, node) or _enclosing(tag, node))
    return blocks


def _outer_block(tag: Tag, root: Tag) -> Tag | None:
    """The outermost block element from `tag` up to `root` (both included), if any."""
    found = tag if tag.name in _BLOCK_TAGS else None
    if tag is root:
        return found
    for parent in tag.parents:
        if parent.name in _BLOCK_TAGS:
            found = parent
        if parent is root:
            break
    return found


def _enclosing(tag: Tag, root: Tag) -> Tag:
    """The nearest non-inline element around `tag`, no higher than `root`."""
    current = tag
    while current is not root and current.parent is not None and current.name in _INLINE_TAGS:
        current = current.parent
    return current


def _link_href(tag: Tag) -> str | None:
    href = tag.get("href")
    if not isinstance(href, str) or not href.strip() or _SKIP_HREF.match(href):
        return None
    if any(part in href.lower() for part in _SKIP_HREF_PARTS):
        return None
    return href.strip()


def _events(node: Tag, *, nested_blocks: bool = True) -> Iterator[Tag | str]:
    """The text of `node` in order, with each resource link yielded whole (as the Tag).

    Whitespace in the markup becomes single spaces; block elements and ``<br>`` become line
    breaks. Chrome links ("Print page", "More info") are left out. With ``nested_blocks=False``
    the block elements inside `node` are left out too: they are blocks of their own.
    """
    for child in node.children:
        if isinstance(child, Tag):
            if child.name == "a":
                title = _link_title(child)
                if not title:
                    continue
                if _link_href(child) is not None:
                    yield child
                    continue
            elif not nested_blocks and child.name in _BLOCK_TAGS:
                continue
            if child.name in _BREAK_TAGS:
                yield "\n"
            yield from _events(child, nested_blocks=nested_blocks)
            if child.name in _BREAK_TAGS:
                yield "\n"
        elif isinstance(child, NavigableString):
            yield _WHITESPACE.sub(" ", str(child))


def _link_title(link: Tag) -> str:
    """The name a link shows (its text, else its image's alt), or "" for a chrome link."""
    text = _text(link)
    if not text:
        img = link.find("img", alt=True)
        text = _clean(str(img["alt"])) if isinstance(img, Tag) else ""
    return "" if _SKIP_LINK_TEXT.match(text) else text


def _block_resources(block: Tag, base_url: str | None) -> list[dict[str, Any]]:
    """Split a block at its links; each link is described by the sentence(s) around it.

    "<a>Name</a> – does this." gives "does this."; "Staff at <a>Name</a> write a blog." keeps
    the whole sentence. Text after the last sentence end before the next link belongs to that link.
    """
    links: list[Tag] = []
    texts: list[str] = [""]  # texts[i] is the text between links[i - 1] and links[i]
    for event in _events(block, nested_blocks=block.name in _BLOCK_TAGS):
        if isinstance(event, Tag):
            links.append(event)
            texts.append("")
        else:
            texts[-1] += event
    if not links:
        titled = _bold_lead(block)
        return [titled] if titled else []
    resources = []
    for i, link in enumerate(links):
        title = _link_title(link)
        lead = _split_at_last_sentence_end(texts[i])[1]
        after = texts[i + 1]
        if i + 1 < len(links):
            after = _split_at_last_sentence_end(after)[0] or after
        if _has_words(lead):
            description = _clean(lead + title + after)
        else:
            description = _clean(after).lstrip(_LEAD_PUNCT)
        if not description and block.name == "dt":
            following = block.find_next_sibling(True)
            if isinstance(following, Tag) and following.name == "dd":
                description = _text(following)
        href = _link_href(link) or ""
        try:
            url = urllib.parse.urljoin(base_url, href) if base_url else href
        except ValueError:  # e.g. an invalid IPv6 host: reported by _href_problem
            url = href
        url = _browser_form(url)
        resources.append({"title": title, "url": url, "description": description or None})
    return resources


def _bold_lead(block: Tag) -> dict[str, Any] | None:
    """A resource named in bold at the start of a block without links, if the block has one."""
    if any(_link_href(a) for a in block.find_all("a")):
        return None
    first = next((s for s in block.find_all(string=True) if _clean(str(s))), None)
    if first is None:
        return None
    bold = next((p for p in first.parents if p.name in _BOLD_TAGS), None)
    if bold is None or not any(p is block for p in bold.parents):
        return None
    title = _text(bold)
    if len(title) < 3 or title.endswith(":"):
        return None
    whole = _text(block)
    description = whole[len(title):].lstrip(_LEAD_PUNCT) if whole.startswith(title) else ""
    if not _has_words(description):
        return None  # a bold line on its own is a sub-heading, not a resource
    return {"title": title, "url": None, "description": description}


# -- text ----------------------------------------------------------------------------------------


def _text(node: Tag) -> str:
    """The normalised text of `node`, with spaces between block elements."""
    return _clean("".join(e if isinstance(e, str) else _text(e) for e in _events(node)))


def _clean(text: str) -> str:
    """Collapse whitespace (including no-break and zero-width spaces) to single spaces."""
    return " ".join(text.replace("\u200b", "").replace("\ufeff", "").split())


def _split_at_last_sentence_end(text: str) -> tuple[str, str]:
    """(text up to and including its last sentence end, the rest); ("", text) if it has none."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return (text[: ends[-1]], text[ends[-1]:]) if ends else ("", text)


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)
