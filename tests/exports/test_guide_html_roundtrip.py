"""guide.html, maintainer and public views: `catalog import-guide` reads each back into the
catalog's resources (no flag or offering link taken for a resource, the guide's URL kept), and
both list each provider's upcoming offerings with their dates and fees."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.importguide import import_guide
from shelfcheck.exports.base import get_exporter
from tests.exports_data import (
    BROKEN_URL,
    CATALOG,
    GUIDE,
    NOW,
    REDIRECT_TARGET,
    REDIRECTED_URL,
    populate,
)


def page(engine: Engine, folder: Path, *, public: bool) -> Path:
    path = folder / ("public.html" if public else "maintainer.html")
    with transaction(engine) as session:
        get_exporter("html")(public=public, now=NOW).write(session, path)
    return path


def declared(public: bool) -> list[dict[str, Any]]:
    """The sections and resources of the catalog file, as the view should read back."""
    sections = []
    for section in CATALOG["sections"]:
        resources = []
        for r in section["resources"]:
            url = r["url"]
            if public and url == BROKEN_URL:
                continue  # readers do not get broken links
            if public and url == REDIRECTED_URL:
                url = REDIRECT_TARGET
            resources.append({"title": r["title"], "url": url, "description": r["description"]})
        sections.append({"name": section["name"], "resources": resources})
    return sections


@pytest.mark.parametrize("public", [False, True], ids=["maintainer", "public"])
def test_guide_page_reads_back_as_the_same_resources(engine: Engine, tmp_path: Path,
                                                     public: bool) -> None:
    with transaction(engine) as session:
        populate(session)
    path = page(engine, tmp_path, public=public)
    html = path.read_text(encoding="utf-8")
    if not public:  # the flags and their links are there for the maintainer ...
        assert "web.archive.org" in html and "Suggested replacement" in html
    imported = import_guide(str(path))
    assert imported["guide"] == GUIDE
    assert imported["sections"] == declared(public)  # ... and read back as no resource
    urls = [r["url"] for s in imported["sections"] for r in s["resources"]]
    assert not any(u and "web.archive.org" in u for u in urls)


@pytest.mark.parametrize("public", [False, True], ids=["maintainer", "public"])
def test_both_views_show_upcoming_offerings_with_dates_and_fees(engine: Engine, tmp_path: Path,
                                                               public: bool) -> None:
    with transaction(engine) as session:
        populate(session)
    html = page(engine, tmp_path, public=public).read_text(encoding="utf-8")
    asides = re.findall(r'<aside class="upcoming" aria-label="([^"]+)">(.*?)</aside>', html, re.S)
    by_label = {label: body for label, body in asides}
    assert "Upcoming training at Infopeople" in by_label
    infopeople = by_label["Upcoming training at Infopeople"]
    # in the provider's own time zone, to the minute, with every fee tier and its currency
    assert '<time datetime="2027-02-01T12:00:00-08:00">2027-02-01 12:00 PST</time>' in infopeople
    assert "ALA members: 175.00 USD; non-members: 200.00 USD" in infopeople
    assert "fee: free" in infopeople
    # soonest first, and nothing that has ended
    starts = re.findall(r'<time datetime="([^"]+)"', infopeople)
    assert starts == sorted(starts) and all(s >= "2026-12-01" for s in starts)
    assert html.count('aria-label="Upcoming training at Infopeople"') == 1  # once per provider
    # a provider without upcoming offerings gets no list
    assert "Upcoming training at The A to Z" not in by_label
