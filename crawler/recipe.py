"""Listing recipes: what a provider declares under `recipe:` in the catalog file.

A recipe tells the one listing spider where a provider lists its offerings and where each field
sits, so a maintainer can fix it after a redesign without touching Python. The recipe is declared
once, as the pydantic models of `crawler.recipemodel` (re-exported here); this module builds one
from the catalog file's mapping, its preset merged in, and `validate_recipe` reports every
problem with its key path (`crawler.recipepaths`), such as `fields.fee[1].rows`, which the
catalog loader maps to file:line.

    recipe:
      preset: woocommerce                            # a platform preset (crawler/presets.py)
      listing: https://infopeople.org/training      # one URL or a list
      item: ".view-training-events .views-row"       # CSS of one offering on a listing page
      fields:
        title: ".views-field-title a"                # CSS shorthand
        fee:                                         # alternatives, tried in order
          - {rows: "table.fee_block-table tr", tier: "td.fee_level-label",
             amount: "td.fee_amount-value", from: detail}
          - {css: ".event_summary-section", from: detail}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from shelfcheck.crawler.recipemodel import FieldSpec, Recipe
from shelfcheck.crawler.recipepaths import recipe_problems
from shelfcheck.crawler.recipetypes import FORMATS, SCOPES, listify

__all__ = ["FORMATS", "SCOPES", "FieldSpec", "Recipe", "RecipeError", "parse_recipe",
           "validate_recipe"]


class RecipeError(ValueError):
    """A recipe is invalid; `problems` holds (key path, problem) pairs."""

    def __init__(self, slug: str, problems: list[tuple[str, str]]) -> None:
        self.slug = slug
        self.problems = problems
        super().__init__("; ".join(f"recipe of '{slug}' {k}: {p}" for k, p in problems))


def _cross_checks(recipe: Recipe, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if "title" not in recipe.fields:
        problems.append(("fields.title", "missing required field"))
    written = data.get("fields") or {}
    for name, specs in recipe.fields.items():
        if not specs:
            problems.append((f"fields.{name}", "must not be an empty list"))
        listed = isinstance(written.get(name), list)
        for i, spec in enumerate(specs):
            path = f"fields.{name}[{i}]" if listed else f"fields.{name}"
            if spec.scope == "detail" and not recipe.follow:
                problems.append((f"{path}.from", "'detail' needs 'follow: true'"))
            if spec.map and name != "format":
                problems.append((f"{path}.map", "only the 'format' field takes a map"))
            if spec.rows and name != "fee":
                problems.append((f"{path}.rows", "only the 'fee' field takes rows"))
            if name == "lssc" and spec.pattern is None and spec.const is None:
                problems.append((path, "the 'lssc' field needs a 'pattern' (or a 'const')"))
    return problems


def _with_preset(recipe: Mapping[str, Any]) -> dict[str, Any]:
    from shelfcheck.crawler.presets import PRESETS

    name = recipe.get("preset")
    if not isinstance(name, str) or name not in PRESETS:
        return dict(recipe)
    base = PRESETS[name].recipe
    merged: dict[str, Any] = {**base, **recipe}
    fields: dict[str, Any] = {
        field: [_marked(spec, f"preset {name}") for spec in listify(specs)]
        for field, specs in base.get("fields", {}).items()}
    fields.update(recipe.get("fields") or {})
    merged["fields"] = fields
    return merged


def _marked(spec: Any, origin: str) -> Any:
    spec = {"css": spec} if isinstance(spec, str) else dict(spec)
    return {**spec, "origin": origin}


def _build(slug: str, recipe: Any) -> tuple[Recipe | None, list[tuple[str, str]]]:
    if not isinstance(recipe, Mapping):
        return None, [("", "a recipe must be a mapping")]
    if "preset_feeds" in recipe:
        return None, [("preset_feeds", "unknown key (the feeds a preset derives; use 'feeds')")]
    data = _with_preset(recipe)
    specs = {f: [s for s in listify(v) if isinstance(s, Mapping) and "origin" in s]
             for f, v in (data.get("fields") or {}).items()} if isinstance(
        data.get("fields"), Mapping) else {}
    try:
        built = Recipe.model_validate(_strip_origins(data))
    except ValidationError as exc:
        return None, recipe_problems(exc, recipe, data)
    if specs:
        built = _with_origins(built, specs)
    if built.preset and not built.feeds:
        from shelfcheck.crawler.presets import PRESETS

        derive = PRESETS[built.preset].feeds
        if derive is not None:
            feeds = tuple(u for u in derive(built.listing[0]) if u not in built.listing)
            built = built.model_copy(update={"preset_feeds": feeds})
    problems = _cross_checks(built, data)
    return (None if problems else built), problems


def _strip_origins(data: dict[str, Any]) -> dict[str, Any]:
    fields = data.get("fields")
    if not isinstance(fields, Mapping):
        return data
    clean = {f: ([{k: v for k, v in s.items() if k != "origin"} if isinstance(s, Mapping)
                  else s for s in v] if isinstance(v, list) else v) for f, v in fields.items()}
    return {**data, "fields": clean}


def _with_origins(recipe: Recipe, marked: dict[str, list[Any]]) -> Recipe:
    fields = {}
    for name, specs in recipe.fields.items():
        origins = [m.get("origin", "recipe") for m in marked.get(name, [])]
        fields[name] = tuple(spec.model_copy(update={"origin": origins[i]})
                             if i < len(origins) else spec for i, spec in enumerate(specs))
    return recipe.model_copy(update={"fields": fields})


def validate_recipe(slug: str, recipe: dict[str, Any]) -> list[tuple[str, str]]:
    """Check a provider's recipe; returns (key path, problem) pairs, empty when valid."""
    return _build(slug, recipe)[1]


def parse_recipe(slug: str, recipe: Mapping[str, Any]) -> Recipe:
    """Validate and build a Recipe (its preset merged in); raises RecipeError with every
    problem."""
    built, problems = _build(slug, recipe)
    if built is None:
        raise RecipeError(slug, problems)
    return built
