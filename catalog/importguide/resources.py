"""Turning a section's blocks into resources: a name, an address and the sentence(s) that
describe it, each address and name once in the section."""

from __future__ import annotations

import urllib.parse
from typing import Any

from bs4 import Tag

from shelfcheck.catalog.importguide.text import (
    BLOCK_TAGS,
    LEAD_PUNCT,
    clean,
    events,
    has_words,
    link_href,
    link_title,
    node_text,
    split_at_last_sentence_end,
)
from shelfcheck.catalog.urlnorm import MAX_URL_LENGTH, url_key, url_problem

_INLINE_TAGS = frozenset({
    "a", "abbr", "b", "bdi", "cite", "code", "em", "font", "i", "mark", "q", "s", "small", "span",
    "strong", "sub", "sup", "u",
})
_BOLD_TAGS = frozenset({"strong", "b"})


def section_resources(nodes: list[Tag], base_url: str | None,
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
                key = url_key(url)
                if key in urls:
                    continue
                urls.add(key)
            if title in titles:
                if url is None:
                    continue
                title = unique_name(f"{title} ({urllib.parse.urlsplit(url).netloc})", titles)
                resource["title"] = title
            titles.add(title)
            resources.append(resource)
    return resources


def _href_problem(url: str) -> str | None:
    """Why `url` cannot be a catalog link, as `catalog sync` would say, or None."""
    problem = url_problem(url)
    if problem:
        return problem
    length = max(len(url), len(url_key(url)))
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


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (2)`, `name (3)`, ... whichever is not taken yet."""
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


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
            if tag.name in BLOCK_TAGS and _outer_block(tag, node) is tag:
                add(tag)
            elif tag.name == "a" and link_href(tag) is not None:
                add(_outer_block(tag, node) or _enclosing(tag, node))
    return blocks


def _outer_block(tag: Tag, root: Tag) -> Tag | None:
    """The outermost block element from `tag` up to `root` (both included), if any."""
    found = tag if tag.name in BLOCK_TAGS else None
    if tag is root:
        return found
    for parent in tag.parents:
        if parent.name in BLOCK_TAGS:
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


def _block_resources(block: Tag, base_url: str | None) -> list[dict[str, Any]]:
    """Split a block at its links; each link is described by the sentence(s) around it.

    "<a>Name</a> – does this." gives "does this."; "Staff at <a>Name</a> write a blog." keeps
    the whole sentence. Text after the last sentence end before the next link belongs to that link.
    """
    links: list[Tag] = []
    texts: list[str] = [""]  # texts[i] is the text between links[i - 1] and links[i]
    for event in events(block, nested_blocks=block.name in BLOCK_TAGS):
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
        title = link_title(link)
        lead = split_at_last_sentence_end(texts[i])[1]
        after = texts[i + 1]
        if i + 1 < len(links):
            after = split_at_last_sentence_end(after)[0] or after
        if has_words(lead):
            description = clean(lead + title + after)
        else:
            description = clean(after).lstrip(LEAD_PUNCT)
        if not description and block.name == "dt":
            following = block.find_next_sibling(True)
            if isinstance(following, Tag) and following.name == "dd":
                description = node_text(following)
        href = link_href(link) or ""
        try:
            url = urllib.parse.urljoin(base_url, href) if base_url else href
        except ValueError:  # e.g. an invalid IPv6 host: reported by _href_problem
            url = href
        url = _browser_form(url)
        resources.append({"title": title, "url": url, "description": description or None})
    return resources


def _bold_lead(block: Tag) -> dict[str, Any] | None:
    """A resource named in bold at the start of a block without links, if the block has one."""
    if any(link_href(a) for a in block.find_all("a")):
        return None
    first = next((s for s in block.find_all(string=True) if clean(str(s))), None)
    if first is None:
        return None
    bold = next((p for p in first.parents if p.name in _BOLD_TAGS), None)
    if bold is None or not any(p is block for p in bold.parents):
        return None
    title = node_text(bold)
    if len(title) < 3 or title.endswith(":"):
        return None
    whole = node_text(block)
    description = whole[len(title):].lstrip(LEAD_PUNCT) if whole.startswith(title) else ""
    if not has_words(description):
        return None  # a bold line on its own is a sub-heading, not a resource
    return {"title": title, "url": None, "description": description}
