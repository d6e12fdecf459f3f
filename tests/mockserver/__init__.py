"""Run the loopback test world (tests/mockserver/server.py) in a child process."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.loopback import JsonReadyServer


class MockServer(JsonReadyServer):
    """The link-check world: starts the server, reads its address line, stops it on exit."""

    module = "tests.mockserver.server"

    def __init__(self, folder: Path, *extra: str) -> None:
        super().__init__("--dir", str(folder), *extra)
        self.folder = folder

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
