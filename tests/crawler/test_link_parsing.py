"""No input raises: the parsers of what servers send, the header bounds and the links spider,
in-process (Scrapy's `get_crawler`, hand-made responses, Twisted's StringTransport), with
Hypothesis throwing arbitrary header values, status lines and Locations at them (#17)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web._newclient import Request as TxRequest
from twisted.web._newclient import ResponseFailed
from twisted.web.http_headers import Headers as TxHeaders

from shelfcheck.catalog.verdicts import VERDICTS
from shelfcheck.config import load_settings
from shelfcheck.crawler.bounds import BoundedClientFactory
from shelfcheck.crawler.failures import (
    InvalidRedirect,
    classify_failure,
    header_text,
    redirect_target,
    retry_after_seconds,
    status_verdict,
)
from shelfcheck.crawler.linkcheck import link_scrapy_settings
from shelfcheck.crawler.linktask import Task
from shelfcheck.crawler.spiders.links import LinkSpider
from shelfcheck.crawler.textdecode import decoded_text, utf8_body
from shelfcheck.errors import short_error

header_bytes = st.binary(max_size=300) | st.text(max_size=100).map(
    lambda t: t.encode("utf-8"))
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(header_bytes)
def test_retry_after_never_raises(value: bytes) -> None:
    wait = retry_after_seconds(value)
    assert wait is None or wait >= 0
    assert retry_after_seconds(value.decode("latin-1")) == wait or wait is not None


def test_retry_after_reads_what_browsers_read() -> None:
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("١٢") is None  # Arabic-Indic digits are not delta-seconds
    assert retry_after_seconds("²") is None
    assert retry_after_seconds("Fri, 31 Dec 99999 23:59:59 GMT") is None
    assert retry_after_seconds("Mon, 01 Jan 0001 00:00:00 GMT") == 0.0


@FAST
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_redirect_target_is_http_or_refused(location: str | bytes) -> None:
    try:
        target = redirect_target("https://example.org/a/b?c=1", location)
    except InvalidRedirect as exc:
        assert str(exc)
        return
    assert target.startswith(("http://", "https://"))


@pytest.mark.parametrize("location", ["http://[::1/x", "http://[zz::1]/", "http://h:99999/",
                                      "javascript:alert(1)", "data:text/html,x", "  "])
def test_bad_locations_are_invalid_redirects(location: str) -> None:
    with pytest.raises(InvalidRedirect):
        redirect_target("http://example.org/", location)


@FAST
@given(header_bytes)
def test_header_text_is_bounded_text(value: bytes) -> None:
    text = header_text(value, 50)
    assert text is None or (isinstance(text, str) and len(text) <= 50)


@FAST
@given(st.integers(min_value=-10**9, max_value=10**9), st.booleans())
def test_every_status_has_a_registered_verdict(status: int, challenge: bool) -> None:
    result = status_verdict(status, challenge=challenge)
    if result is None:
        assert 200 <= status < 300 or status == 304
    else:
        assert result[0] in VERDICTS


@FAST
@given(st.text(max_size=100), st.sampled_from([ValueError, OSError, RuntimeError, KeyError,
                                              UnicodeError, OverflowError]))
def test_classify_failure_never_raises(message: str, kind: type[Exception]) -> None:
    verdict, detail = classify_failure(ResponseFailed([Failure(kind(message))]))
    assert verdict in VERDICTS and isinstance(detail, str)


@FAST
@given(st.binary(max_size=2000), st.one_of(st.none(), header_bytes))
def test_decoding_never_raises(body: bytes, ctype: bytes | None) -> None:
    headers = {b"Content-Type": ctype} if ctype else {}
    response = Response("http://example.org/", body=body, headers=headers)
    assert isinstance(decoded_text(response), str)
    assert isinstance(utf8_body(response), bytes)


def test_a_bug_on_the_way_is_not_a_network_failure() -> None:
    from twisted.internet.error import ConnectionLost

    assert classify_failure(ResponseFailed([Failure(ConnectionLost("gone"))]))[0] == \
        "connection_error"
    assert classify_failure(ConnectionResetError(104, "reset"))[0] == "connection_error"
    verdict, detail = classify_failure(KeyError("shelfcheck_wait"))
    assert verdict == "check_error" and "KeyError" in detail


def test_utf16_not_found_is_read_as_declared() -> None:
    page = "<html><title>Page not found</title><h1>Page not found</h1></html>".encode("utf-16")
    response = HtmlResponse("http://example.org/", body=page,
                            headers={b"Content-Type": b"text/html; charset=utf-16"})
    assert "Page not found" in decoded_text(response)
    assert b"Page not found" in utf8_body(response)


# --- the header bounds, on Twisted's protocol with a string transport ---------------------

def feed(data: bytes, chunk: int = 4096) -> tuple[list[Any], StringTransport]:
    factory = BoundedClientFactory.bounded(64 * 1024, 200)
    protocol = factory(lambda p: None, None).buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    results: list[Any] = []
    deferred = protocol.request(TxRequest(b"GET", b"/", TxHeaders({b"host": [b"x"]}), None))
    deferred.addBoth(results.append)
    for start in range(0, len(data), chunk):
        protocol.dataReceived(data[start:start + chunk])
        if results:
            break
    return results, transport


def outcome(results: list[Any]) -> tuple[str, str] | int | None:
    if not results:
        return None
    result = results[0]
    if isinstance(result, Failure):
        return classify_failure(result.value)
    return int(result.code)


@pytest.mark.parametrize(("head", "verdict", "words"), [
    (b"HTTP/1.1 200 OK\r\n" + b"X-F: " + b"f" * 4000 + b"\r\n" * 0 + b"".join(
        b"X-%d: %s\r\n" % (n, b"f" * 4000) for n in range(100)), "bad_response", "header"),
    (b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n" + b" more\r\n" * 500, "bad_response",
     "header lines"),
    (b"HTTP/1.1 200 OK\r\nX-Mega: " + b"m" * (1 << 20), "bad_response", "header line over"),
    (b"SPAM 200 whatever\r\n\r\n", "bad_response", "malformed"),
    (b"HTTP/1.1 abc OK\r\n\r\n", "bad_response", "malformed"),
])
def test_heads_that_break_a_bound_fail_with_a_reason(head: bytes, verdict: str,
                                                     words: str) -> None:
    results, transport = feed(head)
    got = outcome(results)
    assert isinstance(got, tuple), got
    assert got[0] == verdict and words in got[1], got
    assert transport.disconnecting


def test_a_normal_head_passes_the_bounds() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(150))
    results, _transport = feed(head + b"Content-Length: 2\r\n\r\nok")
    assert outcome(results) == 200


@FAST
@given(st.binary(max_size=300), st.lists(st.binary(max_size=120), max_size=30))
def test_any_status_line_and_headers_end_cleanly(status: bytes, lines: list[bytes]) -> None:
    data = status + b"\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n"
    results, _transport = feed(data, chunk=64)
    got = outcome(results)  # pending (None), a status, or a classified failure: never a raise
    assert got is None or isinstance(got, int) or got[0] in VERDICTS


# --- the spider, in-process -------------------------------------------------------------

@pytest.fixture
def spider() -> LinkSpider:
    values = link_scrapy_settings(load_settings(environ={}), run_id=1)
    crawler = get_crawler(LinkSpider, values)
    crawler.stats.open_spider()
    return LinkSpider.from_crawler(crawler)


def answer(spider: LinkSpider, task: Task, status: int, headers: dict[str, Any],
           body: bytes = b"") -> list[Any]:
    request = Request(task.url, meta={"task": task}, cb_kwargs={"task": task})
    response = HtmlResponse(task.url, status=status, headers=headers, body=body,
                            request=request)
    return spider.on_response(response, task)


def new_task(spider: LinkSpider, url: str = "http://example.org/page") -> Task:
    task = Task("link", url, "", link_id=1)
    spider.retries.start(task)
    return task


@FAST
@given(st.sampled_from([301, 302, 303, 307, 308, 429, 503]), header_bytes, header_bytes)
def test_the_spider_never_raises_on_odd_headers(spider: LinkSpider, status: int,
                                                location: bytes, retry_after: bytes) -> None:
    task = new_task(spider)
    out = answer(spider, task, status, {b"Location": location, b"Retry-After": retry_after})
    assert out, "the link neither finished nor asked for another request"
    for thing in out:
        assert isinstance(thing, (dict, Request))
        if isinstance(thing, dict):
            assert thing["verdict"] in VERDICTS


def test_a_bad_ipv6_location_is_invalid_url(spider: LinkSpider) -> None:
    (item,) = answer(spider, new_task(spider), 301, {b"Location": b"http://[::1/x"})
    assert item["verdict"] == "invalid_url" and "invalid" in item["detail"]


def test_an_exception_ends_the_link_with_a_verdict(spider: LinkSpider,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(spider.judge, "judge", broken)
    (item,) = answer(spider, new_task(spider), 200, {}, b"<html>fine</html>")
    assert item["verdict"] == "check_error" and "RuntimeError: a bug" in item["detail"]


def test_budgets_are_per_link_and_the_deadline_ends_a_tarpit(spider: LinkSpider) -> None:
    task = new_task(spider)
    first = answer(spider, task, 503, {b"Retry-After": b"1"})
    assert isinstance(first[0], Request) and task.rate_waits == 1
    hop = answer(spider, task, 302, {b"Location": b"/next"})
    assert isinstance(hop[0], Request)
    assert task.rate_waits == 1  # a new hop does not reset the link's budget
    task.deadline = task.started  # the deadline has passed
    (item,) = answer(spider, task, 302, {b"Location": b"/again"})
    assert item["verdict"] == "tarpit" and "deadline" in item["detail"]


def test_head_failure_falls_back_to_get(spider: LinkSpider) -> None:
    task = new_task(spider, "http://example.org/file.pdf")
    task.method = "HEAD"
    for status in (405, 500, 429, 404):
        task.fell_back = False
        task.method = "HEAD"
        (again,) = answer(spider, task, status, {})
        assert isinstance(again, Request) and again.method == "GET", status
    assert short_error(RuntimeError("x"))


def test_a_request_that_cannot_be_built_ends_its_link(spider: LinkSpider,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from shelfcheck.crawler.linksource import LinkRow
    from shelfcheck.crawler.spiders import links

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("odd URL")

    monkeypatch.setattr(links, "build_request", broken)
    item = spider._link_request(LinkRow(7, "http://example.org/x", "example.org", None, None))
    assert item["verdict"] == "check_error" and "TypeError: odd URL" in item["detail"]
    assert item["link_id"] == 7
