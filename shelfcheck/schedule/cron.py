"""The configured jobs: which refresh steps each runs, and its crontab expression as a trigger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from shelfcheck.catalog.states import Step
from shelfcheck.config import Settings
from shelfcheck.errors import ConfigError

# job -> (its cron key, the refresh steps it runs)
JOBS: Mapping[str, tuple[str, tuple[Step, ...]]] = {
    "links": ("schedule_links", (Step.SYNC, Step.LINKS, Step.EXPORTS)),
    "listings": ("schedule_listings", (Step.SYNC, Step.LISTINGS, Step.EXPORTS)),
    "report": ("schedule_report", (Step.REPORT,)),
}
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class JobSpec:
    """A configured job: its name, cron key and expression, and trigger."""

    kind: str
    key: str
    expression: str
    trigger: CronTrigger


def scheduler_timezone(settings: Settings) -> ZoneInfo:
    """The `timezone` key as a ZoneInfo, or ConfigError naming the key."""
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{settings.sources.get('timezone', 'configuration')}: key 'timezone': "
            f"unknown time zone {settings.timezone!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday) as APScheduler weekday names (0 = Monday)."""
    if not any(c.isdigit() for c in field):
        return field

    def day(token: str) -> int:
        if token.isdigit() and int(token) <= 7:
            return int(token)
        if token.lower() in _CRON_DAYS:
            return _CRON_DAYS.index(token.lower())
        raise ValueError(f"bad weekday {token!r}")

    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = day(first), day(last)
        else:
            low = day(span)
            high = 6 if step_text else low
        if low > high or step < 1:
            raise ValueError(f"bad weekday range {part!r}")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def parse_cron(expression: str, timezone: ZoneInfo, jitter: int | None = None) -> CronTrigger:
    """A crontab expression ("minute hour day month weekday", weekday 0/7 = Sunday) as a trigger.

    Six fields put seconds first ("second minute hour day month weekday").
    """
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        second=second, minute=minute, hour=hour, day=day, month=month,
        day_of_week=_crontab_weekdays(weekday), timezone=timezone, jitter=jitter or None,
    )


def job_specs(settings: Settings) -> list[JobSpec]:
    """The configured jobs; a cron expression that does not parse is a ConfigError naming it."""
    timezone = scheduler_timezone(settings)
    specs = []
    for kind, (key, _steps) in JOBS.items():
        expression = getattr(settings, key)
        try:
            trigger = parse_cron(expression, timezone, settings.schedule_jitter)
        except ValueError as exc:
            raise ConfigError(
                f"{settings.sources.get(key, 'configuration')}: key '{key}': "
                f"{expression!r} is not a valid cron expression: {exc}"
            ) from None
        specs.append(JobSpec(kind, key, expression, trigger))
    return specs
