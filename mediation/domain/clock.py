"""Time: one business zone, aware datetimes everywhere, and an injectable clock.

Nothing in the library reads the wall clock directly; it asks a :class:`Clock`. Tests and
the CLI's ``MEDIATION_NOW`` setting pin it, so no behaviour depends on today's date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: The business time zone: dates of events and deadlines are dates in this zone.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
UTC = UTC


class Clock:
    """The wall clock. Subclass or use :class:`FixedClock` to pin time."""

    def now(self) -> datetime:
        return datetime.now(BUSINESS_TZ)

    def today(self) -> date:
        return self.now().astimezone(BUSINESS_TZ).date()


@dataclass
class FixedClock(Clock):
    """A clock that always answers ``at`` (move it by assigning ``at``)."""

    at: datetime

    def __post_init__(self) -> None:
        self.at = as_aware(self.at)

    def now(self) -> datetime:
        return self.at


def as_aware(value: datetime) -> datetime:
    """Return ``value`` as an aware datetime; a naive one is taken to be business time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=BUSINESS_TZ)
    return value


def parse_datetime(text: str) -> datetime:
    """Parse an ISO 8601 date or datetime; a bare date means 09:00 business time.

    :raises ValueError: when ``text`` is not ISO 8601.
    """
    text = text.strip()
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, 9, 0, tzinfo=BUSINESS_TZ)
    return as_aware(datetime.fromisoformat(text))


def business_date(value: datetime) -> date:
    """The calendar date of ``value`` in the business zone."""
    return as_aware(value).astimezone(BUSINESS_TZ).date()


def clock_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> Clock:
    """The clock the CLI uses: ``MEDIATION_NOW`` (ISO 8601) pins it, else the wall clock."""
    env = os.environ if environ is None else environ
    pinned = env.get("MEDIATION_NOW")
    if pinned:
        try:
            return FixedClock(parse_datetime(pinned))
        except ValueError:
            from mediation.errors import UsageError

            raise UsageError(
                f"MEDIATION_NOW={pinned!r} is not an ISO 8601 date or time",
                hint="e.g. MEDIATION_NOW=2026-03-02T09:00:00+08:00, or unset it",
            ) from None
    return Clock()
