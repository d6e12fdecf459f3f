"""YAML that remembers where it was written: mappings carrying the line of themselves and of each
key, loaded whole (`LineLoader`) or a node at a time (`PieceLoader`, `walk_sections`) for a large
catalog file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from shelfcheck.errors import CatalogFileError

NOT_A_MAPPING = "1: a catalog file must be a mapping with 'sections'"


class LineMap(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # LibYAML's loader when PyYAML has it: ~10x faster on a 100,000-resource file
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineLoader(_SafeLoader):
    """A safe loader whose mappings carry their lines; a duplicate key is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        mapping = LineMap(super().construct_mapping(node, deep=True))  # type: ignore[arg-type]
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _v in node.value if hasattr(k, "value")
        }
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.value in seen:
                raise CatalogFileError(
                    f"{key_node.start_mark.line + 1}: duplicate key '{key_node.value}'"
                )
            seen.add(key_node.value)
        return mapping


LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, LineLoader.construct_mapping
)


class PieceLoader(LineLoader):
    """Composes one node at a time from the parser's events (PyYAML's own composer, over
    LibYAML's events), so a large file is built and checked a section at a time."""

    compose_node = yaml.composer.Composer.compose_node
    compose_scalar_node = yaml.composer.Composer.compose_scalar_node
    compose_sequence_node = yaml.composer.Composer.compose_sequence_node
    compose_mapping_node = yaml.composer.Composer.compose_mapping_node

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}

    def piece(self) -> Any:
        """Compose and construct the next node."""
        return self.construct_document(self.compose_node(None, None))  # type: ignore[arg-type]


def with_lines(value: Any) -> Any:
    """Wrap plain dicts (from an import, not a file) so the checker can treat them alike."""
    if isinstance(value, LineMap):
        return value
    if isinstance(value, dict):
        wrapped = LineMap({k: with_lines(v) for k, v in value.items()})
        wrapped.line = 0
        wrapped.key_lines = {}
        return wrapped
    if isinstance(value, list):
        return [with_lines(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """`value` as plain dicts and lists, its line numbers dropped."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def line_of(recipe: Any, key_path: str, default: int) -> int:
    """The line of `key_path` (`fields.fee[1].rows`) in `recipe`, or of its nearest parent."""
    node = recipe
    line = default
    for part in key_path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, LineMap) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            line = getattr(node, "line", line)
        else:
            break
    return line


def walk_sections(stream: Any, top: LineMap) -> Iterator[tuple[int, Any]]:
    """Yield (index, node) for each entry of the top-level `sections` list as it is read.

    Every other top-level key is put into `top` (with its line) as it is met, so keys after
    the sections are there once the walk ends. A document that is not a mapping is an error.
    """
    loader = PieceLoader(stream)
    try:
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            raise CatalogFileError(NOT_A_MAPPING)
        loader.get_event()  # DocumentStart
        if not loader.check_event(yaml.MappingStartEvent):
            loader.piece()  # its YAML errors come first
            raise CatalogFileError(NOT_A_MAPPING)
        start = loader.get_event()
        top.line, top.key_lines = start.start_mark.line + 1, {}
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
                    yield index, loader.piece()
                    index += 1
                loader.get_event()
                continue
            top[key] = loader.piece()
    finally:
        loader.dispose()
