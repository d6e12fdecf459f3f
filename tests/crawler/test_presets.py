"""Platform presets: two lines of recipe, the recipe's own keys win, sources name the preset."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.crawler.presets import PRESETS
from shelfcheck.crawler.recipe import parse_recipe, validate_recipe
from shelfcheck.errors import CatalogFileError
from tests.corpus.listings import crawl_site, sites


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_two_lines_make_a_valid_recipe(name: str) -> None:
    recipe = parse_recipe("ex", {"preset": name, "listing": "https://ex.org/list"})
    assert recipe.preset == name and recipe.item == PRESETS[name].recipe["item"]
    assert "title" in recipe.fields
    assert all(s.origin == f"preset {name}" for specs in recipe.fields.values() for s in specs)


def test_explicit_keys_override_the_preset() -> None:
    recipe = parse_recipe("ex", {
        "preset": "woocommerce", "listing": "https://ex.org/shop/", "item": "li.course",
        "follow": True, "fields": {"when": {"css": ".dates", "from": "detail"}}})
    assert recipe.item == "li.course"
    assert [s.css for s in recipe.fields["when"]] == [".dates"]
    assert recipe.fields["when"][0].origin == "recipe"
    assert recipe.fields["title"][0].origin == "preset woocommerce"
    assert recipe.paginate == PRESETS["woocommerce"].recipe["paginate"]


def test_an_unknown_preset_is_named() -> None:
    problems = dict(validate_recipe("ex", {"preset": "shopify", "listing": "https://ex.org/"}))
    assert "unknown preset 'shopify'" in problems["preset"]
    assert "woocommerce" in problems["preset"]


def test_a_preset_that_no_longer_fits_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "providers:\n  - slug: ex\n    name: Example\n    recipe:\n"
        "      preset: woocommerce\n      listing: https://ex.org/shop/\n"
        "      follow: false\nsections: []\n", encoding="utf-8")
    with pytest.raises(CatalogFileError) as info:
        load_catalog(path, recipe_validator=validate_recipe)
    assert "fields.fee[0].from" in str(info.value) and "needs 'follow: true'" in str(info.value)


def test_sources_name_the_preset_and_the_structured_data() -> None:
    site = next(s for s in sites() if s.name == "storefront-classic")
    first, sold_out, _third = crawl_site(site).records
    assert first.sources["title"].startswith("selector (preset woocommerce: css ")
    assert first.sources["fee"] == "json-ld (Product offers)"
    assert first.sources["platform_id"] == "json-ld (Product sku)"
    assert sold_out.sources["status"] == "json-ld (Product offers availability)"


def test_a_preset_derives_its_platforms_feed_unless_the_recipe_names_one() -> None:
    civi = "https://ex.org/civicrm/event/ical?reset=1&list=1&html=1"
    assert parse_recipe("ex", {"preset": "civicrm", "listing": civi}).preset_feeds == (
        "https://ex.org/civicrm/event/ical?reset=1&list=1",)
    named = parse_recipe("ex", {"preset": "civicrm", "listing": civi,
                                "feeds": ["https://ex.org/feed.ics"]})
    assert named.preset_feeds == () and named.feeds == ("https://ex.org/feed.ics",)
    assert parse_recipe("ex", {"preset": "moodle", "listing": "https://ex.org/"}
                        ).preset_feeds == ()
    problems = dict(validate_recipe("ex", {"preset": "civicrm", "listing": civi,
                                           "preset_feeds": ["https://ex.org/x"]}))
    assert "unknown key" in problems["preset_feeds"]
