"""Time: one business zone, aware datetimes everywhere, and an injectable clock.

Nothing in the library reads the wall clock directly; it asks a :class:`Clock`. Tests and
the CLI's ``MEDIATION_NOW`` setting pin it, so no behaviour depends on today's date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from mediation.i18n import _

#: The business time zone: dates of events and deadlines are dates in this zone.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
UTC = UTC
#: The days the engine accepts as dates of events, report periods and the clock: from the
#: founding of the People's Republic to the end of 2199 (periods counted from them, reports
#: and the calendar stay far from the limits of Python's dates).
EARLIEST_DAY = date(1949, 10, 1)
LATEST_DAY = date(2199, 12, 31)


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


class PinnedClock(FixedClock):
    """A clock the user pinned (``MEDIATION_NOW``): honoured on training databases only
    (:mod:`mediation.storage.settings`); the library refuses it elsewhere."""


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


def day_problem(day: date) -> str | None:
    """Why ``day`` is out of the accepted range (:data:`EARLIEST_DAY` .. :data:`LATEST_DAY`)."""
    if EARLIEST_DAY <= day <= LATEST_DAY:
        return None
    return f"{day.isoformat()} 超出可接受的日期范围（{EARLIEST_DAY} 至 {LATEST_DAY}）"


def parse_day(text: str, field: str, *, source: str = "command line") -> date:
    """A ``YYYY-MM-DD`` date within the accepted range.

    :raises ValidationError: naming ``field`` when ``text`` is not a date or out of range.
    """
    from mediation.errors import FieldProblem, ValidationError

    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        problem = FieldProblem(field, f"{text!r} 不是日期", "请写成 YYYY-MM-DD，例如 2026-03-02")
        raise ValidationError([problem], source=source) from None
    problem_text = day_problem(day)
    if problem_text:
        fix = f"请给出 {EARLIEST_DAY} 至 {LATEST_DAY} 之间的日期"
        raise ValidationError([FieldProblem(field, problem_text, fix)], source=source)
    return day


def parse_moment(text: str, field: str, *, source: str = "command line") -> datetime:
    """A moment a user declares (``--at``): ``YYYY-MM-DD HH:MM``, ``YYYY-MM-DDTHH:MM`` or
    ``YYYY-MM-DD`` (09:00), Beijing time unless it names its offset; within the range
    dates are accepted in.

    :raises ValidationError: naming ``field`` when ``text`` is neither, or out of range.
    """
    from mediation.errors import FieldProblem, ValidationError

    fix = "请写成 YYYY-MM-DD HH:MM（北京时间），例如 2026-03-05 15:30，或只写日期 2026-03-05"
    try:
        moment = parse_datetime(text)
    except ValueError:
        raise ValidationError(
            [FieldProblem(field, f"{text!r} 不是日期或时间", fix)], source=source
        ) from None
    try:
        problem = day_problem(business_date(moment))
    except OverflowError:  # the first or last hours Python's dates can hold
        problem = day_problem(moment.date())
    if problem:
        fix = f"请给出 {EARLIEST_DAY} 至 {LATEST_DAY} 之间的时间"
        raise ValidationError([FieldProblem(field, problem, fix)], source=source)
    return moment


def business_date(value: datetime) -> date:
    """The calendar date of ``value`` in the business zone."""
    return as_aware(value).astimezone(BUSINESS_TZ).date()


def clock_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> Clock:
    """The clock the CLI uses: ``MEDIATION_NOW`` (ISO 8601) pins it (a :class:`PinnedClock`,
    honoured on training databases only), else the wall clock."""
    env = os.environ if environ is None else environ
    pinned = env.get("MEDIATION_NOW")
    if pinned:
        try:
            at = parse_datetime(pinned)
        except ValueError:
            from mediation.errors import UsageError

            raise UsageError(
                _("MEDIATION_NOW={value} 不是 ISO 8601 格式的日期或时间").format(
                    value=repr(pinned)
                ),
                hint=_("例如 MEDIATION_NOW=2026-03-02T09:00:00+08:00，或取消设置"),
            ) from None
        try:
            problem = day_problem(business_date(at))
        except OverflowError:  # the first or last hours Python's dates can hold
            problem = day_problem(at.date())
        if problem:
            from mediation.errors import FieldProblem, ValidationError

            fix = f"设为 {EARLIEST_DAY} 至 {LATEST_DAY} 之间的时间，或取消设置 MEDIATION_NOW"
            raise ValidationError([FieldProblem("MEDIATION_NOW", problem, fix)], source="环境变量")
        return PinnedClock(at)
    return Clock()
