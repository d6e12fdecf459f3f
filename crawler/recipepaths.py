"""Pydantic's validation errors as the recipe problems `catalog sync` shows: a key path of the
recipe as written (`fields.fee[1].rows`, which the catalog loader maps to file:line) and a
message in the catalog's words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from shelfcheck.crawler.recipemodel import FieldSpec, Recipe


def key_path(loc: tuple[int | str, ...], data: Any) -> str:
    """A pydantic error location as a key path of the recipe as written: `fields.fee[1].rows`
    (an index only where the recipe has a list)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            if isinstance(node, list):
                out += f"[{part}]"
                node = node[part] if part < len(node) else None
            continue
        if not isinstance(node, Mapping):  # a shorthand (a CSS string): its own path
            break
        out += f".{part}" if out else str(part)
        node = node.get(part)
    return out


def message_of(error: Any, allowed: str) -> str:
    """One pydantic error as a recipe problem; `allowed` lists the keys where one is unknown."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key (allowed: {allowed})"
    if kind == "missing":
        return "missing required key"
    if kind == "bool_type":
        return "must be true or false"
    if kind == "int_type":
        return "must be a whole number of at least 1"
    text = str(error["msg"])
    return text.removeprefix("Value error, ")


def recipe_problems(exc: ValidationError, recipe: Mapping[str, Any],
                    data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key path, problem) per error; paths follow `recipe` as written, else `data` (the recipe
    with its preset merged in)."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        top = Recipe if len(loc) < 2 or loc[0] != "fields" else FieldSpec
        allowed = ", ".join(sorted(f.alias or n for n, f in top.model_fields.items()
                                   if not f.exclude))
        problems.append((key_path(loc, recipe if loc and loc[0] in recipe else data),
                         message_of(error, allowed)))
    return problems
