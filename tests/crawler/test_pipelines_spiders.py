"""The page cache, the item pipeline and the listings spider tested in-process, as Scrapy's own
tests do: a crawler from `scrapy.utils.test.get_crawler`, components built with
`build_from_crawler`, hand-made requests and responses. No reactor and no network (the
end-to-end crawls run in child processes elsewhere: one reactor per process)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import Link, LinkCheck, PageCache, utcnow
from shelfcheck.catalog.runs import start_run
from shelfcheck.crawler.linkpipeline import LinkCheckPipeline
from shelfcheck.crawler.pagecache import META_PROVIDER, NOT_MODIFIED, ConditionalRequestMiddleware
from shelfcheck.crawler.recipe import parse_recipe
from shelfcheck.crawler.spiders.listings import ListingJobs, ListingSpider, ProviderRun
from shelfcheck.crawler.walk import ProviderWalk
from tests.crawler.components import NO_DOWNLOADS, crawler, html, started

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
