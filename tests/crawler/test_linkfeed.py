"""The link feed: per-host and total caps, every link sent once, hosts topped up as links end."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from shelfcheck.catalog.models import Link, LinkCheck, Resource, Section, utcnow
from shelfcheck.crawler.linkfeed import Feeder
from shelfcheck.crawler.linksource import LinkSource


def catalog(engine: Engine, per_host: dict[str, int]) -> None:
    now = utcnow()
    links, resources = [], []
    for host, count in per_host.items():
        for _ in range(count):
            n = len(links) + 1
            links.append({"id": n, "url": f"https://{host}/{n}", "host": host,
                          "state": "unknown", "consecutive_failures": 0})
            resources.append({"id": n, "title": f"R {n}", "section_id": 1, "url": links[-1]["url"],
                              "link_id": n, "description": "", "position": n, "state": "active",
                              "created_at": now, "updated_at": now})
    with engine.begin() as conn:
        conn.execute(insert(Section.__table__), [{"id": 1, "name": "S", "position": 0,
                                                  "active": True}])
        conn.execute(insert(Link.__table__), links)
        conn.execute(insert(Resource.__table__), resources)


def test_every_link_is_sent_once_within_the_caps(engine: Engine) -> None:
    per_host = {"big.example": 60, **{f"h{i}.example": 1 + i % 4 for i in range(30)}}
    catalog(engine, per_host)
    feeder = Feeder(LinkSource(engine, page=7), per_host=2, max_in_flight=8)
    feeder.load()
    host_cap, total_cap, _hosts = feeder.capacity()
    rng = random.Random(15)
    out: list[tuple[str, int]] = []  # (host, link id) in flight
    sent: list[int] = []
    probes: set[str] = set()
    steps = feeder.refill(True)
    while True:
        for kind, row, _priority in steps:
            if kind == "probe":
                assert row.host not in probes
                probes.add(row.host)
            else:
                out.append((row.host, row.id))
                sent.append(row.id)
        assert len(out) <= total_cap
        for host in {h for h, _ in out}:
            assert sum(1 for h, _ in out if h == host) <= host_cap
        if not out:
            break
        host, _id = out.pop(rng.randrange(len(out)))  # a link ends, in any order
        feeder.done(host)
        steps = feeder.refill(True, host)
    assert sorted(sent) == list(range(1, sum(per_host.values()) + 1))
    assert probes == set(per_host) and not feeder.feeds and feeder.outstanding == 0


def test_the_busiest_host_never_waits_for_room(engine: Engine) -> None:
    catalog(engine, {"big.example": 40, **{f"h{i}.example": 10 for i in range(12)}})
    feeder = Feeder(LinkSource(engine), per_host=2, max_in_flight=4)
    feeder.load()
    assert feeder.source.hosts()[0][0] == "big.example"
    steps = feeder.refill(False)
    out = [row.host for kind, row, _p in steps if kind == "link"]
    assert out.count("big.example") == 3  # its 2 in flight and one waiting, from the start
    for _ in range(30):  # each time one of its links ends, it gets the next one at once
        feeder.done("big.example")
        out.remove("big.example")
        steps = feeder.refill(False, "big.example")
        out += [row.host for kind, row, _p in steps if kind == "link"]
        assert out.count("big.example") == 3


def test_links_that_end_before_they_are_sent_make_room_at_once(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host whose every request fails to build still has all its links checked."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from shelfcheck.config import load_settings
    from shelfcheck.crawler.linkcheck import link_scrapy_settings
    from shelfcheck.crawler.spiders import links
    from shelfcheck.crawler.spiders.links import LinkSpider

    catalog(engine, {"bad.example": 30, "good.example": 2})
    build = links.build_request

    def picky(task: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        if "bad.example" in url:
            raise TypeError("no request for this one")
        return build(task, url, *args, **kwargs)

    monkeypatch.setattr(links, "build_request", picky)
    crawler = get_crawler(LinkSpider, link_scrapy_settings(load_settings(environ={}), 1))
    spider = LinkSpider.from_crawler(crawler)
    spider.soft404_probe = False
    spider.feeder = Feeder(LinkSource(engine), per_host=2, max_in_flight=4)
    spider.feeder.load()
    items: list[dict[str, Any]] = []
    pending = spider._refill()
    while pending:
        thing = pending.pop(0)
        if isinstance(thing, Request):  # answered: the good host's links end as they come
            pending += list(spider._done(thing.cb_kwargs["task"], "ok", status=200))
        else:
            items.append(thing)
    verdicts = sorted((item["host"], item["verdict"]) for item in items)
    assert verdicts == [("bad.example", "check_error")] * 30 + [("good.example", "ok")] * 2


def test_a_hosts_answer_time_is_the_median_of_its_latest_checks(engine: Engine) -> None:
    catalog(engine, {"slow.example": 3, "new.example": 1})
    with engine.begin() as conn:
        conn.execute(insert(LinkCheck.__table__), [
            {"link_id": 1, "verdict": "ok", "elapsed_ms": ms, "checked_at": utcnow()}
            for ms in (900, 200, 210, 190, None)])
    source = LinkSource(engine)
    assert source.answer_time("slow.example", sample=3) == 0.2  # the oldest (900) left out
    assert source.answer_time("new.example") is None
