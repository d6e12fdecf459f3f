"""Read and validate a catalog file (YAML), with errors that name the file and the line.

The file is read a section at a time (`catalog.yamllines`), checked by `catalog.catalogcheck`,
and becomes a `catalog.catalogspec.CatalogSpec`.
"""

from __future__ import annotations

import hashlib
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from shelfcheck.catalog.catalogcheck import CatalogCheck
from shelfcheck.catalog.catalogspec import SCHEMA, CatalogSpec, RecipeValidator
from shelfcheck.catalog.yamllines import LineMap, PieceLoader, with_lines
from shelfcheck.errors import CatalogFileError

__all__ = ["SCHEMA", "CatalogFileError", "CatalogSpec", "RecipeValidator", "load_catalog",
           "packaged_catalog_path", "parse_catalog"]


def packaged_catalog_path() -> Path:
    """The guide's catalog file shipped in the package."""
    return Path(str(importlib_resources.files("shelfcheck.catalog") / "data" / "guide.yaml"))


def load_catalog(
    path: str | Path | None = None, *, recipe_validator: RecipeValidator | None = None
) -> CatalogSpec:
    """Read and validate a catalog file; raise CatalogFileError listing every problem.

    The file is parsed a section at a time (`PieceLoader`): only the checked specs are kept,
    never the whole YAML tree, so a 100,000-resource file fits in little memory.
    """
    file = Path(path) if path else packaged_catalog_path()
    source = str(file)
    try:
        digest = hashlib.sha256()
        with file.open("rb") as raw:
            for block in iter(lambda: raw.read(1 << 20), b""):
                digest.update(block)
        stream = file.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise CatalogFileError(f"{source}: cannot read catalog file: {exc.strerror}") from None
    try:
        with stream:
            return _read(stream, source, digest.hexdigest(), recipe_validator)
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{source}: not UTF-8 text: {exc}") from None
    except CatalogFileError as exc:
        if str(exc).startswith(source):
            raise
        raise CatalogFileError(f"{source}:{exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogFileError(f"{source}:{line}: malformed YAML: {problem}") from None


def _read(stream: Any, source: str, sha256: str,
          recipe_validator: RecipeValidator | None) -> CatalogSpec:
    """Walk the top-level mapping; check each section as soon as it is composed."""
    loader = PieceLoader(stream)
    try:
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            return parse_catalog(None, source, sha256, recipe_validator)
        loader.get_event()  # DocumentStart
        if not loader.check_event(yaml.MappingStartEvent):
            return parse_catalog(loader.piece(), source, sha256, recipe_validator)
        start = loader.get_event()
        top = LineMap()
        top.line, top.key_lines = start.start_mark.line + 1, {}
        pending: list[tuple[int, LineMap]] = []  # sections met before the providers
        reader: CatalogCheck | None = None
        while not loader.check_event(yaml.MappingEndEvent):
            key_event = loader.peek_event()
            key = loader.piece()
            line = key_event.start_mark.line + 1
            if str(key) in top.key_lines:
                raise CatalogFileError(f"{line}: duplicate key '{key}'")
            top.key_lines[str(key)] = line
            if key == "sections" and loader.check_event(yaml.SequenceStartEvent):
                top["sections"] = []
                loader.get_event()
                index = 0
                while not loader.check_event(yaml.SequenceEndEvent):
                    node = loader.piece()
                    if reader is None and "providers" not in top:
                        pending.append((index, node))  # checked once the providers are known
                    else:
                        reader = reader or CatalogCheck(top, source, sha256, recipe_validator)
                        reader.section(index, node)
                    index += 1
                loader.get_event()
                continue
            top[key] = loader.piece()
        reader = reader or CatalogCheck(top, source, sha256, recipe_validator)
        for index, node in pending:
            reader.section(index, node)
        return reader.finish()
    finally:
        loader.dispose()


def parse_catalog(
    data: Any,
    source: str,
    sha256: str = "",
    recipe_validator: RecipeValidator | None = None,
) -> CatalogSpec:
    """Validate parsed catalog data (mappings carrying line numbers, or plain dicts)."""
    data = with_lines(data)
    if not isinstance(data, LineMap):
        raise CatalogFileError(f"{source}:1: a catalog file must be a mapping with 'sections'")
    sections = data.get("sections")
    reader = CatalogCheck(data, source, sha256, recipe_validator)
    if isinstance(sections, list):
        for i, node in enumerate(sections):
            reader.section(i, node)
    return reader.finish()
