"""A loopback HTTP and HTTPS test world for link checks, run in its own process.

Usage: ``python -m tests.mockserver.server --dir DIR [--latency S] [--bench-hosts N]``

Each "host" is its own port on 127.0.0.1. On start the server writes its test CA to DIR/ca.pem and
prints one JSON line on stdout: ``{"hosts": {label: "http://127.0.0.1:PORT"}, "closed": URL}``.
Every request is appended to DIR/requests.jsonl as it arrives, with the number of requests that
host had in flight at that moment (including itself), so tests can check the per-host limit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import trustme
from twisted.internet import reactor, ssl
from twisted.web import resource, server

PAGE = (b"<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1>"
        b"<p>%s</p></body></html>")
LOREM = (b"Library staff training: webinars, courses and self-paced modules for support staff, "
         b"with certification programs and continuing education credits. ")


def page(title: str, text: str = "") -> bytes:
    """A small HTML page."""
    body = text.encode() or LOREM * 3
    return PAGE % (title.encode(), title.encode(), body)


BENCH_ROBOTS = b"User-agent: *\nDisallow: /private/\n"
Answer = tuple[float, int, dict[str, str], bytes]  # (delay, status, headers, body)


class World:
    """The shared state: request log, in-flight counters, per-path counters and switches."""

    def __init__(self, log_path: Path, latency: float) -> None:
        self.log = log_path.open("a", buffering=1, encoding="utf-8")
        self.latency = latency
        self.in_flight: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.switch: dict[str, int] = {}

    def enter(self, label: str, request: Any) -> None:
        self.in_flight[label] = self.in_flight.get(label, 0) + 1
        headers = {k: request.getHeader(k) for k in ("if-none-match", "if-modified-since",
                                                   "user-agent") if request.getHeader(k)}
        self.log.write(json.dumps({
            "host": label, "method": request.method.decode(), "path": request.uri.decode(),
            "t": time.time(), "in_flight": self.in_flight[label], "headers": headers,
        }) + "\n")

    def leave(self, label: str) -> None:
        self.in_flight[label] -= 1


class Host(resource.Resource):
    """One host of the world; `label` picks its behaviour."""

    isLeaf = True

    def __init__(self, world: World, label: str) -> None:
        super().__init__()
        self.world, self.label = world, label

    def render(self, request: Any) -> Any:
        path = request.path.decode()
        if path.startswith("/__control/"):
            return self.control(request, path)
        self.world.enter(self.label, request)
        request.channel.transport.setTcpNoDelay(True)
        done = False

        def finished(_result: object) -> None:
            nonlocal done
            if not done:
                done = True
                self.world.leave(self.label)

        request.notifyFinish().addBoth(finished)
        key = f"{self.label}{path}"
        self.world.counts[key] = self.world.counts.get(key, 0) + 1
        handler = getattr(self, f"host_{self.label.split('-')[0]}", self.host_main)
        delay, status, headers, body = handler(request, path, self.world.counts[key])
        delay += self.world.latency
        if status == -1:  # reset the connection
            request.channel.transport.abortConnection()
            return server.NOT_DONE_YET
        if status == -2:  # trickle a byte every 0.1 s for `delay` seconds
            self.trickle(request, delay)
            return server.NOT_DONE_YET

        def respond() -> None:
            if request.finished or request._disconnected:
                return
            request.setResponseCode(status)
            for name, value in headers.items():
                request.setHeader(name, value)
            if "content-type" not in {k.lower() for k in headers}:
                request.setHeader("Content-Type", "text/html; charset=utf-8")
            request.setHeader("Content-Length", str(len(body)))
            if request.method != b"HEAD":
                request.write(body)
            request.finish()

        if delay > 0:
            reactor.callLater(delay, respond)
        else:
            respond()
        return server.NOT_DONE_YET

    def trickle(self, request: Any, seconds: float) -> None:
        """A slow answer that notices at once when the client gives up (it keeps writing)."""
        request.setHeader("Content-Type", "text/html")
        end = time.monotonic() + seconds

        def tick() -> None:
            if request.finished or request._disconnected:
                return
            if time.monotonic() >= end:
                request.finish()
                return
            request.write(b" ")
            reactor.callLater(0.1, tick)

        tick()

    def control(self, request: Any, path: str) -> bytes:
        args = {k.decode(): v[0].decode() for k, v in request.args.items()}
        self.world.switch[args["path"]] = int(args["status"])
        return b"ok"

    # --- behaviours: (delay, status, headers, body) ----------------------------------------

    def host_main(self, request: Any, path: str, count: int) -> Answer:
        ok = (0.0, 200, {}, page("Library training", ""))
        if path == "/robots.txt":
            robots = b"User-agent: *\nDisallow: /private/\n"
            return 0.0, 200, {"Content-Type": "text/plain"}, robots
        if path in self.world.switch:
            status = self.world.switch[path]
            return 0.0, status, {}, page(f"Switch {status}")
        table: dict[str, Answer] = {
            "/": ok, "/ok": ok, "/private/page": ok, "/shared": ok,
            "/not-found": (0.0, 404, {}, page("Not here")),
            "/gone": (0.0, 410, {}, page("Gone")),
            "/error": (0.0, 500, {}, page("Oops")),
            "/forbidden": (0.0, 403, {}, page("Forbidden")),
            "/linkedin": (0.0, 999, {}, page("Request denied")),
            "/challenge": (0.0, 403, {"cf-mitigated": "challenge"}, page("Just a moment...")),
            "/rate-long": (0.0, 429, {"Retry-After": "3600"}, page("Slow down")),
            "/rate-always": (0.0, 429, {"Retry-After": "1"}, page("Slow down")),
            "/soft-phrase": (0.0, 200, {}, page("Page Not Found",
                                                "Sorry, the page you requested was not found.")),
            "/moved": (0.0, 301, {"Location": "/ok"}, b""),
            "/moved308": (0.0, 308, {"Location": "/ok"}, b""),
            "/temp": (0.0, 302, {"Location": "/ok"}, b""),
            "/chain": (0.0, 301, {"Location": "/chain2"}, b""),
            "/chain2": (0.0, 302, {"Location": "/ok"}, b""),
            "/loop-a": (0.0, 302, {"Location": "/loop-b"}, b""),
            "/loop-b": (0.0, 302, {"Location": "/loop-a"}, b""),
            "/reset": (0.0, -1, {}, b""),
        }
        if path in table:
            return table[path]
        if path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            return 0.0, 302, {"Location": f"/hop/{n + 1}"}, b""
        if path == "/rate-then-ok":
            if count == 1:
                return 0.0, 429, {"Retry-After": "1"}, page("Slow down")
            return ok
        if path == "/flaky":
            return (0.0, 503, {}, page("Busy")) if count <= 2 else ok
        if path == "/etag":
            headers = {"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
            if request.getHeader("if-none-match") == '"v1"':
                return 0.0, 304, headers, b""
            return 0.0, 200, headers, page("Tagged page")
        if path == "/files/report.pdf":
            if request.method == b"HEAD":
                return 0.0, 405, {}, b""
            return 0.0, 200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 " + b"x" * 300_000
        if path.startswith("/busy/"):
            return 0.3, 200, {}, page("Busy page")
        return 0.0, 404, {}, page("Not Found", "No such page.")

    def host_soft(self, request: Any, path: str, count: int) -> Answer:
        if path == "/robots.txt":
            return 0.0, 404, {}, b""
        if path in ("/", "/real"):
            return 0.0, 200, {}, page("Springfield Library", "Real content about webinars "
                                      "for support staff, their fees, dates and certificates.")
        return 0.0, 200, {}, page("Springfield Library",
                                  "Oops! There is nothing at this address. Try our search box "
                                  "or browse the catalogue of courses and events.")

    def host_home(self, request: Any, path: str, count: int) -> Answer:
        if path == "/robots.txt":
            return 0.0, 404, {}, b""
        if path in ("/", "/courses"):
            return 0.0, 200, {}, page("Home of courses")
        return 0.0, 302, {"Location": "/"}, b""

    def host_crawl(self, request: Any, path: str, count: int) -> Answer:
        if path == "/robots.txt":
            return 0.0, 200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 1\n"
        if path in ("/a", "/b"):
            return 0.0, 200, {}, page(f"Polite page {path}")
        return 0.0, 404, {}, page("Not Found")

    def host_slow(self, request: Any, path: str, count: int) -> Answer:
        if path == "/robots.txt":
            return 0.0, 404, {}, b""
        return 3.0, -2, {}, b""

    def host_tls(self, request: Any, path: str, count: int) -> Answer:
        if path == "/robots.txt":
            return 0.0, 404, {}, b""
        if path in ("/", "/secure"):
            return 0.0, 200, {}, page("Secure page")
        return 0.0, 404, {}, page("Not Found")

    def host_bench(self, request: Any, path: str, count: int) -> Answer:
        if path == "/robots.txt":
            return 0.0, 200, {"Content-Type": "text/plain"}, BENCH_ROBOTS
        if path.startswith("/missing/"):
            return 0.0, 404, {}, page("Not Found")
        if path.startswith("/moved/"):
            return 0.0, 301, {"Location": path.replace("/moved/", "/page/", 1)}, b""
        if path.startswith(("/page/", "/private/")):  # robots.txt disallows /private/
            # Validators, and 304 to a request that sends the current one back.
            etag = f'"{zlib.crc32(path.encode()):08x}"'
            validators = {"ETag": etag, "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
            if request.getHeader("if-none-match") == etag:
                return 0.0, 304, validators, b""
            return 0.0, 200, validators, page("Course page " + path)
        return 0.0, 404, {}, page("Not Found")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tls_options(cert: trustme.LeafCert) -> ssl.CertificateOptions:
    pem = cert.private_key_and_cert_chain_pem.bytes()
    return ssl.PrivateCertificate.loadPEM(pem).options()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--bench-hosts", type=int, default=0)
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    world = World(folder / "requests.jsonl", args.latency)
    site_kwargs: dict[str, Any] = {}
    hosts: dict[str, str] = {}

    def listen(label: str, tls: ssl.CertificateOptions | None = None) -> None:
        site = server.Site(Host(world, label), **site_kwargs)
        site.noisy = False
        if tls is None:
            port = reactor.listenTCP(0, site, interface="127.0.0.1")
            scheme = "http"
        else:
            port = reactor.listenSSL(0, site, tls, interface="127.0.0.1")
            scheme = "https"
        hosts[label] = f"{scheme}://127.0.0.1:{port.getHost().port}"

    if args.bench_hosts:
        for i in range(args.bench_hosts):
            listen(f"bench-{i}")
    else:
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        now = dt.datetime.now(dt.UTC)
        for label in ("main", "soft", "home", "crawl", "slow"):
            listen(label)
        listen("tls", _tls_options(ca.issue_cert("127.0.0.1", "localhost")))
        listen("tls-expired", _tls_options(ca.issue_cert(
            "127.0.0.1", not_before=now - dt.timedelta(days=30),
            not_after=now - dt.timedelta(days=1))))
        listen("tls-wrongname", _tls_options(ca.issue_cert("example.invalid")))
        listen("tls-untrusted", _tls_options(trustme.CA().issue_cert("127.0.0.1")))
    print(json.dumps({"hosts": hosts, "closed": f"http://127.0.0.1:{_free_port()}",
                      "log": str(folder / "requests.jsonl"),
                      "ca": str(folder / "ca.pem")}), flush=True)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
