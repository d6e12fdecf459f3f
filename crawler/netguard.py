"""Refuse loopback, private and link-local addresses, checked on the connection itself.

The check looks at the peer address of every new connection, after the TCP connect and before any
HTTP bytes are written. A name that resolves to a public address for one lookup and to a private
one for the next (DNS rebinding) cannot slip past it, and neither can a redirect to such a name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.web.client import HTTPConnectionPool
from zope.interface import implementer

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class BlockedAddressError(Exception):
    """The connection went to an address shelfcheck refuses to fetch."""


class ResponseBoundError(Exception):
    """The server's answer broke a bound (header size or count, robots.txt size)."""


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(host: str) -> str | None:
    """Why `host` (an IP address) may not be fetched, or None when it is public.

    Anything that is not globally routable is refused: loopback, private, link-local, shared
    (100.64.0.0/10, where some clouds keep their metadata service), reserved, and IPv6 forms of
    such IPv4 addresses.
    """
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            problem = address_problem(str(embedded))
            return f"address {ip} stands for {embedded}: {problem}" if problem else None
    for test, label in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not a public address"),
    ):
        if test:
            return f"address {ip} is {label}"
    return None


@implementer(IStreamClientEndpoint)
class _CheckedEndpoint:
    """An endpoint that aborts connections whose peer is a refused address."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def connect(self, protocol_factory: Any) -> Deferred[Any]:
        def check(protocol: Any) -> Any:
            peer = protocol.transport.getPeer()
            problem = address_problem(getattr(peer, "host", ""))
            if problem:
                protocol.transport.abortConnection()
                raise BlockedAddressError(
                    f"{problem}; shelfcheck does not fetch loopback, private or link-local "
                    "addresses (allow_private_addresses = false)"
                )
            return protocol

        return self._wrapped.connect(protocol_factory).addCallback(check)

    def __repr__(self) -> str:
        return repr(self._wrapped)


class _GuardedPool(HTTPConnectionPool):
    def _newConnection(self, key: Hashable, endpoint: Any) -> Any:
        return super()._newConnection(key, _CheckedEndpoint(endpoint))  # type: ignore[arg-type]


class GuardedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler whose new connections are checked against refused addresses.

    Its TLS policy also records why a certificate failed (`crawler.tlsdiag`), and its protocol
    bounds the size and line count of a response's headers (`crawler.bounds`).

    The guard is off when the crawler's SHELFCHECK_ALLOW_PRIVATE_ADDRESSES setting is true.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        from shelfcheck.crawler.bounds import BoundedClientFactory
        from shelfcheck.crawler.settings import shelfcheck_setting
        from shelfcheck.crawler.tlsdiag import DiagnosingPolicy

        self._contextFactory = DiagnosingPolicy(self._contextFactory)  # type: ignore[assignment]
        factory = BoundedClientFactory.bounded(
            int(shelfcheck_setting(crawler.settings, "max_header_size")),
            int(shelfcheck_setting(crawler.settings, "max_header_lines")))
        if not crawler.settings.getbool("SHELFCHECK_ALLOW_PRIVATE_ADDRESSES"):
            from twisted.internet import reactor

            pool = _GuardedPool(reactor, persistent=True)
            pool.maxPersistentPerHost = self._pool.maxPersistentPerHost
            self._pool = pool
        self._pool._factory = factory
