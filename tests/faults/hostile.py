"""Hostile web servers on loopback, run in their own process, for the fault suite.

Usage: ``python -m tests.faults.hostile --dir DIR [--bind ADDR ...] [--port-base N]
[--private-target URL]``

Each label below is one "host": its own loopback address (127.0.0.10, .11, ...; or the --bind
addresses) and port, so the per-host limit of one host never holds back another. On start the
server prints one JSON line: ``{"hosts": {label: "http://ADDR:PORT"}, "log": path}``. Every
request is appended to DIR/requests.jsonl when its head has arrived (``t``, with the local
``address`` it reached), and again when its answer ended (``end``), so a test can tell how
promptly each host was served.

Behaviours (``/robots.txt`` answers 404 at once everywhere except on `silent`):

- healthy: small pages (``/slow/...`` after 50 ms), a listing of three courses
  (``/listing``), long and encoded paths;
- silent: accepts the connection and never answers;
- drip: sends the headers, then one byte of body per second, forever;
- reset: sends 20 kB of a 200 kB body, then resets the connection (RST);
- gzip: a gzip bomb: 600 kB on the wire, 512 MiB decompressed;
- huge: a 50 MiB page (``/chunked``: without Content-Length, until the connection closes);
- redirect: ``/loop-a`` <-> ``/loop-b``, ``/to-file``, ``/to-ftp``, ``/to-js``, ``/to-private``
  (to `--private-target`), ``/moved-xss`` (a permanent redirect to a hostile-looking URL);
- charset: ``/bad-utf8`` (invalid UTF-8 declared as UTF-8), ``/wrong-charset`` (UTF-8 sent as
  ISO-8859-1 with an unknown meta charset), as listings of courses;
- html: ``/malformed`` (unclosed and stray tags) and ``/nested`` (courses 0, 1,500 and 5,000
  elements deep);
- big: ``/listing`` with 10,000 courses (``?n=N`` for another count);
- dupes: every course listed twice, once with session parameters;
- idn: courses linking to IDN hosts, percent-encoded and very long URLs;
- absurd: fees of -5, 10^12 and "$1,00.0"; dates in the years 1 and 9999 (text and JSON-LD);
- xss: hostile titles, descriptions, fee labels and links.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import json
import socket
import struct
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

LABELS = ("healthy", "silent", "drip", "reset", "gzip", "huge", "redirect", "charset", "html",
          "big", "dupes", "idn", "absurd", "xss")
HEAD_LIMIT = 1 << 20
MIB = 1 << 20

Course = tuple[str, str, str, str, str]  # (href, title, when, fee, description)


def course_items(courses: list[Course]) -> str:
    """The <li class="course"> items of a listing (values inserted as HTML: callers escape)."""
    return "".join(
        f'<li class="course"><a class="title" href="{href}">{title}</a>'
        f'<span class="when">{when}</span><span class="fee">{fee}</span>'
        f'<p class="desc">{desc}</p></li>'
        for href, title, when, fee, desc in courses
    )


def listing(courses: list[Course], *, head: str = "", title: str = "Courses") -> bytes:
    """A listing page in the layout of the fault suite's recipes."""
    return (f"<!doctype html><html><head><title>{title}</title>{head}</head><body>"
            f"<h1>{title}</h1><ul class=\"courses\">{course_items(courses)}</ul>"
            "</body></html>").encode()


def esc(text: str) -> str:
    """HTML-escape text, so that the page's *text* is the hostile string."""
    return html.escape(text, quote=True)



def day(offset: int, time: str = "") -> str:
    """A date `offset` days from today, as providers write it: "March 3, 2027 1:00 PM"."""
    when = dt.date.today() + dt.timedelta(days=offset)
    return f"{when:%B} {when.day}, {when.year}" + (f" {time}" if time else "")


SOON = 10  # the days from today of the courses' dates: upcoming, whenever the tests run
HEALTHY = [("/course/1", "Cataloging Basics", day(SOON, "1:00 PM"), "$175", "Four weeks."),
           ("/course/2", "Reference Interview", day(SOON + 1, "2:00 PM"), "Free", "One hour."),
           ("/course/3", "Library Safety", day(SOON + 2, "11:00 AM"), "$50.00", "Two hours.")]

LONG_SEGMENT = "a" * 4000
PAGES = ("/ok", "/page/", "/slow/", "/course/", "/caf", "/long/", "/new", "/c/", "/m/", "/n/")


