"""JSON written as it is encoded: the output of ``json.dumps(doc, indent=2)`` (or of
``json.dumps(doc)`` with ``indent=None``), in pieces.

A value that is an iterator (a generator of rows) is written item by item, so a document of
100,000 resources never exists whole in memory; every other value is encoded by `json` itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

INDENT = 2
FLUSH_AT = 64 * 1024  # characters per chunk


def _lazy(value: Any) -> bool:
    if isinstance(value, Iterator):
        return True
    if isinstance(value, Mapping):
        return any(_lazy(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_lazy(v) for v in value)
    return False


def iter_json(value: Any, level: int = 0, *, indent: int | None = INDENT) -> Iterator[str]:
    """The pieces of ``json.dumps(value, indent=indent, ensure_ascii=False)``."""
    pad = "\n" + " " * (indent * level) if indent is not None else ""
    first = pad + " " * indent if indent is not None else ""
    then = "," + first if indent is not None else ", "
    if isinstance(value, Mapping) and _lazy(value):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield (then if i else first) + json.dumps(key, ensure_ascii=False) + ": "
            yield from iter_json(item, level + 1, indent=indent)
        yield pad + "}"
    elif isinstance(value, Iterator) or (isinstance(value, list | tuple) and _lazy(value)):
        empty = True
        for item in value:
            yield "[" + first if empty else then
            empty = False
            yield from iter_json(item, level + 1, indent=indent)
        yield "[]" if empty else pad + "]"
    else:
        text = json.dumps(value, indent=indent, ensure_ascii=False)
        yield text.replace("\n", pad) if indent is not None else text


def script_safe(pieces: Iterable[str]) -> Iterator[str]:
    """JSON text made safe inside <script> (and inert pasted into a page): ``<``, ``>`` and
    ``&`` as \\u escapes, the same value once parsed."""
    for piece in pieces:
        yield piece.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def utf8_chunks(pieces: Iterable[str], *, end: str = "") -> Iterator[bytes]:
    """The text of `pieces`, then `end`, as UTF-8 chunks of about `FLUSH_AT` characters."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= FLUSH_AT:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    buffer.append(end)
    yield "".join(buffer).encode("utf-8")


def json_chunks(value: Any, *, end: str = "\n") -> Iterable[bytes]:
    """UTF-8 chunks of the document (indented), then `end`."""
    return utf8_chunks(iter_json(value), end=end)


def materialize(value: Any) -> Any:
    """The same document with every iterator turned into a list (for callers that need one)."""
    if isinstance(value, Iterator) or (isinstance(value, list | tuple) and _lazy(value)):
        return [materialize(v) for v in value]
    if isinstance(value, Mapping) and _lazy(value):
        return {k: materialize(v) for k, v in value.items()}
    return value
