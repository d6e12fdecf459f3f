"""Scrapy components tested in-process, as Scrapy's own tests do: a crawler from
`scrapy.utils.test.get_crawler`, components built with `build_from_crawler`, hand-made requests
and responses. No reactor and no network (the end-to-end crawls run in child processes
elsewhere: one reactor per process)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import HtmlResponse, Response
from scrapy.http.headers import Headers
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import Link, LinkCheck, PageCache, utcnow
from shelfcheck.catalog.runs import start_run
from shelfcheck.config import load_settings
from shelfcheck.crawler.hostmap import META_REAL_URL, HostMapMiddleware
from shelfcheck.crawler.linkpipeline import LinkCheckPipeline
from shelfcheck.crawler.pagecache import META_PROVIDER, NOT_MODIFIED, ConditionalRequestMiddleware
from shelfcheck.crawler.politeness import (
    BodyPrefix,
    CrawlDelay,
    HostSlotMiddleware,
    PoliteDownloader,
    WaitMiddleware,
    slot_key,
)
from shelfcheck.crawler.recipe import parse_recipe
from shelfcheck.crawler.settings import scrapy_settings
from shelfcheck.crawler.spiders.listings import ListingJobs, ListingSpider, ProviderRun
from shelfcheck.crawler.walk import ProviderWalk

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


# --- the page cache (conditional requests) ---------------------------------------------------


@pytest.fixture
def page_cache(db_url: str) -> Iterator[ConditionalRequestMiddleware]:
    middleware = build_from_crawler(ConditionalRequestMiddleware, crawler(database_url=db_url))
    yield middleware
    middleware.engine.dispose()


def test_page_cache_is_off_without_a_database() -> None:
    with pytest.raises(NotConfigured):
        build_from_crawler(ConditionalRequestMiddleware, get_crawler(Spider))


def test_page_cache_round_trip(page_cache: ConditionalRequestMiddleware, engine: Engine) -> None:
    """200 with validators is stored; the next crawl asks conditionally; 304 is the old page."""
    url = "https://a.example/listing"
    page_cache.spider_opened()
    first = Request(url, meta={META_PROVIDER: "acme"})
    page_cache.process_request(first)
    assert b"If-None-Match" not in first.headers
    answer = html(url, "<li>Course 1</li>", request=first, ETag='"v1"',
                  **{"Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"})
    assert page_cache.process_response(first, answer) is answer
    unrelated = Request("https://a.example/robots.txt")  # not a listing page: not cached
    page_cache.process_response(unrelated, html(unrelated.url, "x", ETag='"r"'))
    page_cache.spider_closed()
    with transaction(engine) as session:
        rows = session.scalars(select(PageCache)).all()
        assert [(r.url, r.etag) for r in rows] == [(url, '"v1"')]
        assert gzip.decompress(rows[0].body or b"") == b"<li>Course 1</li>"

    again = build_from_crawler(ConditionalRequestMiddleware, crawler(
        database_url=str(engine.url.render_as_string(hide_password=False))))
    try:
        again.spider_opened()
        second = Request(url, meta={META_PROVIDER: "acme"})
        again.process_request(second)
        assert second.headers[b"If-None-Match"] == b'"v1"'
        assert second.headers[b"If-Modified-Since"] == b"Tue, 01 Dec 2026 10:00:00 GMT"
        cached = again.process_response(second, Response(url, status=304, request=second))
        assert cached.status == 200 and NOT_MODIFIED in cached.flags
        assert isinstance(cached, HtmlResponse) and cached.text == "<li>Course 1</li>"
    finally:
        again.engine.dispose()


# --- the link check pipeline -----------------------------------------------------------------


def test_link_pipeline_stores_checks_in_batches(engine: Engine) -> None:
    run_id = start_run(engine, "links")
    with transaction(engine) as session:
        links = [Link(url=f"https://a.example/{n}", host="a.example") for n in range(5)]
        session.add_all(links)
        session.flush()
        ids = [link.id for link in links]
    url = engine.url.render_as_string(hide_password=False)
    pipeline = build_from_crawler(LinkCheckPipeline, get_crawler(Spider, settings_dict={
        "SHELFCHECK_SETTINGS": {"database_url": url}, "SHELFCHECK_RUN_ID": run_id,
        "SHELFCHECK_BATCH_SIZE": 2}))
    pipeline.open_spider()
    now = utcnow()
    for link_id in ids:
        pipeline.process_item({"link_id": link_id, "verdict": "ok", "http_status": 200,
                               "checked_at": now, "validators": ('"e"', None)})
    assert pipeline.stored == 4 and len(pipeline.checks) == 1  # two batches written, one held
    pipeline.close_spider()
    assert pipeline.stored == 5 and pipeline.engine is None
    with transaction(engine) as session:
        checks = session.scalars(select(LinkCheck)).all()
        assert sorted(c.link_id for c in checks) == ids and {c.run_id for c in checks} == {run_id}
        assert {link.etag for link in session.scalars(select(Link))} == {'"e"'}


def test_link_pipeline_stops_storing_when_the_database_fails(tmp_path: Any) -> None:
    pipeline = build_from_crawler(LinkCheckPipeline, started(get_crawler(Spider, settings_dict={
        "SHELFCHECK_SETTINGS": {"database_url": f"sqlite:///{tmp_path}/no-schema.db"},
        "SHELFCHECK_RUN_ID": 0, "SHELFCHECK_BATCH_SIZE": 1, **NO_DOWNLOADS})))
    pipeline.open_spider()
    pipeline.process_item({"link_id": 1, "verdict": "ok", "checked_at": utcnow()})
    assert pipeline.error is not None and pipeline.error.startswith("storing checks failed")
    assert pipeline.crawler is not None and pipeline.crawler.stats is not None
    assert pipeline.crawler.stats.get_value("shelfcheck/pipeline_error") == pipeline.error
    pipeline.process_item({"link_id": 2, "verdict": "ok", "checked_at": utcnow()})
    assert pipeline.checks == [] and pipeline.stored == 0
    pipeline.close_spider()


# --- the listings spider's parse methods -----------------------------------------------------

LISTING = "https://acme.example/courses"
RECIPE = {"listing": LISTING, "paginate": "a.next", "item": "li.course", "link": "a",
          "follow": False, "fields": {"title": "a", "fee": ".fee"}}


def listing_spider(done: list[str]) -> ListingSpider:
    walk = ProviderWalk("acme", parse_recipe("acme", RECIPE), tz="UTC",
                        now=datetime(2026, 12, 1, tzinfo=UTC))
    jobs = ListingJobs({"acme": ProviderRun(walk)}, on_done=lambda run: done.append(run.walk.slug))
    spider = ListingSpider.from_crawler(crawler(ListingSpider), jobs=jobs)
    assert isinstance(spider, ListingSpider)
    return spider


async def _collect(spider: ListingSpider) -> list[Request]:
    return [request async for request in spider.start()]


def page(number: int, courses: list[tuple[str, str]], last: bool) -> str:
    items = "".join(f'<li class="course"><a href="/c/{t}">{t}</a><span class="fee">Fee: {f}'
                    f"</span></li>" for t, f in courses)
    more = "" if last else f'<a class="next" href="/courses?page={number + 1}">Next</a>'
    return f"<html><body><ul>{items}</ul>{more}</body></html>"


def test_listing_spider_follows_pagination_and_finishes_the_provider() -> None:
    done: list[str] = []
    spider = listing_spider(done)
    try:
        [first] = asyncio.run(_collect(spider))
        assert first.url == LISTING and first.meta[META_PROVIDER] == "acme"
        follow = asyncio.run(spider.parse_page(html(LISTING, page(1, [("One", "$100")], False),
                                                    request=first)))
        assert [r.url for r in follow] == ["https://acme.example/courses?page=2"]
        assert done == []
        request = follow[0]
        rest = asyncio.run(spider.parse_page(html(request.url, page(2, [("Two", "$50")], True),
                                                  request=request)))
        assert rest == [] and done == ["acme"]
        result = spider.jobs.runs["acme"].walk.finish()
        assert [(r.title, [f"{f.amount:.2f}" for f in r.fees]) for r in result.records] == [
            ("One", ["100.00"]), ("Two", ["50.00"])]
        assert result.pages == 2 and not result.failures
    finally:
        spider.closed("finished")


def test_listing_spider_records_a_failed_page_and_a_non_text_answer() -> None:
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    done: list[str] = []
    spider = listing_spider(done)
    try:
        [first] = asyncio.run(_collect(spider))
        follow = asyncio.run(spider.parse_page(html(LISTING, page(1, [("One", "$1")], False),
                                                    request=first)))
        second = follow[0]
        error = HttpError(Response(second.url, status=503, request=second))
        failure = Failure(error)
        failure.request = second  # type: ignore[attr-defined]
        assert asyncio.run(spider.page_failed(failure)) == []
        assert done == ["acme"]
        result = spider.jobs.runs["acme"].walk.finish()
        assert [(f.url, f.reason) for f in result.failures] == [(second.url, "HTTP 503")]
    finally:
        spider.closed("finished")
    spider = listing_spider([])
    try:
        [first] = asyncio.run(_collect(spider))
        pdf = Response(LISTING, status=200, request=first,
                       headers={"Content-Type": "application/pdf"}, body=b"%PDF")
        asyncio.run(spider.parse_page(pdf))
        result = spider.jobs.runs["acme"].walk.finish()
        assert [f.reason for f in result.failures] == ["not a text page (application/pdf)"]
    finally:
        spider.closed("finished")