def idn_courses() -> list[Course]:
    return [
        ("http://bücher.example/kurs?id=1", "IDN host course", day(SOON + 4), "$10", "IDN."),
        ("http://xn--bcher-kva.example/kurs?id=2", "Punycode host course", day(SOON + 5),
         "$11", "Punycode."),
        ("/caf%C3%A9/%7Euser/na%C3%AFve?q=a%20b&x=%2F", "Percent-encoded course",
         day(SOON + 6), "$12", "Encoded."),
        ("/café/ünïcode path?q=ä b", "Raw Unicode path course", day(SOON + 7), "$13", "Raw."),
        ("/bad%zzescape%", "Broken escape course", day(SOON + 8), "$14", "Broken."),
        (f"/long/{LONG_SEGMENT}?q={'b' * 3000}", "Very long URL course", day(SOON + 9),
         "$15", "Long."),
    ]


def absurd_page(base: str) -> bytes:
    courses = [
        ("/absurd/neg", "Negative fee course", day(SOON + 10), "-$5.00", "Negative."),
        ("/absurd/neg2", "Negative fee course two", day(SOON + 11), "$-5", "Negative."),
        ("/absurd/trillion", "Trillion fee course", day(SOON + 12), "$1,000,000,000,000",
         "Huge."),
        ("/absurd/trillion2", "Trillion plain course", day(SOON + 13), "$1000000000000",
         "Huge."),
        ("/absurd/grouping", "Bad grouping course", day(SOON + 14), "$1,00.0", "Malformed."),
        ("/absurd/year1", "Year one course", "January 1, 0001 10:00 AM", "$20", "Ancient."),
        ("/absurd/year9999", "Year 9999 course", "December 31, 9999 11:00 PM", "$20", "Far."),
        ("/absurd/fine", "Sane course", day(SOON + 15, "1:00 PM"), "$20", "Fine."),
    ]
    events = [
        {"@context": "https://schema.org", "@type": "Event", "name": "JSON-LD year one",
         "url": f"{base}/absurd/ld-year1", "startDate": "0001-01-01T00:00:00+05:00",
         "offers": {"@type": "Offer", "price": "-5", "priceCurrency": "USD"}},
        {"@context": "https://schema.org", "@type": "Event", "name": "JSON-LD year 9999",
         "url": f"{base}/absurd/ld-year9999", "startDate": "9999-12-31T23:00:00-05:00",
         "offers": {"@type": "Offer", "price": "1e12", "priceCurrency": "USD"}},
    ]
    items = course_items(courses)
    for event in events:
        items += (f'<li class="course"><a class="title" href="{event["url"]}">{event["name"]}'
                  '</a><script type="application/ld+json">'
                  f"{json.dumps(event)}</script></li>")
    return ("<!doctype html><html><head><title>Absurd</title></head><body>"
            f"<ul class=\"courses\">{items}</ul></body></html>").encode()


XSS_TITLE = "<script>alert('title')</script> & \"Quoted\" 'single' <b>bold</b>"
XSS_FORMULA = "=HYPERLINK(\"http://evil.example/\",\"click\")"
XSS_HEADING = "Line one\r\n# Heading\r\nBEGIN:VEVENT\r\nSUMMARY:injected\r\nEND:VEVENT"
XSS_CDATA = "]]></title><script>alert(1)</script><![CDATA["
XSS_URL = "/xss/\"><img src=x onerror=alert(1)>?a=<b>&c='d'"


def xss_page() -> bytes:
    courses = [
        ("/xss/1", esc(XSS_TITLE), day(SOON + 16, "1:00 PM"),
         esc("$43 (<b>PLA</b> member) or $59 (non-member <i>x</i>)"),
         esc("<img src=x onerror=alert('desc')> [link](javascript:alert(1)) | pipe | `code`")),
        ("/xss/2", esc(XSS_FORMULA), day(SOON + 17, "1:00 PM"), "$10",
         esc("+cmd|' /C calc'!A0")),
        ("/xss/3", esc(XSS_HEADING), day(SOON + 18, "1:00 PM"), "$10", esc("@SUM(1+1)*cmd")),
        ("/xss/4", esc(XSS_CDATA), day(SOON + 19, "1:00 PM"), "$10", "\u0000\u0007\u001b[31m"),
        (esc(XSS_URL), "Hostile link course", day(SOON + 20, "1:00 PM"), "$10", "Link."),
    ]
    return listing(courses, title="Hostile")


def bad_utf8_page() -> bytes:
    page = listing([
        ("/c/1", "Caf@1 course", day(SOON + 21), "$10", "Bad @2 bytes."),
        ("/c/2", "Second course", day(SOON + 22), "$20", "Fine."),
    ], head='<meta charset="utf-8">')
    return page.replace(b"@1", b"\xff").replace(b"@2", b"\xfe\x80\xc3\x28") + b"\xa0\xa1"


