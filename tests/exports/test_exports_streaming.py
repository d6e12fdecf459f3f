"""Streamed exports: JSON written in pieces equals json.dumps; a failed stream writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shelfcheck.exports.atomic import atomic_write_chunks
from shelfcheck.exports.catalog_csv import csv_chunks
from shelfcheck.exports.jsonstream import json_chunks, materialize

DOCS: list[Any] = [
    {"a": 1, "b": [], "c": {}, "d": "é <x> \n", "e": None, "f": [1.5, True, {"g": []}]},
    [],
    {},
    "text",
]


def lazy(value: Any) -> Any:
    """The same document with every list an iterator."""
    if isinstance(value, list):
        return iter([lazy(v) for v in value])
    if isinstance(value, dict):
        return {k: lazy(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("doc", DOCS)
def test_streamed_json_is_json_dumps(doc: Any) -> None:
    expected = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert b"".join(json_chunks(lazy(doc))).decode() == expected
    assert b"".join(json_chunks(doc)).decode() == expected
    assert materialize(lazy(doc)) == doc


def test_large_streams_come_in_chunks() -> None:
    rows = ({"title": f"Resource {i}", "url": f"https://example.org/{i}"} for i in range(20000))
    chunks = list(json_chunks({"sections": [{"name": "S", "resources": rows}]}))
    assert len(chunks) > 10
    doc = json.loads(b"".join(chunks))
    assert len(doc["sections"][0]["resources"]) == 20000
    csv = list(csv_chunks(["a", "b"], ([i, "=x"] for i in range(5000)), every=1000))
    assert len(csv) == 6 and b"".join(csv).count(b"\n") == 5001 and b"'=x" in csv[1]


def test_a_stream_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "catalog.json"
    target.write_bytes(b"old")

    def broken() -> Iterator[bytes]:
        yield b"new part"
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        atomic_write_chunks(target, broken())
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.json"]
