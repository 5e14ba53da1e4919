"""Statutory periods (期间) counted to the law (domain.md §4).

- The day of the triggering event is not counted (民事诉讼法 art. 85; 民法典 art. 201).
- A month period ends on the corresponding date, or the month's last day if there is none
  (民法典 art. 202).
- A period whose last day is a rest day ends on the next working day (民事诉讼法 art. 85;
  民法典 art. 203); rest days inside the period are not deducted.
- "N个工作日" counts working days only, with make-up working weekends (调休) counted.
"""

from __future__ import annotations

import calendar as _gregorian
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from mediation.domain.taxonomy import PERIOD_UNITS

if TYPE_CHECKING:
    from mediation.domain.calendar import WorkCalendar

Unit = Literal["days", "working_days", "months"]


@dataclass(frozen=True)
class Period:
    """A length of time as the law states it: ``Period(30, "days")``, ``Period(1, "months")``."""

    count: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in PERIOD_UNITS:
            raise ValueError(f"unknown period unit {self.unit!r}; use days, working_days or months")
        if self.count < 0:
            raise ValueError("a period cannot be negative")

    @property
    def label(self) -> str:
        return f"{self.count}{PERIOD_UNITS[self.unit]}"


@dataclass(frozen=True)
class Due:
    """The last day of a period, and whether it rests on a year without calendar data."""

    due: date
    provisional: bool


def add_months(start: date, months: int) -> date:
    """The corresponding date ``months`` later, clamped to the month's last day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last = _gregorian.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def nominal_end(start: date, period: Period, cal: WorkCalendar | None = None) -> date:
    """The period's own last day, before any roll-over off a rest day (domain.md §4: a
    pause counts the days left from it, and a statutory extension runs on from it).
    A working-day period always ends on a working day: its due date."""
    if period.unit == "working_days":
        return compute_due(start, period, cal).due
    if period.unit == "months":
        return add_months(start, period.count)
    return start + timedelta(days=period.count)


def compute_due(start: date, period: Period, cal: WorkCalendar | None = None) -> Due:
    """The due date of ``period`` started by an event on ``start``.

    :param start: the date of the triggering event (not itself counted).
    :param period: the statutory length.
    :param cal: the working-day calendar; the process default when omitted.
    """
    if cal is None:
        # here: every flow imports this module for Period; reading a case needs no calendar
        from mediation.domain.calendar import default_calendar

        cal = default_calendar()
    provisional = False
    if period.unit == "working_days":
        day, left = start, period.count
        while left > 0:
            day += timedelta(days=1)
            working, unsure = cal.is_working_day(day)
            provisional |= unsure
            left -= working
        return Due(day, provisional)
    if period.unit == "months":
        day = add_months(start, period.count)
    else:
        day = start + timedelta(days=period.count)
    while True:
        working, unsure = cal.is_working_day(day)
        provisional |= unsure
        if working:
            return Due(day, provisional)
        day += timedelta(days=1)
