"""Logging set-up shared by the CLI and the child processes of the steps."""

from __future__ import annotations

import logging


def configure_logging(level: str, log_file: str | None = None) -> None:
    """Plain Python logging: one handler, to stderr or a file."""
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
