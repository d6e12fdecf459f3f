"""Settings that steps read late, checked before a command does any work.

A bad value of one of these would otherwise surface in the middle of a run (a report step after
the crawls, a crawl's middleware), after other work was done. Checked first, it is bad input:
exit 2, naming where the key was set, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shelfcheck.config import Settings
from shelfcheck.errors import ConfigError, UsageError


def _check(settings: Settings, key: str, test: Callable[[], object]) -> None:
    try:
        test()
    except (UsageError, ValueError, ZoneInfoNotFoundError) as exc:
        origin = settings.sources.get(key, "settings")
        text = str(exc).removeprefix(f"key '{key}': ")
        raise ConfigError(f"{origin}: key '{key}': {text}") from None


def _zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as "
                         "Europe/Berlin)") from None


def check_settings(settings: Settings) -> None:
    """Raise ConfigError for a bad timezone, report_every, report_formats, exports or host_map."""
    from shelfcheck.crawler.hostmap import HostMap
    from shelfcheck.exports.base import get_exporter
    from shelfcheck.reports.reporters import get_reporter
    from shelfcheck.reports.write import report_interval_days

    _check(settings, "timezone", lambda: _zone(settings.timezone))
    _check(settings, "report_every", lambda: report_interval_days(settings.report_every))
    _check(settings, "report_formats",
           lambda: [get_reporter(kind) for kind in settings.report_formats])
    _check(settings, "exports", lambda: [get_exporter(kind) for kind in settings.exports])
    _check(settings, "host_map", lambda: HostMap.parse(settings.host_map))
