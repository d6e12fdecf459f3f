"""Errors that the CLI turns into a clear message and an exit status."""

from __future__ import annotations


class ShelfcheckError(Exception):
    """Base error; `exit_code` is the CLI's exit status for it."""

    exit_code = 1


class UsageError(ShelfcheckError):
    """Bad input from the user: a file, key, argument or line is wrong (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration key has a bad value."""


class CatalogFileError(UsageError):
    """A catalog file is malformed; the message names the file, the line and the problem."""


class DatabaseUnavailable(ShelfcheckError):
    """The database cannot be reached or opened: a failure, not bad input (exit 4)."""

    exit_code = 4


class DatabaseBusy(ShelfcheckError):
    """The database stayed locked by another process past the busy timeout (exit 75)."""

    exit_code = 75


class DatabaseFailed(ShelfcheckError):
    """The database failed in the middle of a command (connection lost, ...): exit 4."""

    exit_code = 4


class LockHeld(ShelfcheckError):
    """Another run holds the run lock (exit 75, EX_TEMPFAIL)."""

    exit_code = 75


def short_error(exc: BaseException) -> str:
    """One line about an error: its type and the first line of its message (no SQL dump)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")
