"""One base for the loopback servers the tests start in child processes.

Each server is ``python -m MODULE ARGS``: it binds 127.0.0.1, prints ONE line when it is ready
(its port, or a JSON object with its addresses), then serves until it is terminated. The base
starts it, reads that line (failing clearly when the child dies first), and stops it on exit:
SIGTERM, then SIGKILL after `stop_timeout`, closing the pipe (no leaked file descriptors).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

ROOT = Path(__file__).resolve().parents[1]


class LoopbackServer:
    """A test server in a child process; subclasses name the module and read its ready line."""

    module: ClassVar[str]
    stop_timeout: ClassVar[float] = 5.0

    def __init__(self, *args: str, prefix: Sequence[str] = (), quiet: bool = False) -> None:
        self.args = list(args)
        self.prefix = list(prefix)  # e.g. a netns wrapper around the interpreter
        self.quiet = quiet
        self.proc: subprocess.Popen[str] | None = None
        self.ready_line = ""

    def command(self) -> list[str]:
        """The child's command line."""
        return [*self.prefix, sys.executable, "-m", self.module, *self.args]

    def ready(self, line: str) -> None:
        """Read the server's ready line (the default: its port)."""
        self.port = int(line)

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT, for servers that announce one port."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, stdout=subprocess.PIPE, text=True,
            stderr=subprocess.DEVNULL if self.quiet else None,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            self.stop()
            raise RuntimeError(f"the loopback server {self.module} did not start "
                               f"(exit status {self.proc.returncode})")
        self.ready_line = line
        self.ready(line)
        return self

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class JsonReadyServer(LoopbackServer):
    """A server whose ready line is a JSON object (kept in `info`)."""

    info: dict[str, Any]

    def ready(self, line: str) -> None:
        self.info = json.loads(line)


class PageHandler(BaseHTTPRequestHandler):
    """A quiet handler for in-process test servers: `answer()` gives the status, headers and
    body; GET sends them, HEAD the same without the body."""

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def _serve(self, body: bool) -> None:
        status, headers, data = self.answer()
        self.send_response(status)
        for name, value in {"Content-Length": str(len(data)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve(True)

    def do_HEAD(self) -> None:
        self._serve(False)

    def log_message(self, format: str, *args: Any) -> None:
        pass


Server = TypeVar("Server", bound=HTTPServer)


@contextmanager
def served(server: Server) -> Iterator[Server]:
    """Serve an in-process test server in a daemon thread; shut it down and close it on exit."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
