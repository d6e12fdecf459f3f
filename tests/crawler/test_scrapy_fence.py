"""The fence around the Scrapy and Twisted internals shelfcheck overrides (#16).

shelfcheck subclasses or wraps private parts of Scrapy 2.19 and Twisted: the downloader's queue
pass (`PoliteDownloader`), the HTTP/1.1 handler's connection pool and TLS policy (the address
guard, `tlsdiag`), the lenient client protocol (the header bounds), the robots.txt middleware
(RFC 9309) and OpenSSL's verify result. Each test below fails when one of them changes: a source
fingerprint of every overridden or copied method, and the attributes the overrides touch. When
one fails after an upgrade, read the new source, adapt the override, then update the pin in
setup.cfg and the fingerprint here.
"""

from __future__ import annotations

import hashlib
import inspect
from configparser import ConfigParser
from typing import Any

import pytest
import scrapy
from scrapy.core.downloader import Downloader, Slot
from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
)
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from twisted.web._newclient import HTTP11ClientProtocol, HTTPClientParser
from twisted.web.client import HTTPConnectionPool

from tests.conftest import ROOT

# sha256 (first 16 hex digits) of the source of each internal an override relies on.
FINGERPRINTS: dict[str, tuple[Any, str]] = {
    "PoliteDownloader: Downloader._process_queue": (Downloader._process_queue,
                                                    "872b81a4bbb4cb1a"),
    "PoliteDownloader: Downloader._wait_for_download": (Downloader._wait_for_download,
                                                        "35ca6793c8795004"),
    "PoliteDownloader: Downloader._latercall": (Downloader._latercall, "a63f8c948b8cc3b8"),
    "guarded handler: HTTP11DownloadHandler.__init__": (HTTP11DownloadHandler.__init__,
                                                        "af05135e191ebd55"),
    "address guard: HTTPConnectionPool._newConnection": (HTTPConnectionPool._newConnection,
                                                         "33050f908ba91709"),
    "header bounds: _LenientHTTP11ClientProtocol.request": (
        _LenientHTTP11ClientProtocol.request, "2d630892ec993fec"),
    "header bounds: _LenientHTTP11ClientFactory.buildProtocol": (
        _LenientHTTP11ClientFactory.buildProtocol, "a3571f01c579aa19"),
    "header bounds: HTTP11ClientProtocol.dataReceived": (HTTP11ClientProtocol.dataReceived,
                                                         "db1d1880b97c34b4"),
    "header bounds: HTTP11ClientProtocol._giveUp": (HTTP11ClientProtocol._giveUp,
                                                    "1db719a9e82146e9"),
    "RFC 9309: RobotsTxtMiddleware.__init__": (RobotsTxtMiddleware.__init__,
                                               "afc160455d273f0c"),
    "RFC 9309: RobotsTxtMiddleware.robot_parser": (RobotsTxtMiddleware.robot_parser,
                                                   "4e961c394befa0fc"),
    "RFC 9309: RobotsTxtMiddleware.process_request": (RobotsTxtMiddleware.process_request,
                                                      "1328c843b0cbc888"),
    "RFC 9309: RobotsTxtMiddleware.process_request_2": (RobotsTxtMiddleware.process_request_2,
                                                        "b8ad49ccc0aeefc0"),
}


def fingerprint(obj: Any) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_overridden_internals_are_unchanged(name: str) -> None:
    obj, expected = FINGERPRINTS[name]
    assert fingerprint(obj) == expected, (
        f"{name} changed in Scrapy {scrapy.__version__}: review the override before "
        "updating the fingerprint and the pin in setup.cfg")


def test_the_pin_matches_the_installed_scrapy() -> None:
    config = ConfigParser()
    config.read(ROOT / "setup.cfg")
    pin = next(line.strip() for line in config["options"]["install_requires"].splitlines()
               if line.strip().lower().startswith("scrapy"))
    assert pin == "scrapy>=2.19,<2.20"
    assert scrapy.__version__.startswith("2.19."), scrapy.__version__


def test_the_attributes_the_overrides_touch_exist() -> None:
    # A memory reactor: importing twisted.internet.reactor would install the default one in this
    # worker, and the in-process crawler tests after it need the asyncio reactor.
    from twisted.internet.testing import MemoryReactorClock

    slot = Slot(concurrency=2, delay=0, jitter=0)
    for attr in ("queue", "transferring", "latercall", "lastseen", "download_delay",
                 "free_transfer_slots"):
        assert hasattr(slot, attr), f"Slot.{attr}"
    assert list(inspect.signature(Downloader._wait_for_download).parameters) == [
        "self", "slot", "request", "queue_dfd"]
    pool = HTTPConnectionPool(MemoryReactorClock(), persistent=True)
    assert hasattr(pool, "_factory") and hasattr(pool, "maxPersistentPerHost")
    for attr in ("_pool", "_contextFactory"):
        assert attr in inspect.getsource(HTTP11DownloadHandler.__init__), attr
    assert HTTPClientParser.MAX_LENGTH == 16384
    assert {"_parser", "_giveUp", "dataReceived"} <= set(dir(HTTP11ClientProtocol))
    assert "_parsers" in inspect.getsource(RobotsTxtMiddleware.__init__)
    assert "_parserimpl" in inspect.getsource(RobotsTxtMiddleware.__init__)


def test_tls_diagnosis_can_read_the_verify_result() -> None:
    from OpenSSL._util import lib

    assert hasattr(lib, "SSL_get_verify_result")
    from twisted.web.iweb import IPolicyForHTTPS

    assert "creatorForNetloc" in IPolicyForHTTPS.names()
