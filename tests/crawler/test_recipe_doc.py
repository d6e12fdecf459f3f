"""docs/listings.md's key tables are generated from the recipe's one declaration.

After changing `crawler/recipemodel.py` or `crawler/presets.py`:
`SHELFCHECK_REGEN_DOCS=1 .venv/bin/python -m pytest tests/crawler/test_recipe_doc.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shelfcheck.crawler.recipe import FieldSpec, Recipe
from shelfcheck.crawler.recipedoc import TABLES, current, regenerate, table

DOC = Path(__file__).parents[2] / "docs" / "listings.md"


@pytest.mark.parametrize("name", TABLES)
def test_docs_tables_match_the_declaration(name: str) -> None:
    if os.environ.get("SHELFCHECK_REGEN_DOCS"):
        regenerate(DOC)
    assert current(DOC.read_text(encoding="utf-8"), name) == table(name), (
        f"docs/listings.md's {name} table is stale: run SHELFCHECK_REGEN_DOCS=1 "
        ".venv/bin/python -m pytest tests/crawler/test_recipe_doc.py")


def test_every_key_is_documented() -> None:
    for model in (Recipe, FieldSpec):
        for name, info in model.model_fields.items():
            assert info.exclude or info.description, f"{model.__name__}.{name} has no doc"
            assert (info.alias or name) in table("recipe-keys" if model is Recipe
                                                 else "field-keys") or info.exclude
