"""Scrapy settings built from shelfcheck's settings: one place for politeness and bounds."""

from __future__ import annotations

from typing import Any

from shelfcheck.config import Settings, user_agent


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
        "SHELFCHECK_SETTINGS": dict(settings.values),
    }
    values.update(extra)
    return values
