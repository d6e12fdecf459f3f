"""The downloader middlewares, extensions and downloader tested in-process, as Scrapy's own
tests do: a crawler from `scrapy.utils.test.get_crawler`, components built with
`build_from_crawler`, hand-made requests and responses. No reactor and no network (the
end-to-end crawls run in child processes elsewhere: one reactor per process)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Response
from scrapy.http.headers import Headers
from scrapy.utils.misc import build_from_crawler

from shelfcheck.crawler.hostmap import META_REAL_URL, HostMapMiddleware
from shelfcheck.crawler.politeness import (
    BodyPrefix,
    CrawlDelay,
    HostSlotMiddleware,
    PoliteDownloader,
    WaitMiddleware,
    slot_key,
)
from tests.crawler.components import crawler, started

# --- politeness ------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "key"), [
    ("https://Example.ORG/a", "example.org"),
    ("https://example.org:443/a", "example.org"),
    ("http://example.org:8080/a", "example.org:8080"),
    ("http://[::1]:8000/", "[::1]:8000"),
    ("http://example.org:99999/", "example.org"),  # a bad port is not a new host
])
def test_slot_key(url: str, key: str) -> None:
    assert slot_key(url) == key


def test_host_slot_middleware_puts_each_request_in_its_hosts_slot() -> None:
    middleware = build_from_crawler(HostSlotMiddleware, crawler())
    for url, slot in (("http://127.0.0.1:8001/robots.txt", "127.0.0.1:8001"),
                      ("http://127.0.0.1:8002/a", "127.0.0.1:8002")):
        request = Request(url)
        assert middleware.process_request(request) is None
        assert request.meta["download_slot"] == slot


def test_crawl_delay_is_off_without_robots() -> None:
    with pytest.raises(NotConfigured):
        build_from_crawler(CrawlDelay, crawler(obey_robots=False))


class _Robots:
    """Scrapy's ProtegoRobotParser wraps the Protego parser as `.rp`."""

    def __init__(self, body: str) -> None:
        from protego import Protego

        self.rp = Protego.parse(body)


def test_crawl_delay_is_taken_from_robots_and_capped() -> None:
    running = started(crawler(scrapy={"SHELFCHECK_MAX_CRAWL_DELAY": 5}))
    extension = build_from_crawler(CrawlDelay, running)
    extension.robots_parsed(_Robots("User-agent: shelfcheck\nCrawl-delay: 3\n"),
                            Request("https://a.example/robots.txt"))
    extension.robots_parsed(_Robots("User-agent: *\nCrawl-delay: 600\n"),
                            Request("https://b.example:8443/robots.txt"))
    extension.robots_parsed(_Robots("User-agent: *\nDisallow: /x\n"),
                            Request("https://c.example/robots.txt"))
    assert extension.delays == {"a.example": 3.0, "b.example:8443": 5.0}
    settings = running.engine.downloader.per_slot_settings
    assert settings["a.example"] == {"delay": 3.0, "jitter": 0}
    assert "c.example" not in settings


def test_body_prefix_stops_at_the_headers_of_a_file_and_after_the_limit() -> None:
    prefix = {"SHELFCHECK_BODY_PREFIX_SIZE": 1000}
    extension = build_from_crawler(BodyPrefix, crawler(scrapy=prefix))
    page = Request("https://a.example/", meta={"shelfcheck_prefix": True})
    pdf = Request("https://a.example/f.pdf", meta={"shelfcheck_prefix": True})
    listing = Request("https://a.example/listing")  # no prefix: read in full
    extension.headers_received(Headers({"Content-Type": "text/html"}), 5000, page)
    with pytest.raises(StopDownload) as stopped:
        extension.headers_received(Headers({"Content-Type": "application/pdf"}), 5000, pdf)
    assert stopped.value.fail is False  # the response keeps what was read
    extension.headers_received(Headers({"Content-Type": "application/pdf"}), 5000, listing)
    extension.bytes_received(b"x" * 600, page)
    with pytest.raises(StopDownload):
        extension.bytes_received(b"x" * 600, page)
    for _ in range(5):
        extension.bytes_received(b"x" * 600, listing)
    assert page.meta["shelfcheck_bytes"] == 1200 and "shelfcheck_bytes" not in listing.meta


def test_wait_middleware_takes_the_wait_off_the_request() -> None:
    middleware = build_from_crawler(WaitMiddleware, crawler())
    request = Request("https://a.example/", meta={"shelfcheck_wait": 0})
    asyncio.run(middleware.process_request(request))
    assert "shelfcheck_wait" not in request.meta


def test_polite_downloader_counts_a_request_as_transferring_when_it_leaves_the_queue() -> None:
    """Five requests queued on a slot of concurrency 2: two start, three wait (no download)."""
    from scrapy.core.downloader import Slot
    from twisted.internet.defer import Deferred

    started_urls: list[str] = []

    async def never_finishes(slot: Slot, request: Request, queue_dfd: Deferred[Any]) -> None:
        started_urls.append(request.url)
        await asyncio.Event().wait()

    async def scenario() -> tuple[int, int, int]:
        downloader = PoliteDownloader(crawler())
        downloader._wait_for_download = never_finishes  # type: ignore[method-assign]
        slot = Slot(concurrency=2, delay=0, jitter=0)
        for number in range(5):
            slot.queue.append((Request(f"https://a.example/{number}"), Deferred()))
        downloader._process_queue(slot)
        await asyncio.sleep(0)
        first = (len(slot.transferring), len(slot.queue))
        downloader._process_queue(slot)  # nothing finished: nothing more starts
        await asyncio.sleep(0)
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()
        return (*first, len(slot.transferring))

    assert asyncio.run(scenario()) == (2, 3, 2)
    assert started_urls == ["https://a.example/0", "https://a.example/1"]


# --- host map --------------------------------------------------------------------------------


def test_host_map_is_off_without_entries() -> None:
    with pytest.raises(NotConfigured):
        build_from_crawler(HostMapMiddleware, crawler())


def test_host_map_sends_requests_to_the_local_copy_and_answers_with_the_real_url() -> None:
    middleware = build_from_crawler(HostMapMiddleware, crawler(
        host_map="https://infopeople.org=http://127.0.0.1:8765/A/infopeople"))
    real = Request("https://infopeople.org/training?page=2", meta={"fetch": 1})
    local = middleware.process_request(real)
    assert local is not None
    assert local.url == "http://127.0.0.1:8765/A/infopeople/training?page=2"
    assert local.meta[META_REAL_URL] == real.url and local.meta["fetch"] == 1
    assert middleware.process_request(Request("https://elsewhere.example/")) is None
    response = Response(local.url, status=301, request=local, headers={
        "Location": "http://127.0.0.1:8765/A/infopeople/training/all"})
    back = middleware.process_response(local, response)
    assert back.url == real.url
    assert back.headers[b"Location"] == b"https://infopeople.org/training/all"