def wrong_charset_page() -> bytes:
    return listing([
        ("/c/1", "Café für Bücher", day(SOON + 23), "€10", "Déjà vu."),
        ("/c/2", "Naïve course", day(SOON + 24), "$20", "Fine."),
    ], head='<meta charset="x-no-such-charset">')


def malformed_page() -> bytes:
    return (b"<html><head><title>Broken</title><body><div><ul class=courses>"
            b"<li class=course><a class=title href=/m/1>Unclosed course<span class=fee>$30"
            b"<li class=course><a class=title href='/m/2'>Second <b>bold <i>course</a>"
            b"</div></div></span><span class=fee>$40</li></p></td>"
            b"<li class=course><a class=title href=\"/m/3\">Third course</a><span class=when>"
            + day(SOON).encode() + b"<span class=fee>Free<!-- unterminated comment")


def nested_page() -> bytes:
    """A course at the top, one 1,500 elements deep and one 5,000 deep (past lxml's limit)."""
    def nest(depth: int, href: str, title: str) -> bytes:
        item = course_items([(href, title, day(SOON + 25), "$10", "Nested.")]).encode()
        return (b"<div>" * depth + b'<ul class="courses">' + item + b"</ul>"
                + b"</div>" * depth)

    return (b"<html><head><title>Nested</title></head><body>"
            + nest(0, "/n/0", "Shallow course") + nest(1500, "/n/1500", "Deep course")
            + nest(5000, "/n/5000", "Too deep course") + b"</body></html>")


def big_page(count: int) -> bytes:
    courses = [(f"/big/{i}", f"Course number {i}", day(SOON + 26, "1:00 PM"), f"${i % 300}",
                "A course.") for i in range(count)]
    return listing(courses, title=f"{count} courses")


def dupes_page() -> bytes:
    courses = HEALTHY + [(f"{href}?sid=abc123&utm_source=mail", title, when, fee, desc)
                         for href, title, when, fee, desc in HEALTHY] + HEALTHY
    return listing(courses, title="Duplicates")


_BOMB: bytes | None = None


def gzip_bomb() -> bytes:
    """512 MiB of spaces, gzip-compressed (made once, in about a second)."""
    global _BOMB
    if _BOMB is None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b" " * MIB
        parts = [compressor.compress(b"<html><body>")]
        parts += [compressor.compress(chunk) for _ in range(512)]
        parts.append(compressor.flush())
        _BOMB = b"".join(parts)
    return _BOMB


