"""A loopback HTTP server for the conformance cases: each raw request target (path and query, as
sent) has a script of answers, served in turn (the last one repeats)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.loopback import PageHandler


@dataclass(frozen=True)
class Answer:
    """One response: status, headers and body (Location may be relative)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def page(title: str, text: str = "A page about library training, with real content.") -> bytes:
    words = " ".join([text] * 3)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><main><h1>{title}</h1><p>{words}</p></main></body></html>").encode()


OK = Answer(200, {"Content-Type": "text/html; charset=utf-8"}, page("Course"))


class ConformanceServer:
    """Serves `routes` ({raw target: [Answer, ...]}) on 127.0.0.1; anything else is `default`
    (a 404 unless given)."""

    def __init__(self, routes: dict[str, list[Answer]], default: Answer | None = None) -> None:
        self.routes = routes
        self.default = default
        self.hits: Counter[str] = Counter()
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ConformanceServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, method: str, target: str) -> Answer:
        with self.lock:
            self.seen.append((method, target))
            if target == "/robots.txt":
                return Answer(404)
            script = self.routes.get(target)
            if script is None:
                return self.default or Answer(404, {"Content-Type": "text/html"},
                                              page("Not here", "Nope."))
            n = self.hits[target]
            self.hits[target] += 1
            return script[min(n, len(script) - 1)]

    def _handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        server = self

        class Handler(PageHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> tuple[int, dict[str, str], bytes]:
                found = server._answer(self.command, self.path)
                return found.status, found.headers, found.body

        return Handler
