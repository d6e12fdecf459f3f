"""Import a LibGuides-style guide page into a shelfcheck catalog file.

`import_guide` reads the page (a file or an http(s) URL), finds its sections (LibGuides boxes, other
box markup, or failing both the headings of the main content) and in each section the resources:
linked names with the text that describes them, in rich-text paragraphs and in link lists. A
paragraph that opens with a bold name and holds no link is a resource without an address
(``url: None``). Page chrome (header, navigation, breadcrumbs, footer, print and login links) is
dropped first. `dump_catalog` writes the result as YAML.

The jobs: `page` reads the page, `sections` finds its sections, `resources` turns their
blocks into resources, `text` reads the markup as text.
"""

from __future__ import annotations

from typing import Any

import yaml
from bs4 import BeautifulSoup

from shelfcheck.catalog.catalogfile import SCHEMA
from shelfcheck.catalog.importguide.page import (
    ImportGuideError,
    guide_title,
    guide_url,
    page_base_url,
    read_page,
    strip_chrome,
)
from shelfcheck.catalog.importguide.resources import section_resources, unique_name
from shelfcheck.catalog.importguide.sections import find_sections

__all__ = ["SCHEMA", "ImportGuideError", "dump_catalog", "import_guide"]

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
    raw, charset, page_url = read_page(source, timeout)
    soup = BeautifulSoup(raw, "html.parser", from_encoding=charset)
    base_url = page_base_url(soup, page_url)
    guide = {"title": guide_title(soup), "url": guide_url(soup, page_url)}
    strip_chrome(soup)
    sections = []
    names: set[str] = set()
    for name, nodes in find_sections(soup):
        resources = section_resources(nodes, base_url, warnings)
        if resources:
            name = unique_name(name, names)
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
