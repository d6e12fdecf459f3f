"""Parked lists: a provider's merged items, pickled to a temporary file until its walk is done.

The listing crawl applies every provider's changes in one transaction at its end. Meanwhile each
provider's merged items wait on disk, a few hundred at a time, so the crawl's memory holds a chunk
of records, not the whole guide's; the crawl's end reads them back one provider at a time.
"""

from __future__ import annotations

import pickle
import tempfile
from typing import IO, Generic, TypeVar

T = TypeVar("T")
CHUNK = 250


class Parked(Generic[T]):
    """A list kept in an unnamed temporary file, written a chunk at a time; `take` reads it all
    back, once."""

    def __init__(self, items: list[T] | None = None) -> None:
        self.count = 0
        self._buffer: list[T] = []
        self._file: IO[bytes] | None = None
        for item in items or ():
            self.append(item)

    def append(self, item: T) -> None:
        self._buffer.append(item)
        self.count += 1
        if len(self._buffer) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._file is None:
            # Open until `take`: the items wait in it while the crawl goes on.
            self._file = tempfile.TemporaryFile(prefix="shelfcheck-parked-")  # noqa: SIM115
        pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffer = []

    def take(self) -> list[T]:
        """Every item, in order; the file is closed."""
        items: list[T] = []
        if self._file is not None:
            self._file.seek(0)
            while True:
                try:
                    items.extend(pickle.load(self._file))
                except EOFError:
                    break
            self._file.close()
            self._file = None
        items.extend(self._buffer)
        self._buffer, self.count = [], 0
        return items
