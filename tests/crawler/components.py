"""Helpers of the in-process Scrapy component tests: a crawler from `get_crawler` with
shelfcheck's Scrapy settings, an engine made as when a crawl starts, hand-made responses."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from shelfcheck.config import load_settings
from shelfcheck.crawler.settings import scrapy_settings

# These tests download nothing: no download handler (and no HTTP client session) is made.
NO_DOWNLOADS = {"DOWNLOAD_HANDLERS": {"http": None, "https": None}}


def crawler(spider: type[Spider] = Spider, scrapy: dict[str, Any] | None = None,
            **values: Any) -> Crawler:
    """A crawler with shelfcheck's Scrapy settings for the shelfcheck settings `values`
    (plus the Scrapy settings `scrapy`)."""
    settings = load_settings(None, {k: str(v) for k, v in values.items()} or None)
    return get_crawler(spider, settings_dict=scrapy_settings(settings, **{**NO_DOWNLOADS,
                                                                          **(scrapy or {})}))


def started(crawler: Crawler) -> Crawler:
    """The crawler with its execution engine made, as when a crawl starts (not run). Made in
    an asyncio loop, as the download handlers of Scrapy's asyncio reactor need one."""

    async def make() -> Crawler:
        crawler.engine = crawler._create_engine()
        return crawler

    return asyncio.run(make())


def html(url: str, body: str, status: int = 200, request: Request | None = None,
         **headers: str) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(), encoding="utf-8",
                        headers={"Content-Type": "text/html; charset=utf-8", **headers},
                        request=request or Request(url))


