"""Bounds on a response's header section: total size and line count, folded lines counted.

Twisted reads header lines without limit, so a server that streams headers forever (thousands of
4 kB lines, or one header continued by folded lines) grows a check by gigabytes before the
download timeout, and a line longer than 16 kB closes the connection without a reason.
`BoundedClientFactory` builds Scrapy's lenient HTTP/1.1 protocol with a count of the bytes, lines
and line length received before the body: past a bound the connection is aborted and the request
fails with `ResponseBoundError`, which the link check calls `bad_response`.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import (
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
)
from twisted.python.failure import Failure
from twisted.web._newclient import HEADER, STATUS, HTTPClientParser

from shelfcheck.crawler.netguard import ResponseBoundError

DEFAULT_MAX_HEADER_SIZE = 64 * 1024
DEFAULT_MAX_HEADER_LINES = 200
MAX_LINE = HTTPClientParser.MAX_LENGTH  # Twisted drops the connection past it, unexplained


def _head_part(tail: bytes, data: bytes) -> bytes:
    """The part of `data` that still belongs to the header section (`tail`: bytes before it)."""
    joined = tail + data
    ends = [i for i in (joined.find(b"\n\n"), joined.find(b"\n\r\n")) if i >= 0]
    if not ends:
        return data
    return data[:max(0, min(ends) + 1 - len(tail))]


class BoundedClientProtocol(_LenientHTTP11ClientProtocol):
    """Scrapy's lenient HTTP/1.1 client protocol with bounds on the response head."""

    max_header_size = DEFAULT_MAX_HEADER_SIZE
    max_header_lines = DEFAULT_MAX_HEADER_LINES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._head_lines = 0
        self._line = 0
        self._tail = b""
        self._gave_up = False

    def request(self, request: Any) -> Any:
        self._head_bytes = self._head_lines = self._line = 0
        self._tail = b""
        return super().request(request)

    def dataReceived(self, data: bytes) -> None:
        if self._gave_up:
            return
        parser = self._parser
        if parser is not None and getattr(parser, "state", None) in (STATUS, HEADER):
            head = _head_part(self._tail, data)
            self._tail = (self._tail + head)[-2:]
            self._head_bytes += len(head)
            newlines = head.count(b"\n")
            self._head_lines += newlines
            self._line = (len(head) - head.rfind(b"\n") - 1) if newlines else \
                self._line + len(head)
            problem = None
            if self._line > MAX_LINE:
                problem = f"the server sent a header line over {MAX_LINE:,} bytes"
            elif self._head_lines > self.max_header_lines:
                problem = (f"the server sent more than {self.max_header_lines:,} header lines "
                           "(folded lines counted)")
            elif self._head_bytes > self.max_header_size:
                problem = (f"the server sent a header section over {self.max_header_size:,} "
                           "bytes")
            if problem:
                self._gave_up = True
                abort = getattr(self.transport, "abortConnection", None)
                if abort is not None:
                    abort()
                self._giveUp(Failure(ResponseBoundError(problem)))
                return
        super().dataReceived(data)


class BoundedClientFactory(_LenientHTTP11ClientFactory):
    """Builds `BoundedClientProtocol`s; `bounded` makes one with other limits."""

    protocol_class: type[BoundedClientProtocol] = BoundedClientProtocol

    @classmethod
    def bounded(cls, max_size: int, max_lines: int) -> type[BoundedClientFactory]:
        protocol = type("BoundedClientProtocol", (BoundedClientProtocol,),
                        {"max_header_size": max_size, "max_header_lines": max_lines})
        return type("BoundedClientFactory", (cls,), {"protocol_class": protocol})

    def buildProtocol(self, addr: Any) -> Any:
        return self.protocol_class(self._quiescentCallback)
