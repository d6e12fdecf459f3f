"""The application context the CLI hands to every command: settings and the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shelfcheck.config import Settings
from shelfcheck.logsetup import configure_logging

__all__ = ["App", "configure_logging"]


@dataclass
class App:
    """Settings plus a lazily opened, migrated database engine."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The catalog database, upgraded to the newest schema on first use."""
        if self._engine is None:
            from shelfcheck.catalog.db import open_database

            self._engine = open_database(
                self.settings.database_url, busy_timeout=self.settings.sqlite_busy_timeout
            )
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction, committed when the block ends without error."""
        from shelfcheck.catalog.db import transaction

        with transaction(self.engine) as session:
            yield session

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

