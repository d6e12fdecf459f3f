"""Errors that the CLI turns into a clear message and an exit status."""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status of the `shelfcheck` commands, declared once (README: exit codes)."""

    OK = 0
    ERROR = 1  # a command-specific failure: a failed check-links run, --fail-on, e-mail
    USAGE = 2  # bad input: a file, key, argument or line is wrong
    INCONCLUSIVE = 3  # looked like our own network was down; nothing was changed
    FAILED = 4  # a step failed or was stopped by its time limit; the database failed
    TEMPFAIL = 75  # EX_TEMPFAIL: another run holds the lock, or the database stayed locked
    SIGINT = 128 + signal.SIGINT  # stopped by SIGINT
    SIGTERM = 128 + signal.SIGTERM  # stopped by SIGTERM

    @classmethod
    def stopped_by(cls, signum: int) -> ExitCode:
        """The status of a command stopped by signal `signum`."""
        return cls(128 + signum)


class ShelfcheckError(Exception):
    """Base error; `exit_code` is the CLI's exit status for it."""

    exit_code: int = ExitCode.ERROR


class UsageError(ShelfcheckError):
    """Bad input from the user: a file, key, argument or line is wrong (exit 2).

    `options` names the command options (as settings-style names, ``"since"``) the input came
    from: the lower layers do not know the command line, so the CLI renders them as flags.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *, options: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options


class NotSynced(UsageError):
    """The command needs a catalog in the database, and none was synced yet."""


class ConfigError(UsageError):
    """A configuration key has a bad value."""


class CatalogFileError(UsageError):
    """A catalog file is malformed; the message names the file, the line and the problem."""


class DatabaseUnavailable(ShelfcheckError):
    """The database cannot be reached or opened: a failure, not bad input (exit 4)."""

    exit_code = ExitCode.FAILED


class DatabaseBusy(ShelfcheckError):
    """The database stayed locked by another process past the busy timeout (exit 75)."""

    exit_code = ExitCode.TEMPFAIL


class DatabaseFailed(ShelfcheckError):
    """The database failed in the middle of a command (connection lost, ...): exit 4."""

    exit_code = ExitCode.FAILED


class LockHeld(ShelfcheckError):
    """Another run holds the run lock (exit 75, EX_TEMPFAIL)."""

    exit_code = ExitCode.TEMPFAIL


def short_error(exc: BaseException) -> str:
    """One line about an error: its type and the first line of its message (no SQL dump)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")
