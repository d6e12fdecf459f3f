"""A raw-socket loopback web for what an HTTP framework will not send (issue #17's drill).

Usage: ``python -m tests.faults.rawserver --dir DIR [--healthy N]``. Prints one JSON line
``{"hosts": {label: "http://ADDR:PORT"}}``; every request head is logged to DIR/requests.jsonl
(``host``, ``method``, ``path``, ``t``; ``end`` when its answer ended).

Each label is its own host (127.0.0.100 + n), because robots.txt is read per host:

- heads: ``/flood`` 4 kB header lines without end; ``/folded`` one header continued by folded
  lines without end; ``/megaline`` one 1 MB header line; ``/many`` 1,000 short header lines;
  ``/garbage`` a status line that is not HTTP; ``/bigstatus`` status 99999; ``/nothing``
  closes at once; ``/stall`` the head, then nothing; ``/fine`` a normal page;
- odd: ``/retry-digits`` 503 with Retry-After "١٢" (Arabic-Indic digits); ``/retry-date`` 503
  with a Retry-After date in the year 99999; ``/bad-ipv6`` 301 to ``http://[::1/x``;
  ``/utf16-404`` a UTF-16 "Page not found" page (200, BOM and header); ``/file.pdf`` a HEAD
  that never answers, a GET that does;
- robots (every other path answers a small page): r5xx (robots.txt 503), rtimeout (never
  answers robots.txt), rreset (resets it), r4xx (404), r2xx (disallows /private),
  rredir (five redirects, across hosts, to rtarget's robots.txt that disallows /secret),
  rredir6 (six redirects: unavailable, allow all), rslow (five redirects of 1.5 s each: past a
  6 s deadline), rhuge (5 MB: Disallow /late after 600 kB),
  rendless (Disallow /nope, then comment lines without end);
- tarpit: ``/t/N`` answers after 1.5 s with a 302 to ``/t/N+1`` (odd hops answer their first
  request with a 503 and ``Retry-After: 1``), forever;
- healthy0 ... healthyN: small pages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

ROBOTS = ("r5xx", "rtimeout", "rreset", "r4xx", "r2xx", "rredir", "rredir6", "rtarget",
          "rhuge", "rendless", "rslow")
LABELS = ("heads", "odd", *ROBOTS, "tarpit")
PAGE = (b"<!doctype html><html><head><title>Training page</title></head><body><h1>Library "
        b"training</h1><p>Webinars and courses for library support staff.</p></body></html>")
PATHS = {"fine", "public", "private", "open", "secret", "late", "nope", "x"}
UTF16_404 = ("<html><head><meta charset=\"utf-16\"><title>Page not found</title></head><body>"
             "<h1>Page not found</h1><p>The page you requested could not be found.</p>"
             "</body></html>")


class Raw:
    """The hosts of the raw web; `hosts` maps each label to its base URL once bound."""

    def __init__(self, folder: Path) -> None:
        self.log = (folder / "requests.jsonl").open("a", buffering=1, encoding="utf-8")
        self.hosts: dict[str, str] = {}
        self.seen: dict[str, int] = {}

    def record(self, **entry: Any) -> None:
        self.log.write(json.dumps(entry) + "\n")

    async def handle(self, label: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = rest.rsplit(" ", 1)[0]
            started = time.time()
            self.record(host=label, method=method, path=path, t=started)
            await self.answer(label, method, path, writer)
            self.record(host=label, method=method, path=path, t=started, end=time.time())
        except (ConnectionError, OSError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    @staticmethod
    async def send(writer: asyncio.StreamWriter, status: int, body: bytes = b"",
                   headers: dict[str, str] | None = None, method: str = "GET",
                   ctype: str = "text/html; charset=utf-8") -> None:
        fields = {"Content-Type": ctype, "Content-Length": str(len(body)),
                  "Connection": "close", **(headers or {})}
        head = f"HTTP/1.1 {status} Status\r\n" + "".join(f"{k}: {v}\r\n" for k, v in
                                                         fields.items()) + "\r\n"
        writer.write(head.encode("utf-8") + (body if method != "HEAD" else b""))
        await writer.drain()

    async def answer(self, label: str, method: str, path: str,
                     writer: asyncio.StreamWriter) -> None:
        if path == "/robots.txt":
            await self.robots(label, method, writer)
        elif label == "heads":
            await self.heads(path, method, writer)
        elif label == "odd":
            await self.odd(path, method, writer)
        elif label == "tarpit" and path.startswith("/t/"):
            await self.tarpit(path, method, writer)
        else:
            await self.page(path, method, writer)

    async def page(self, path: str, method: str, writer: asyncio.StreamWriter) -> None:
        """A page of its own for the paths the links use; 404 for any other path."""
        name = path.strip("/").replace("/", " ")
        if path.startswith("/page/") or name in PATHS:
            words = " ".join(f"{name} topic{n}" for n in range(40))
            await self.send(writer, 200, PAGE.replace(b"</p>", f" {words}</p>".encode())
                            .replace(b"Training page", f"Training: {name}".encode()),
                            method=method)
        else:
            await self.send(writer, 404, b"<html><title>Not Found</title></html>",
                            method=method)

    async def robots(self, label: str, method: str, writer: asyncio.StreamWriter) -> None:
        text = "text/plain"
        if label == "r5xx":
            await self.send(writer, 503, b"down for maintenance", ctype=text)
        elif label == "rtimeout":
            await asyncio.sleep(3600)
        elif label == "rreset":
            reset(writer)
        elif label == "r2xx":
            await self.send(writer, 200, b"User-agent: *\nDisallow: /private\n", ctype=text)
        elif label in ("rredir", "rredir6", "rslow"):
            await self.send(writer, 301, headers={"Location": self.hosts[f"{label}-hop"]
                                                  + "/hop/1"})
        elif label == "rtarget":
            await self.send(writer, 200, b"User-agent: *\nDisallow: /secret\n", ctype=text)
        elif label == "rhuge":
            body = b"User-agent: *\n" + b"# filler line of a huge robots.txt\n" * 17_500
            await self.send(writer, 200, body + b"Disallow: /late\n" + b"#" * (4 << 20),
                            ctype=text)
        elif label == "rendless":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                         b"User-agent: *\nDisallow: /nope\n")
            while True:
                writer.write(b"# and so on, and so on, and so on\n" * 1000)
                await writer.drain()
        else:  # r4xx, tarpit, odd, heads, healthy
            await self.send(writer, 404, b"no robots here", ctype=text)

    async def heads(self, path: str, method: str, writer: asyncio.StreamWriter) -> None:
        w = writer.write
        if path == "/flood":
            w(b"HTTP/1.1 200 OK\r\n")
            for n in range(1_000_000):
                w(f"X-Flood-{n}: {'f' * 4000}\r\n".encode())
                await writer.drain()
        elif path == "/folded":
            w(b"HTTP/1.1 200 OK\r\nX-Folded: start\r\n")
            while True:
                w(b" and it goes on\r\n" * 100)
                await writer.drain()
        elif path == "/megaline":
            w(b"HTTP/1.1 200 OK\r\nX-Mega: " + b"m" * (1 << 20) + b"\r\nContent-Length: "
              + str(len(PAGE)).encode() + b"\r\n\r\n" + PAGE)
        elif path == "/many":
            w(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Many-%d: y\r\n" % n for n in range(1000))
              + b"Content-Length: %d\r\n\r\n" % len(PAGE) + PAGE)
        elif path == "/garbage":
            w(b"SPAM 200 whatever\r\nContent-Length: 5\r\n\r\nhello")
        elif path == "/bigstatus":
            w(b"HTTP/1.1 99999 Huge\r\nContent-Length: 5\r\n\r\nhello")
        elif path == "/nothing":
            pass
        elif path == "/stall":
            w(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(3600)
        else:
            await self.page(path, method, writer)
            return
        await writer.drain()

    async def odd(self, path: str, method: str, writer: asyncio.StreamWriter) -> None:
        if path == "/retry-digits":
            await self.send(writer, 503, b"busy", {"Retry-After": "١٢"})
        elif path == "/retry-date":
            await self.send(writer, 503, b"busy", {"Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"})
        elif path == "/bad-ipv6":
            await self.send(writer, 301, headers={"Location": "http://[::1/x"})
        elif path == "/utf16-404":
            body = UTF16_404.encode("utf-16")  # with its BOM
            await self.send(writer, 200, body, ctype="text/html; charset=utf-16")
        elif path == "/file.pdf":
            if method == "HEAD":
                await asyncio.sleep(3600)
            await self.send(writer, 200, b"%PDF-1.4 a small file", ctype="application/pdf")
        else:
            await self.page(path, method, writer)

    async def tarpit(self, path: str, method: str, writer: asyncio.StreamWriter) -> None:
        hop = int(path.rsplit("/", 1)[1] or 0)
        self.seen[path] = self.seen.get(path, 0) + 1
        await asyncio.sleep(1.5)
        if hop % 2 and self.seen[path] == 1:
            await self.send(writer, 503, b"busy", {"Retry-After": "1"}, method)
            return
        await self.send(writer, 302, headers={"Location": f"/t/{hop + 1}"}, method=method)


def reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def serve(folder: Path, healthy: int) -> None:
    raw = Raw(folder)
    labels = [*LABELS, *(f"healthy{n}" for n in range(healthy))]
    for number, label in enumerate(labels):
        address = f"127.0.0.{100 + number}"
        server = await asyncio.start_server(
            lambda r, w, label=label: raw.handle(label, r, w), address, 0, limit=1 << 16)
        raw.hosts[label] = f"http://{address}:{server.sockets[0].getsockname()[1]}"
    for label, hops, delay in (("rredir", 5, 0.0), ("rredir6", 6, 0.0), ("rslow", 5, 1.5)):
        await redirect_chain(raw, label, hops, delay)
    print(json.dumps({"hosts": raw.hosts}), flush=True)
    await asyncio.Event().wait()


async def redirect_chain(raw: Raw, label: str, hops: int, delay: float) -> None:
    """robots.txt of `label` -> /hop/1 -> ... -> rtarget's robots.txt, each hop after `delay`."""
    async def hop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(delay)
            path = head.split(b" ", 2)[1].decode()
            raw.record(host=f"{label}-hop", method="GET", path=path, t=time.time())
            n = int(path.rsplit("/", 1)[1]) if path.startswith("/hop/") else 0
            target = (raw.hosts["rtarget"] + "/robots.txt" if n + 1 >= hops
                      else f"{raw.hosts[label + '-hop']}/hop/{n + 1}")
            await Raw.send(writer, 301, headers={"Location": target})
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    address = {"rredir": "127.0.0.99", "rredir6": "127.0.0.98", "rslow": "127.0.0.97"}[label]
    server = await asyncio.start_server(hop, address, 0)
    raw.hosts[f"{label}-hop"] = f"http://{address}:{server.sockets[0].getsockname()[1]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--healthy", type=int, default=0)
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(folder, args.healthy))


if __name__ == "__main__":
    main(sys.argv[1:])