class Server:
    """All hosts of one hostile world."""

    def __init__(self, folder: Path, private_target: str) -> None:
        self.log = (folder / "requests.jsonl").open("a", buffering=1, encoding="utf-8")
        self.private_target = private_target

    def record(self, **entry: Any) -> None:
        self.log.write(json.dumps(entry) + "\n")

    async def handle(self, label: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            if label == "silent":
                self.record(host=label, path="(connection)", t=time.time(),
                            address=writer.get_extra_info("sockname")[0])
                await reader.read()  # until the client gives up
                return
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, _, rest = line.partition(" ")
            path = rest.rsplit(" ", 1)[0]
            started = time.time()
            local = writer.get_extra_info("sockname")[0]
            self.record(host=label, method=method, path=path[:300], length=len(path), t=started,
                        address=local)
            await self.answer(label, method, path, writer)
            self.record(host=label, path=path[:300], end=time.time(), t=started)
        except (ConnectionError, OSError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def send(self, writer: asyncio.StreamWriter, status: int, body: bytes = b"",
                   headers: dict[str, str] | None = None, method: str = "GET") -> None:
        reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}
        head = [f"HTTP/1.1 {status} {reason.get(status, 'Status')}"]
        fields = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body)),
                  "Connection": "close", **(headers or {})}
        head += [f"{k}: {v}" for k, v in fields.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if method != "HEAD":
            writer.write(body)
        await writer.drain()

    async def answer(self, label: str, method: str, path: str,
                     writer: asyncio.StreamWriter) -> None:
        if path == "/robots.txt":
            await self.send(writer, 404, b"", {"Content-Type": "text/plain"}, method)
            return
        behaviour: Callable[[str, str, asyncio.StreamWriter], Awaitable[None]] = getattr(
            self, f"host_{label}")
        await behaviour(method, path, writer)

    async def page(self, writer: asyncio.StreamWriter, method: str, body: bytes,
                   content_type: str = "text/html; charset=utf-8") -> None:
        await self.send(writer, 200, body, {"Content-Type": content_type}, method)

    async def host_healthy(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        if path.startswith("/listing"):
            await self.page(writer, method, listing(HEALTHY))
            return
        if path.startswith("/slow/"):
            await asyncio.sleep(0.05)
        if path == "/" or path.startswith(PAGES):
            name = esc(path[:60])
            await self.page(writer, method, f"<html><head><title>Page {name}</title></head>"
                            f"<body><h1>Library training: {name}</h1><p>Webinars and courses "
                            "for library support staff, with certificates.</p></body></html>"
                            .encode())
        else:
            await self.not_found(writer, method)

    async def not_found(self, writer: asyncio.StreamWriter, method: str) -> None:
        await self.send(writer, 404, b"<html><head><title>Not found</title></head><body>"
                        b"<h1>Not found</h1></body></html>", method=method)

    async def host_drip(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                     b"Content-Length: 100000\r\n\r\n<html>")
        while True:
            await writer.drain()
            await asyncio.sleep(1.0)
            writer.write(b" ")

    async def host_reset(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                     b"Content-Length: 200000\r\n\r\n<html><body>" + b"x" * 20000)
        await writer.drain()
        await asyncio.sleep(0.2)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def host_gzip(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        if not path.startswith(("/x", "/listing")):
            await self.not_found(writer, method)
            return
        await self.send(writer, 200, gzip_bomb(), {"Content-Encoding": "gzip"}, method)

    async def host_huge(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        if not path.startswith(("/x", "/chunked", "/listing")):
            await self.not_found(writer, method)
            return
        size = 50 * MIB
        chunked = path.startswith("/chunked")
        length = "" if chunked else f"Content-Length: {size}\r\n"
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{length}"
                     "Connection: close\r\n\r\n".encode())
        if method == "HEAD":
            await writer.drain()
            return
        block = listing(HEALTHY) + b" " * (64 * 1024)
        sent = 0
        while sent < size:
            writer.write(block)
            sent += len(block)
            await writer.drain()

    async def host_redirect(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        targets = {
            "/loop-a": (302, "/loop-b"), "/loop-b": (302, "/loop-a"),
            "/to-file": (301, "file:///etc/passwd"),
            "/to-ftp": (301, "ftp://127.0.0.1/pub/file.txt"),
            "/to-js": (301, "javascript:alert(document.cookie)"),
            "/to-private": (302, self.private_target),
            "/moved-xss": (301, "/new\"><script>alert('redirect')</script>?a=<b>&c=1"),
        }
        if path in targets:
            status, location = targets[path]
            await self.send(writer, status, b"", {"Location": location}, method)
        else:
            await self.host_healthy(method, path, writer)

    async def host_charset(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        if path.startswith("/bad-utf8"):
            await self.page(writer, method, bad_utf8_page())
        elif path.startswith("/wrong-charset"):
            await self.page(writer, method, wrong_charset_page(),
                            "text/html; charset=iso-8859-1")
        else:
            await self.host_healthy(method, path, writer)

    async def host_html(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        if path.startswith("/malformed"):
            await self.page(writer, method, malformed_page())
        elif path.startswith("/nested"):
            await self.page(writer, method, nested_page())
        else:
            await self.host_healthy(method, path, writer)

    async def host_big(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        count = int(path.split("n=", 1)[1]) if "n=" in path else 10_000
        await self.page(writer, method, big_page(count))

    async def host_dupes(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        await self.page(writer, method, dupes_page())

    async def host_idn(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        if path.startswith("/listing"):
            await self.page(writer, method, listing(idn_courses(), title="IDN"))
        else:
            await self.host_healthy(method, path, writer)

    async def host_absurd(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        address, port = writer.get_extra_info("sockname")[:2]
        await self.page(writer, method, absurd_page(f"http://{address}:{port}"))

    async def host_xss(self, method: str, path: str, writer: asyncio.StreamWriter) -> None:
        await self.page(writer, method, xss_page())


async def serve(args: argparse.Namespace) -> None:
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    world = Server(folder, args.private_target)
    gzip_bomb()
    hosts: dict[str, str] = {}
    for number, label in enumerate(LABELS):
        port = args.port_base + number if args.port_base else 0
        # Without --bind every host gets its own loopback address, as distinct hosts have:
        # a crawl keeps one download slot (and per-host limit) per host name.
        for address in args.bind or [f"127.0.0.{10 + number}"]:
            srv = await asyncio.start_server(
                lambda r, w, label=label: world.handle(label, r, w), address, port,
                limit=HEAD_LIMIT, reuse_address=True)
            port = srv.sockets[0].getsockname()[1]
            if label not in hosts:
                hosts[label] = f"http://{address}:{port}"
    print(json.dumps({"hosts": hosts, "log": str(folder / "requests.jsonl")}), flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--bind", action="append", default=[])
    parser.add_argument("--port-base", type=int, default=0)
    parser.add_argument("--private-target", default="http://127.0.0.1:9/private")
    args = parser.parse_args(argv)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main(sys.argv[1:])
