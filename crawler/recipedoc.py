"""The key tables of docs/listings.md, generated from the recipe's one declaration
(`crawler.recipemodel`) and the presets (`crawler.presets`); a test keeps the document equal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from shelfcheck.crawler.presets import PRESETS
from shelfcheck.crawler.recipemodel import FieldSpec, Recipe

TABLES = ("recipe-keys", "field-keys", "presets")


def _default(value: Any) -> str:
    if value is PydanticUndefined or value is None or value == () or value == {}:
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`" + ", ".join(str(v) for v in value) + "`"
    return f"`{value}`"


def _keys(model: type[BaseModel]) -> str:
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        default = info.get_default(call_default_factory=True)
        rows.append(f"| `{info.alias or name}` | {_default(default)} | {info.description} |")
    return "\n".join(rows)


def _presets() -> str:
    rows = ["| preset | platform | item |", "|---|---|---|"]
    for preset in PRESETS.values():
        rows.append(f"| `{preset.name}` | {preset.platform} | `{preset.recipe['item']}` |")
    return "\n".join(rows)


def table(name: str) -> str:
    """One generated table: `recipe-keys`, `field-keys` or `presets`."""
    if name == "presets":
        return _presets()
    return _keys(Recipe if name == "recipe-keys" else FieldSpec)


def _marked(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}: generated[^\n]*-->\n)(.*?)(<!-- {name}: end -->)",
                      re.DOTALL)


def current(document: str, name: str) -> str | None:
    """The table between a document's markers, or None when the markers are missing."""
    match = _marked(name).search(document)
    return match.group(2).rstrip("\n") if match else None


def regenerate(path: Path) -> None:
    """Rewrite every generated table of a document in place."""
    text = path.read_text(encoding="utf-8")
    for name in TABLES:
        generated = table(name)

        def fill(match: re.Match[str], generated: str = generated) -> str:
            return match.group(1) + generated + "\n" + match.group(3)

        text = _marked(name).sub(fill, text)
    path.write_text(text, encoding="utf-8")
