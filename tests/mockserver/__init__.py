"""Run the loopback test world (tests/mockserver/server.py) in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class MockServer:
    """Context manager: starts the server, reads its address line, stops it on exit."""

    def __init__(self, folder: Path, *extra: str) -> None:
        self.folder = folder
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> MockServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.mockserver.server", "--dir", str(self.folder),
             *self.extra],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.kill()
            raise RuntimeError("the mock server did not start")
        self.info = json.loads(line)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def url(self, host: str, path: str = "/") -> str:
        """The URL of `path` on the world's host `host`."""
        return self.info["hosts"][host] + path

    @property
    def ca(self) -> str:
        return str(self.info["ca"])

    def requests(self) -> list[dict[str, Any]]:
        """The request log so far."""
        with open(self.info["log"], encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def set_status(self, path: str, status: int) -> None:
        """Make the main host answer `path` with `status` from now on."""
        url = self.url("main", f"/__control/set?path={path}&status={status}")
        with urllib.request.urlopen(url, timeout=5) as resp:
            resp.read()
