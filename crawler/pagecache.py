"""Conditional requests for listing pages: ETag / Last-Modified validators kept in PageCache.

A page fetched before is requested with If-None-Match / If-Modified-Since; a 304 answer is
replaced by the cached body (flag "not_modified"), so extraction sees the same page at the cost
of an empty response. Only requests carrying the `shelfcheck_provider` meta key take part.
Bodies are kept gzip-compressed, in memory from the moment they are fetched (a crawl of
thousands of pages holds a fraction of their size); new validators and bodies are written when
the spider closes.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import make_engine, transaction
from shelfcheck.catalog.models import PageCache, utcnow
from shelfcheck.catalog.urlnorm import MAX_URL_LENGTH
from shelfcheck.crawler.hostmap import META_REAL_URL

log = logging.getLogger(__name__)
META_PROVIDER = "shelfcheck_provider"
NOT_MODIFIED = "not_modified"


@dataclass
class _Entry:
    etag: str | None
    last_modified: str | None
    content_type: str | None = None
    gzipped: bytes | None = None  # the body, compressed; only for pages fetched in this crawl


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class ConditionalRequestMiddleware:
    """Downloader middleware: validators out, 304 in (replaced by the cached page)."""

    def __init__(self, engine: Engine, crawler: Crawler) -> None:
        self.engine = engine
        self.crawler = crawler
        self.entries: dict[str, _Entry] = {}
        self.dirty: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        """Needs the catalog database (the `database_url` of shelfcheck's settings)."""
        values = crawler.settings.getdict("SHELFCHECK_SETTINGS")
        url = values.get("database_url")
        if not url:
            raise NotConfigured("no database_url")
        engine = make_engine(url, busy_timeout=float(values.get("sqlite_busy_timeout", 30)))
        middleware = cls(engine, crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        """Load the validators (not the bodies) of every cached page."""
        with transaction(self.engine) as session:
            for url, etag, modified in session.execute(
                    select(PageCache.url, PageCache.etag, PageCache.last_modified)):
                self.entries[url] = _Entry(etag, modified)

    def spider_closed(self) -> None:
        """Write the validators and bodies of pages fetched anew."""
        try:
            with transaction(self.engine) as session:
                for url in sorted(self.dirty):
                    entry = self.entries[url]
                    session.merge(PageCache(
                        url=url, etag=entry.etag, last_modified=entry.last_modified,
                        fetched_at=utcnow(), content_type=entry.content_type,
                        body=entry.gzipped or gzip.compress(b""),
                    ))
        except Exception:  # a cache that cannot be written only costs full fetches next time
            log.exception("could not store the page cache")
        finally:
            self.engine.dispose()

    @staticmethod
    def _key(request: Request) -> str | None:
        if META_PROVIDER not in request.meta:
            return None
        return str(request.meta.get(META_REAL_URL) or request.url)

    def process_request(self, request: Request) -> None:
        """Add the validators of a cached page."""
        key = self._key(request)
        entry = self.entries.get(key) if key else None
        if entry is None:
            return
        if entry.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = entry.etag.encode("latin-1")
        if entry.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = entry.last_modified.encode("latin-1")

    def _cached_body(self, key: str, entry: _Entry) -> tuple[bytes, str | None] | None:
        if entry.gzipped is not None:
            return gzip.decompress(entry.gzipped), entry.content_type
        with transaction(self.engine) as session:
            row = session.get(PageCache, key)
            if row is None or row.body is None:
                return None
            return gzip.decompress(row.body), row.content_type

    def process_response(self, request: Request, response: Response) -> Response:
        """A 304 becomes the cached page; a 200 with validators is remembered."""
        key = self._key(request)
        if key is None:
            return response
        entry = self.entries.get(key)
        if response.status == 304 and entry is not None:
            cached = self._cached_body(key, entry)
            if cached is None:
                return response
            body, content_type = cached
            headers = {b"Content-Type": (content_type or "text/html").encode("latin-1")}
            cls = responsetypes.from_args(headers=headers, url=response.url, body=body)
            self.crawler.stats.inc_value("shelfcheck/not_modified") if self.crawler.stats else None
            return cls(url=response.url, status=200, headers=headers, body=body,
                       request=request, flags=[*response.flags, NOT_MODIFIED])
        if response.status == 200 and len(key) <= MAX_URL_LENGTH:  # longer: no cache row
            etag = _header(response, b"ETag")
            modified = _header(response, b"Last-Modified")
            if etag or modified:
                self.entries[key] = _Entry(etag, modified, _header(response, b"Content-Type"),
                                           gzip.compress(response.body))
                self.dirty.add(key)
        return response
