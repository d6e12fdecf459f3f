"""The providers' sites on loopback, in two states, for tests and the offline demo.

State A is `fixtures/sites/` (copies of ../shared/reference/sites: each file stands for the URL
its name encodes, see that README). State B is `fixtures/sites-b/`, edited copies laid over A
(see its README), plus the status rules in `RULES`. URLs look like
``http://127.0.0.1:PORT/<state>/<site>/<path>?<query>``; `host_map()` gives the `host_map`
setting that sends the real hosts there.

Run it by hand for a demo::

    python -m tests.sites --port 8765          # prints the host_map entries for state A and B
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

HERE = Path(__file__).resolve().parent
STATE_DIRS = {"A": [HERE / "fixtures" / "sites"],
              "B": [HERE / "fixtures" / "sites-b", HERE / "fixtures" / "sites"]}
SITE_HOSTS = {
    "https://infopeople.org": "infopeople",
    "https://libraryjuiceacademy.com": "lja",
    "https://www.webjunction.org": "webjunction",
    "https://elearning.ala.org": "ala-elearning",
    "https://www.techsoup.org": "techsoup",
    "https://libraries.idaho.gov": "able",
    "http://www.lili.org": "able",
}
LAST_MODIFIED = {"A": "Fri, 20 Nov 2026 17:42:09 GMT", "B": "Tue, 24 Nov 2026 09:00:00 GMT"}
SESSION_PARAMS = {"sid", "jsessionid", "phpsessid", "sessionid", "utm_source", "utm_medium",
                  "utm_campaign", "wcs", "tsid", "ssid", "sesskey"}


@dataclass(frozen=True)
class Rule:
    """A response that is not a file: an error status, a redirect or a delay."""

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
    ],
}


def url_of(rel: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """The URL path and query a fixture file stands for (its path under the site's folder)."""
    folder, _, name = rel.rpartition("/")
    prefix = f"/{folder}/" if folder else "/"
    if "__" in name:
        base, _, encoded = name.partition("__")
        encoded = encoded.rsplit(".", 1)[0]
        query = frozenset(tuple(part.split("-", 1)) for part in encoded.split("_"))  # type: ignore[misc]
        return prefix + base, query
    if name == "index.html":
        return prefix, frozenset()
    return prefix + name, frozenset()


@dataclass
class SiteFiles:
    """The fixture files of one state, indexed by (site, path, query)."""

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


def content_type(file: Path) -> str:
    """The Content-Type a file is served with."""
    if file.suffix == ".ics":
        return "text/calendar; charset=utf-8"
    if file.suffix == ".htm":
        return "text/html; charset=iso-8859-1"
    return "text/html; charset=utf-8"


def host_map(base: str, state: str) -> list[str]:
    """`host_map` entries sending every provider host to this server in `state`."""
    return [f"{real}={base}/{state}/{site}" for real, site in SITE_HOSTS.items()]


def real_to_local(url: str, state: str) -> tuple[str, str, str] | None:
    """(site, path, query) of a real provider URL in `state`, for offline reads."""
    parts = urlsplit(url)
    site = SITE_HOSTS.get(f"{parts.scheme}://{parts.netloc}")
    if site is None:
        return None
    return site, parts.path or "/", parts.query


class Handler(BaseHTTPRequestHandler):
    """Serves /<state>/<site>/<path>; /robots.txt; /_log (the requests seen, as JSON;
    ``?clear=1`` empties it)."""

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
            self._send(200, b"User-agent: *\nDisallow: /A/private/\nDisallow: /B/private/\n",
                       {"Content-Type": "text/plain"})
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
        segments = parts.path.split("/", 3)
        if len(segments) < 3 or segments[1] not in STATE_DIRS:
            self._send(404, b"not found")
            return
        state, site = segments[1], segments[2]
        path = "/" + (segments[3] if len(segments) > 3 else "")
        status = self._serve(state, site, path, parts.query)
        with self.server.lock:
            self.server.log.append({"path": self.path, "status": status,
                                    "conditional": "If-None-Match" in self.headers})

    def _serve(self, state: str, site: str, path: str, query: str) -> int:
        rule = rule_for(state, site, path, query)
        if rule is not None:
            time.sleep(rule.delay)
            if rule.location:
                location = rule.location.format(**dict(parse_qsl(query)))
                self._send(rule.status, b"", {"Location": location})
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
    """The HTTP server with both states indexed."""

    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.files = {state: SiteFiles(state) for state in STATE_DIRS}
        self.log: list[dict[str, object]] = []
        self.lock = threading.Lock()


def main(argv: list[str] | None = None) -> None:
    """Serve until killed; print the port first (one line)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = SitesServer(args.port)
    port = server.server_address[1]
    print(port, flush=True)
    if args.port:
        base = f"http://127.0.0.1:{port}"
        for state in STATE_DIRS:
            print(f"state {state}: SHELFCHECK_HOST_MAP=" + ",".join(host_map(base, state)),
                  file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()


def read_offline(url: str, state: str = "A", files: SiteFiles | None = None,
                 ) -> tuple[int, bytes, str, str]:
    """Read a real provider URL from the fixtures without HTTP: (status, body, type, url).

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
            url = rule.location.format(**dict(parse_qsl(query)))
            continue
        if rule is not None and rule.status != 200:
            return rule.status, b"", "text/plain", url
        file = files.resolve(site, path, query)
        if file is None:
            return 404, b"", "text/html", url
        return 200, file.read_bytes(), content_type(file), url
    return 310, b"", "text/plain", url


def walk_offline(walk: object, state: str = "A") -> object:
    """Drive a `crawler.walk.ProviderWalk` over the fixtures of `state`; returns its crawl."""
    from crawler.extract.model import Page
    from crawler.walk import ProviderWalk

    assert isinstance(walk, ProviderWalk)
    files = SiteFiles(state)
    queue = walk.start()
    while queue:
        fetch = queue.pop(0)
        status, body, ctype, final = read_offline(fetch.url, state, files)
        if status != 200:
            walk.on_failure(fetch, f"HTTP {status}", status=status)
            continue
        charset = ctype.split("charset=")[-1] if "charset=" in ctype else "utf-8"
        queue.extend(walk.on_page(fetch, Page(final, body.decode(charset, "replace"), ctype)))
    return walk.finish()
