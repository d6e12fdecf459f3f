"""The demo's provider web: copies of the providers' sites on loopback, in two states a week apart.

State A (week one) is `sites/A/`: pages in the shapes of the reference sites, with sample data;
each file stands for the URL its name encodes (see `sites/A/README.md`). State B (week two) is
`sites/B/`, edited copies laid over A (see `sites/B/README.md`), plus the status rules in `RULES`
and the robots.txt blocks in `ROBOTS_BLOCKED`. URLs look like
``http://127.0.0.1:PORT/<state>/<site>/<path>?<query>``, where `<state>` is ``A``, ``B`` or
``live`` (whichever state the server is in now: `SitesServer.switch`, or ``GET /_state?set=B``).
`host_map()` gives the `host_map` setting that sends the real hosts there. The states, their
files and rules are in `shelfcheck.demo.sitefiles`; this module serves them.

The tests (`tests/sites.py`) and `shelfcheck demo` both serve it. Run it by hand::

    python -m shelfcheck.demo.web --port 8765   # prints the port, then the host_map of A and B
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from shelfcheck.demo.sitefiles import (
    LAST_MODIFIED,
    LIVE,
    STATE_DIRS,
    SiteFiles,
    content_type,
    host_map,
    location_of,
    robots_txt,
    rule_for,
)


class Handler(BaseHTTPRequestHandler):
    """Serves /<state>/<site>/<path>; /robots.txt; /_state (``?set=B`` switches the live state);
    /_log (the requests seen, as JSON; ``?clear=1`` empties it)."""

    server: SitesServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the log is kept in memory for /_log."""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/robots.txt":
            self._send(200, robots_txt(self.server.current), {"Content-Type": "text/plain"})
            with self.server.lock:
                self.server.log.append({"path": self.path, "status": 200, "conditional": False})
            return
        if parts.path == "/_log":
            with self.server.lock:
                body = json.dumps(self.server.log).encode()
                if "clear=1" in parts.query:
                    self.server.log.clear()
            self._send(200, body, {"Content-Type": "application/json"})
            return
        if parts.path == "/_state":
            wanted = dict(parse_qsl(parts.query)).get("set")
            if wanted is not None and wanted not in STATE_DIRS:
                self._send(400, b"unknown state", {"Content-Type": "text/plain"})
                return
            if wanted:
                self.server.switch(wanted)
            self._send(200, self.server.current.encode(), {"Content-Type": "text/plain"})
            return
        segments = parts.path.split("/", 3)
        if len(segments) < 3 or (segments[1] not in STATE_DIRS and segments[1] != LIVE):
            self._send(404, b"not found")
            return
        state = self.server.current if segments[1] == LIVE else segments[1]
        site = segments[2]
        path = "/" + (segments[3] if len(segments) > 3 else "")
        here = f"http://{self.headers.get('Host', '127.0.0.1')}/{segments[1]}/{site}"
        status = self._serve(state, site, path, parts.query, here)
        with self.server.lock:
            self.server.log.append({"path": self.path, "status": status,
                                    "conditional": "If-None-Match" in self.headers})

    def _serve(self, state: str, site: str, path: str, query: str, here: str) -> int:
        rule = rule_for(state, site, path, query)
        if rule is not None:
            time.sleep(rule.delay)
            if rule.location:
                self._send(rule.status, b"", {"Location": location_of(rule, query, here)})
                return rule.status
            if rule.status != 200:
                self._send(rule.status, b"error", {"Content-Type": "text/plain"})
                return rule.status
        file = self.server.files[state].resolve(site, path, query)
        if file is None:
            self._send(404, b"<html><body>Page not found</body></html>",
                       {"Content-Type": "text/html"})
            return 404
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {"Content-Type": content_type(file), "ETag": etag,
                   "Last-Modified": LAST_MODIFIED[state]}
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", {"ETag": etag})
            return 304
        self._send(200, body, headers)
        return 200


class SitesServer(ThreadingHTTPServer):
    """The HTTP server with both states indexed; `current` is the state served under LIVE."""

    daemon_threads = True

    def __init__(self, port: int = 0, state: str = "A") -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.files = {name: SiteFiles(name) for name in STATE_DIRS}
        self.current = state
        self.log: list[dict[str, object]] = []
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def switch(self, state: str) -> None:
        """Serve `state` under LIVE from now on."""
        if state not in STATE_DIRS:
            raise ValueError(f"unknown state {state!r}")
        self.current = state


def main(argv: list[str] | None = None) -> None:
    """Serve until killed; print the port first (one line)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", choices=sorted(STATE_DIRS), default="A",
                        help="the state served under /live/ at first")
    args = parser.parse_args(argv)
    server = SitesServer(args.port, args.state)
    port = server.server_address[1]
    print(port, flush=True)
    if args.port:
        for state in (*STATE_DIRS, LIVE):
            print(f"state {state}: SHELFCHECK_HOST_MAP=" + ",".join(host_map(server.base, state)),
                  file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
