"""Recipe validation: every problem names its key; the catalog loader reports file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.crawler.recipe import RecipeError, parse_recipe, validate_recipe
from shelfcheck.errors import CatalogFileError

GOOD: dict[str, Any] = {
    "listing": "https://ex.org/events",
    "item": ".event",
    "link": "a",
    "follow": True,
    "fields": {"title": "h3", "fee": {"css": ".fee", "from": "detail"}},
}


def problems(**changes: Any) -> dict[str, str]:
    recipe = {**GOOD, **changes}
    return dict(validate_recipe("ex", recipe))


def test_a_good_recipe_has_no_problems() -> None:
    assert validate_recipe("ex", GOOD) == []
    assert parse_recipe("ex", GOOD).follow is True


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"item": "div["}, "item", "does not parse"),
        ({"link": "a:nth-child("}, "link", "does not parse"),
        ({"paginate": "a[rel=next"}, "paginate", "does not parse"),
        ({"fields": {"title": "h3 >> p"}}, "fields.title", "does not parse"),
        ({"fields": {"title": "h3", "fee": [{"css": ".fee"}, {"rows": "tr", "amount": "td[",
                                                              }]}},
         "fields.fee[1].amount", "does not parse"),
        ({"fields": {"title": "h3", "lssc": {"css": ".x", "pattern": "LSSC ("}}},
         "fields.lssc.pattern", "does not compile"),
        ({"fields": {"fee": ".fee"}}, "fields.title", "missing required field"),
        ({"fields": {"title": "h3", "price": ".p"}}, "fields.price", "unknown field"),
        ({"fields": {"title": {"css": "h3", "colour": "red"}}}, "fields.title.colour",
         "unknown key"),
        ({"follow": False}, "fields.fee.from", "needs 'follow: true'"),
        ({"listing": "ftp://ex.org/"}, "listing", "not an http(s) URL"),
        ({"listing": ["https://ex.org/", "nope"]}, "listing[1]", "not an http(s) URL"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"structured": ["json-ld", "opengraph"]}, "structured[1]", "unknown kind"),
        ({"format": "seminar"}, "format", "must be one of"),
        ({"max_pages": 0}, "max_pages", "at least 1"),
        ({"hook": "nope"}, "hook", "unknown hook"),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"fields": {"title": "h3", "format": {"css": ".t", "map": {"Webinar": "talk"}}}},
         "fields.format.map", "unknown format"),
        ({"fields": {"title": "h3", "fee": {"rows": "tr"}}}, "fields.fee", "needs 'amount'"),
        ({"fields": {"title": "h3", "lssc": ".x"}}, "fields.lssc", "needs a 'pattern'"),
        ({"prefer": {"fee": "visible"}}, "prefer.fee", "'structured' or 'selector'"),
    ],
)
def test_problems_name_the_key(changes: dict[str, Any], key: str, words: str) -> None:
    found = problems(**changes)
    assert key in found, found
    assert words in found[key]


def test_item_is_required() -> None:
    recipe = dict(GOOD)
    del recipe["item"]
    assert "item" in dict(validate_recipe("ex", recipe))


def test_parse_recipe_raises_with_every_problem() -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe("ex", {**GOOD, "item": "div[", "timezone": "Nowhere/Else"})
    assert {k for k, _p in info.value.problems} == {"item", "timezone"}
    assert "recipe of 'ex' item" in str(info.value)


def test_catalog_loader_reports_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "schema: shelfcheck.catalogfile/1\n"
        "providers:\n"
        "  - slug: ex\n"
        "    name: Example\n"
        "    recipe:\n"
        "      listing: https://ex.org/events\n"
        "      item: .event\n"
        "      fields:\n"
        "        title: 'h3[class='\n"
        "sections: []\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogFileError) as info:
        load_catalog(path, recipe_validator=validate_recipe)
    message = str(info.value)
    assert f"{path}:9:" in message
    assert "recipe fields.title" in message and "does not parse" in message


def test_the_packaged_recipes_are_valid() -> None:
    spec = load_catalog(None, recipe_validator=validate_recipe)
    with_recipes = [p.slug for p in spec.providers if p.recipe]
    assert sorted(with_recipes) == ["able", "ala-elearning", "infopeople", "lja", "techsoup",
                                    "webjunction"]


def test_catalog_sync_of_a_bad_recipe_exits_2(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "providers:\n  - slug: ex\n    name: Example\n    recipe:\n"
        "      listing: https://ex.org/\n      item: 'li:unknown-pseudo('\n"
        "      fields: {title: a}\nsections: []\n", encoding="utf-8")
    result = cli("--database-url", f"sqlite:///{tmp_path / 'c.db'}", "catalog", "sync",
                 str(path))
    assert result.exit_code == 2
    assert f"{path}:6:" in result.output and "recipe item" in result.output
