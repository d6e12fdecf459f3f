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


def address_problem(host: str) -> str | None:
    """Why `host` (an IP address) may not be fetched, or None when it is public."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for test, label in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
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

    The guard is off when the crawler's SHELFCHECK_ALLOW_PRIVATE_ADDRESSES setting is true.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        if not crawler.settings.getbool("SHELFCHECK_ALLOW_PRIVATE_ADDRESSES"):
            from twisted.internet import reactor

            pool = _GuardedPool(reactor, persistent=True)
            pool.maxPersistentPerHost = self._pool.maxPersistentPerHost
            pool._factory = self._pool._factory
            self._pool = pool
