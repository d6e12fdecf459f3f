"""URL rewriting at request time (`host_map`): tests and offline demos serve real hosts locally.

`host_map` entries are ``REAL=LOCAL`` URL prefixes, e.g.
``https://infopeople.org=http://127.0.0.1:8765/A/infopeople``. A request for a URL under REAL is
sent to LOCAL instead; the response (and a redirect's Location) is mapped back, so spiders,
keys, caches and events only ever see the real URLs. Empty in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shelfcheck.errors import ConfigError

if TYPE_CHECKING:  # parsing a host map (the settings' preflight) needs no Scrapy
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

META_REAL_URL = "shelfcheck_real_url"


@dataclass(frozen=True)
class HostMap:
    """Prefix pairs (real, local), longest real prefix first."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, entries: list[str] | None) -> HostMap:
        """Read ``REAL=LOCAL`` entries; raises ConfigError naming a bad one."""
        pairs = []
        for entry in entries or []:
            real, sep, local = entry.partition("=")
            real, local = real.strip().rstrip("/"), local.strip().rstrip("/")
            if not sep or not real.startswith(("http://", "https://")) or not local.startswith(
                    ("http://", "https://")):
                raise ConfigError(f"key 'host_map': entry {entry!r} is not REAL=LOCAL "
                                  "(two http(s) URL prefixes)")
            pairs.append((real, local))
        return cls(tuple(sorted(pairs, key=lambda p: -len(p[0]))))

    @staticmethod
    def _swap(url: str, src: str, dst: str) -> str | None:
        if url == src or url.startswith(src + "/") or url.startswith(src + "?"):
            return dst + url[len(src):]
        return None

    def to_local(self, url: str) -> str:
        """The URL to fetch for a real URL."""
        for real, local in self.pairs:
            swapped = self._swap(url, real, local)
            if swapped is not None:
                return swapped
        return url

    def to_real(self, url: str) -> str:
        """The real URL of a fetched (local) URL."""
        for real, local in sorted(self.pairs, key=lambda p: -len(p[1])):
            swapped = self._swap(url, local, real)
            if swapped is not None:
                if swapped.startswith(real) and swapped[len(real):] in ("", "?"):
                    return real + "/"
                return swapped
        return url

    def __bool__(self) -> bool:
        return bool(self.pairs)


def host_map_of(crawler: Crawler) -> HostMap:
    """The host map of a crawler's shelfcheck settings."""
    values = crawler.settings.getdict("SHELFCHECK_SETTINGS")
    return HostMap.parse(values.get("host_map") or [])


class HostMapMiddleware:
    """Downloader middleware: rewrite requests to their local URL, responses back to real."""

    def __init__(self, host_map: HostMap) -> None:
        self.host_map = host_map

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostMapMiddleware:
        """Enabled only when `host_map` has entries."""
        from scrapy.exceptions import NotConfigured

        host_map = host_map_of(crawler)
        if not host_map:
            raise NotConfigured
        return cls(host_map)

    def process_request(self, request: Request) -> Request | None:
        """Send a request for a mapped real URL to its local URL instead."""
        local = self.host_map.to_local(request.url)
        if local == request.url:
            return None
        meta: dict[str, Any] = {**request.meta, META_REAL_URL: request.url}
        return request.replace(url=local, meta=meta)

    def process_response(self, request: Request, response: Response) -> Response:
        """Give the response (and its redirect target) the real URL again."""
        real = self.host_map.to_real(response.url)
        location = response.headers.get(b"Location")
        if location is not None:
            mapped = self.host_map.to_real(location.decode("latin-1"))
            response.headers[b"Location"] = mapped.encode("latin-1")
        if real == response.url:
            return response
        return response.replace(url=real)
