"""Atomic file writes: a reader polling the file never sees half of it."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from shelfcheck.errors import ExitCode, ShelfcheckError


class WriteError(ShelfcheckError):
    """A file could not be written; the previous file is left intact."""

    exit_code = ExitCode.FAILED


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`.

    The new file keeps the mode of the file it replaces; a first file gets the usual mode
    (0666 less the umask), so that a web server can read an export.
    """
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> None:
    """Like `atomic_write_bytes`, writing `chunks` as they come (a streamed export).

    An exception while producing the chunks removes the temporary file and leaves `path` as
    it was.
    """
    commit_staged(stage_chunks(path, chunks), path)


def stage_chunks(path: Path, chunks: Iterable[bytes]) -> Path:
    """Write `chunks` to a temporary file beside `path` and fsync it; `commit_staged` puts it
    in place. An exception removes the temporary file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        discard_staged(tmp)
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        discard_staged(tmp)
        raise
    return tmp


def file_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of a file, a megabyte at a time."""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


class StagedFiles:
    """Files streamed beside their targets (`add`) and renamed into place together (`commit`);
    on leaving the block, any file not committed is removed, so a failure leaves every target
    as it was."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for tmp, _path in self._staged:
            discard_staged(tmp)

    def add(self, path: Path, chunks: Iterable[bytes]) -> Path:
        """Stage `chunks` for `path`; returns the staged file."""
        tmp = stage_chunks(path, chunks)
        self._staged.append((tmp, path))
        return tmp

    def commit(self) -> list[Path]:
        """Rename every staged file into place, in the order added; returns the targets."""
        written: list[Path] = []
        while self._staged:
            tmp, path = self._staged.pop(0)
            commit_staged(tmp, path)
            written.append(path)
        return written


def commit_staged(tmp: Path, path: Path) -> None:
    """Rename a staged file over `path`, keeping the mode of the file it replaces."""
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except OSError as exc:
        discard_staged(tmp)
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None


def discard_staged(tmp: Path) -> None:
    """Remove a staged file that will not be committed."""
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))
