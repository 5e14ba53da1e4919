"""The working-day calendar: statutory holidays and make-up working days (调休).

Source of truth, in order: data files loaded into ``data/holidays/`` (a centre adds the
State Council's calendar for a year the installed package does not know yet), then the
``chinesecalendar`` package. A year known to neither is answered by the provisional rule
(weekends plus the fixed-date statutory holidays), and every answer says whether it was
provisional so that a deadline computed from it can be marked so (domain.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

#: Fixed-date statutory holidays (全国年节及纪念日放假办法): New Year, Labour Day and the
#: first three days of National Day. Lunar holidays cannot be placed without the calendar.
_FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})


@dataclass(frozen=True)
class YearCalendar:
    """One year's announced calendar: rest days on weekdays and working weekend days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass
class WorkCalendar:
    """Answers "is this a working day?" and whether the answer is provisional."""

    years: dict[int, YearCalendar] = field(default_factory=dict)

    def add_year(self, year_calendar: YearCalendar) -> None:
        self.years[year_calendar.year] = year_calendar

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """Return ``(working, provisional)`` for ``day``."""
        loaded = self.years.get(day.year)
        if loaded is not None:
            if day in loaded.holidays:
                return False, False
            if day in loaded.workdays:
                return True, False
            return day.weekday() < 5, False
        try:
            import chinese_calendar

            return bool(chinese_calendar.is_workday(day)), False
        except NotImplementedError:
            working = day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS
            return working, True

    def has_year(self, year: int) -> bool:
        """Whether ``year`` is known (loaded or shipped), so answers are not provisional."""
        return not self.is_working_day(date(year, 7, 1))[1]


_DEFAULT: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """The process-wide calendar (the shipped package plus any loaded years)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = WorkCalendar()
    return _DEFAULT
