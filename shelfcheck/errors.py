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
    """The database cannot be reached."""

    exit_code = 2


class LockHeld(ShelfcheckError):
    """Another run holds the run lock (exit 75, EX_TEMPFAIL)."""

    exit_code = 75
