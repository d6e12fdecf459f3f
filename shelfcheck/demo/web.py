"""The demo's provider web: copies of the providers' sites on loopback, in two states a week apart.

State A (week one) is `sites/A/`: pages in the shapes of the reference sites, with sample data;
each file stands for the URL its name encodes (see `sites/A/README.md`). State B (week two) is
`sites/B/`, edited copies laid over A (see `sites/B/README.md`), plus the status rules in `RULES`
and the robots.txt blocks in `ROBOTS_BLOCKED`. URLs look like
``http://127.0.0.1:PORT/<state>/<site>/<path>?<query>``, where `<state>` is ``A``, ``B`` or
``live`` (whichever state the server is in now: `SitesServer.switch`, or ``GET /_state?set=B``).
`host_map()` gives the `host_map` setting that sends the real hosts there.

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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SITES = Path(__file__).resolve().parent / "sites"
STATE_DIRS = {"A": [SITES / "A"], "B": [SITES / "B", SITES / "A"]}
LIVE = "live"  # the path segment served from the server's current state
SITE_HOSTS = {
    "https://infopeople.org": "infopeople",
    "https://libraryjuiceacademy.com": "lja",
    "https://www.webjunction.org": "webjunction",
    "https://elearning.ala.org": "ala-elearning",
    "https://www.techsoup.org": "techsoup",
    "https://libraries.idaho.gov": "able",
    "http://www.lili.org": "able",
    "https://www.ala.org": "ala",
    "http://ala-apa.org": "ala-apa",
    "http://www.techsoupforlibraries.org": "techsoupforlibraries",
}
LAST_MODIFIED = {"A": "Fri, 20 Nov 2026 17:42:09 GMT", "B": "Tue, 24 Nov 2026 09:00:00 GMT"}
SESSION_PARAMS = {"sid", "jsessionid", "phpsessid", "sessionid", "utm_source", "utm_medium",
                  "utm_campaign", "wcs", "tsid", "ssid", "sesskey"}


@dataclass(frozen=True)
class Rule:
    """A response that is not a file: an error status, a redirect or a delay.

    `location` is a template: ``{id}`` and the other query parameters of the request, and
    ``{here}``, the absolute URL of the site's folder on this server (``http://HOST/B/ala``).
    """

    site: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    status: int = 200
    location: str | None = None
    delay: float = 0.0


REDIRECTS = [Rule("ala-elearning", "/course/view.php", status=303,
                  location="https://elearning.ala.org/enrol/index.php?id={id}")]
RULES: dict[str, list[Rule]] = {
    "A": REDIRECTS,
    "B": [
        *REDIRECTS,
        # a listing outage
        Rule("webjunction", "/events/webjunction.html", status=503),
        # pagination page 2 fails
        Rule("techsoup", "/community/events-webinars", (("page", "1"),), status=500),
        # a moved page (permanent redirect)
        Rule("ala", "/educationcareers/careers/corecomp/corecompetences", status=301,
             location="{here}/educationcareers/competencies/"),
        # a dead link
        Rule("techsoupforlibraries", "/", status=404),
    ],
}
# Sites whose robots.txt forbids every path in a state: a blocked host.
ROBOTS_BLOCKED: dict[str, tuple[str, ...]] = {"A": (), "B": ("ala-apa",)}


def url_of(rel: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """The URL path and query a site file stands for (its path under the site's folder)."""
    folder, _, name = rel.rpartition("/")
    prefix = f"/{folder}/" if folder else "/"
    if "__" in name:
        base, _, encoded = name.partition("__")
        encoded = encoded.rsplit(".", 1)[0]
        pairs = (part.split("-", 1) for part in encoded.split("_"))
        return prefix + base, frozenset((key, value) for key, value in pairs)
    if name == "index.html":
        return prefix, frozenset()
    return prefix + name, frozenset()


@dataclass
class SiteFiles:
    """The files of one state, indexed by (site, path, query)."""

    state: str
    index: dict[tuple[str, str, frozenset[tuple[str, str]]], Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for root in reversed(STATE_DIRS[self.state]):
            for file in root.rglob("*"):
                if not file.is_file() or file.name == "README.md":
                    continue
                site, _, rel = file.relative_to(root).as_posix().partition("/")
                path, query = url_of(rel)
                self.index[(site, path, query)] = file
                if path.endswith(".html") and not query:
                    self.index[(site, path.removesuffix(".html"), query)] = file
                if path.endswith("/index.html"):
                    self.index[(site, path.removesuffix("index.html"), query)] = file

    def resolve(self, site: str, path: str, query: str) -> Path | None:
        """The file for a request, ignoring session parameters the file name does not carry."""
        pairs = parse_qsl(query, keep_blank_values=True)
        exact = self.index.get((site, path, frozenset(pairs)))
        if exact is not None:
            return exact
        kept = frozenset(p for p in pairs if p[0].lower() not in SESSION_PARAMS)
        return self.index.get((site, path, kept))


def rule_for(state: str, site: str, path: str, query: str) -> Rule | None:
    """The status rule matching a request, if any."""
    pairs = dict(parse_qsl(query))
    for rule in RULES[state]:
        if rule.site == site and rule.path == path and all(
                pairs.get(k) == v for k, v in rule.query):
            return rule
    return None


def location_of(rule: Rule, query: str, here: str) -> str:
    """The Location a redirect rule answers with."""
    assert rule.location is not None
    return rule.location.format(**{**dict(parse_qsl(query)), "here": here})


def content_type(file: Path) -> str:
    """The Content-Type a file is served with."""
    if file.suffix == ".ics":
        return "text/calendar; charset=utf-8"
    if file.suffix == ".htm":
        return "text/html; charset=iso-8859-1"
    return "text/html; charset=utf-8"


def robots_txt(current: str) -> bytes:
    """The server's robots.txt: private folders, and the sites blocked in each state."""
    lines = ["User-agent: *"]
    for state in (*STATE_DIRS, LIVE):
        lines.append(f"Disallow: /{state}/private/")
        blocked = ROBOTS_BLOCKED[current if state == LIVE else state]
        lines.extend(f"Disallow: /{state}/{site}/" for site in blocked)
    return ("\n".join(lines) + "\n").encode()


def host_map(base: str, state: str) -> list[str]:
    """`host_map` entries sending every provider host to this server in `state` (or LIVE)."""
    return [f"{real}={base}/{state}/{site}" for real, site in SITE_HOSTS.items()]


def real_to_local(url: str, state: str) -> tuple[str, str, str] | None:
    """(site, path, query) of a real provider URL in `state`, for offline reads."""
    parts = urlsplit(url)
    site = SITE_HOSTS.get(f"{parts.scheme}://{parts.netloc}")
    if site is None:
        return None
    return site, parts.path or "/", parts.query


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


def read_offline(url: str, state: str = "A", files: SiteFiles | None = None,
                 ) -> tuple[int, bytes, str, str]:
    """Read a real provider URL from the site files without HTTP: (status, body, type, url).

    Redirect rules are followed; status rules give their status and no body.
    """
    files = files or SiteFiles(state)
    for _ in range(5):
        target = real_to_local(url, state)
        if target is None:
            return 404, b"", "text/plain", url
        site, path, query = target
        rule = rule_for(state, site, path, query)
        if rule is not None and rule.location:
            parts = urlsplit(url)
            url = location_of(rule, query, f"{parts.scheme}://{parts.netloc}")
            continue
        if rule is not None and rule.status != 200:
            return rule.status, b"", "text/plain", url
        file = files.resolve(site, path, query)
        if file is None:
            return 404, b"", "text/html", url
        return 200, file.read_bytes(), content_type(file), url
    return 310, b"", "text/plain", url


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
