"""Finding a guide page's sections: LibGuides boxes, other box markup, or failing both the
headings of the main content."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from shelfcheck.catalog.importguide.text import node_text

_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_BOX_CLASS = re.compile(r"^(?:s-lib-box|s-lg-box|box|panel|card|guide-box|content-box)$")
_BOX_TITLE_SELECTORS = (
    ".s-lib-box-title", ".box-title", ".panel-title", ".panel-heading", ".card-title",
    ".card-header",
)


def find_sections(soup: BeautifulSoup) -> list[tuple[str, list[Tag]]]:
    """Return (name, content nodes) per section in page order: boxes first, else headings.

    Parts that share a name (a box per column, say) make one section.
    """
    parts: list[tuple[str, list[Tag]]] = []
    for box in soup.select("div.s-lib-box") or _other_boxes(soup):
        title = _box_title(box)
        if title is not None:
            name = node_text(title)
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
        name = node_text(heading)
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
