"""The run lock: one run at a time, across processes and machines sharing the database.

A row in `run_lock` per lock name. Taking it is a short INSERT that fails on the primary key when
someone holds it; a holder that stopped heart-beating (past `expires_at`), or a holder process on
this host that no longer exists, is taken over by a compare-and-swap UPDATE. The holder refreshes
`expires_at` while it runs and deletes the row at the end.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import RunLock, utcnow
from shelfcheck.catalog.runs import holder_id
from shelfcheck.errors import LockHeld

log = logging.getLogger(__name__)

LOCK_NAME = "refresh"


@dataclass(frozen=True)
class LockState:
    """Who holds a lock, since when, and until when it counts as alive."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        """One line for messages: the holder and the times."""
        return (
            f"{self.holder} since {_fmt(self.acquired_at)} "
            f"(taken over after {_fmt(self.expires_at)} if it stops refreshing the lock)"
        )


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def lock_state(engine: Engine, name: str = LOCK_NAME) -> LockState | None:
    """The current holder of lock `name`, or None when it is free."""
    with transaction(engine) as session:
        row = session.get(RunLock, name)
        if row is None:
            return None
        return LockState(row.name, row.holder, row.acquired_at, row.expires_at)


def holder_is_dead(holder: str) -> bool:
    """True when `holder` ("host:pid purpose") is a process of this host that no longer exists."""
    address = holder.split(" ", 1)[0]
    host, _, pid_text = address.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


class HeldLock:
    """A lock this process holds: refresh it with `heartbeat()`, give it back with `release()`."""

    def __init__(self, engine: Engine, name: str, holder: str, stale_after: float) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder
        self.stale_after = stale_after
        self.released = False

    def heartbeat(self) -> bool:
        """Push the expiry forward; False when the lock was lost (taken over by someone else)."""
        with transaction(self.engine) as session:
            result = session.execute(
                update(RunLock)
                .where(RunLock.name == self.name, RunLock.holder == self.holder)
                .values(expires_at=utcnow() + timedelta(seconds=self.stale_after))
            )
            held = _rowcount(result) == 1
        if not held:
            log.error("the run lock %r was taken over by another process", self.name)
        return held

    def release(self) -> None:
        """Delete the lock row if this process still holds it."""
        if self.released:
            return
        self.released = True
        with transaction(self.engine) as session:
            result = session.execute(
                delete(RunLock).where(RunLock.name == self.name, RunLock.holder == self.holder)
            )
            if _rowcount(result) != 1:
                log.warning("the run lock %r was no longer held by %s", self.name, self.holder)

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def acquire_lock(
    engine: Engine, *, stale_after: float, purpose: str = "", name: str = LOCK_NAME,
) -> HeldLock:
    """Take lock `name` or raise LockHeld naming the holder and since when.

    A holder past its expiry, or a dead process on this host, is taken over.
    """
    holder = f"{holder_id()} {purpose}".strip()
    for _attempt in range(3):
        now = utcnow()
        expires = now + timedelta(seconds=stale_after)
        try:
            with transaction(engine) as session:
                session.add(RunLock(name=name, holder=holder, acquired_at=now, expires_at=expires))
            return HeldLock(engine, name, holder, stale_after)
        except IntegrityError:
            pass
        current = lock_state(engine, name)
        if current is None:
            continue  # released between our INSERT and SELECT: try again
        stale = current.expires_at < now
        if not stale and not holder_is_dead(current.holder):
            raise LockHeld(f"another run holds the run lock: {current.describe()}")
        with transaction(engine) as session:
            result = session.execute(
                update(RunLock)
                .where(RunLock.name == name, RunLock.holder == current.holder,
                       RunLock.expires_at == current.expires_at)
                .values(holder=holder, acquired_at=now, expires_at=expires)
            )
            taken = _rowcount(result) == 1
        if taken:
            why = "stale" if stale else "its process is gone"
            log.warning("took over the run lock from %s (%s)", current.describe(), why)
            return HeldLock(engine, name, holder, stale_after)
    current = lock_state(engine, name)
    detail = current.describe() if current else "it changed hands repeatedly"
    raise LockHeld(f"another run holds the run lock: {detail}")


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))
