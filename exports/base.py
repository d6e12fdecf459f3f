"""The registry of export formats: each format is one `Exporter` subclass with a `kind`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from sqlalchemy.orm import Session

from shelfcheck.errors import UsageError

EXPORTERS: dict[str, type[Exporter]] = {}


class Exporter:
    """Writes the catalog in one format; subclasses set `kind` and implement `render`."""

    kind: ClassVar[str] = ""
    default_name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            EXPORTERS[cls.kind] = cls

    def __init__(self, *, public: bool = False, now: datetime | None = None) -> None:
        self.public = public
        self.now = now

    def render(self, session: Session) -> Mapping[str, bytes]:
        """Return file name -> content; most formats give one file named `default_name`."""
        return {name: b"".join(chunks) for name, chunks in self.stream(session).items()}

    def stream(self, session: Session) -> Mapping[str, Iterable[bytes]]:
        """File name -> the content in chunks, produced while it is written.

        A format that streams overrides this (and `render` then joins the chunks); the others
        render the whole file at once.
        """
        return {name: (content,) for name, content in self.render(session).items()}

    def write(self, session: Session, out: Path | None) -> list[Path]:
        """Render and write atomically. `out` is a file for one-file formats, else a folder."""
        from shelfcheck.exports.atomic import atomic_write_chunks

        files = self.stream(session)
        written: list[Path] = []
        for name, content in files.items():
            if out is None:
                target = Path(name)
            elif len(files) == 1 and not out.is_dir() and out.suffix:
                target = out
            else:
                target = out / name
            atomic_write_chunks(target, content)
            written.append(target)
        return written


def get_exporter(kind: str) -> type[Exporter]:
    """The exporter class of `kind`, or a UsageError naming the known kinds."""
    _load_builtin()
    try:
        return EXPORTERS[kind]
    except KeyError:
        known = ", ".join(sorted(EXPORTERS))
        raise UsageError(f"unknown export format '{kind}' (known: {known})") from None


def export_kinds() -> list[str]:
    """Every registered format."""
    _load_builtin()
    return sorted(EXPORTERS)


def _load_builtin() -> None:
    import importlib

    for module in BUILTIN_MODULES:
        importlib.import_module(module)


BUILTIN_MODULES = tuple(
    f"shelfcheck.exports.{name}"
    for name in ("catalog_json", "catalog_csv", "calendar_ics", "feed_atom", "guide_html",
                 "guide_jsonld")
)
