"""Scrapy settings built from shelfcheck's settings: one place for politeness and bounds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shelfcheck.config import KEYS, Settings, user_agent

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

_DEFAULTS = {key.name: key.default for key in KEYS}
SCRAPY_ROBOTS = "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"
RFC9309_ROBOTS = "shelfcheck.crawler.robots.RFC9309RobotsMiddleware"


def scrapy_settings(settings: Settings, **extra: Any) -> dict[str, Any]:
    """The Scrapy settings shared by every shelfcheck spider; `extra` overrides."""
    values: dict[str, Any] = {
        "BOT_NAME": "shelfcheck",
        "USER_AGENT": user_agent(settings),
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser",
        "ROBOTSTXT_USER_AGENT": "shelfcheck",
        "CONCURRENT_REQUESTS": settings.max_in_flight,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.max_in_flight_per_host,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_MAXSIZE": settings.max_download_size,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": settings.max_redirects,
        "RETRY_TIMES": settings.retry_times,
        "CLOSESPIDER_TIMEOUT": settings.run_time_limit,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": settings.log_level,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "DNS_TIMEOUT": min(settings.download_timeout, 10),
        # Every address of a host (IPv4 and IPv6), tried in turn by Twisted's HostnameEndpoint;
        # Scrapy's default resolver returns only the first one.
        "TWISTED_DNS_RESOLVER": "scrapy.resolver.CachingHostnameResolver",
        "SHELFCHECK_SETTINGS": dict(settings.values),
    }
    values.update(extra)
    # robots.txt as RFC 9309 reads it, for every spider, whatever middlewares `extra` sets.
    middlewares = dict(values.get("DOWNLOADER_MIDDLEWARES") or {})
    middlewares.setdefault(SCRAPY_ROBOTS, None)
    middlewares.setdefault(RFC9309_ROBOTS, 100)
    values["DOWNLOADER_MIDDLEWARES"] = middlewares
    return values


def shelfcheck_setting(settings: BaseSettings, key: str) -> Any:
    """A shelfcheck setting from the crawler settings' SHELFCHECK_SETTINGS, else its default."""
    value = (settings.getdict("SHELFCHECK_SETTINGS") or {}).get(key)
    return _DEFAULTS[key] if value is None else value


def link_deadline(settings: BaseSettings) -> float:
    """Seconds one link (or one host's robots.txt) may take over all hops, retries and waits."""
    deadline = float(shelfcheck_setting(settings, "link_deadline") or 0.0)
    if deadline > 0:
        return deadline
    return 3 * settings.getfloat("DOWNLOAD_TIMEOUT") + float(
        shelfcheck_setting(settings, "retry_after_cap"))
