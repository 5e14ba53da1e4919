"""The working-day calendar: statutory holidays and make-up working days (调休).

Source of truth, in order: years loaded into the database from a data file
(``mediation calendar load FILE``, the file written like ``data/holidays/2026.toml``: a
centre adds the State Council's calendar for a year the installed package does not know
yet), then the ``chinesecalendar`` package. A year known to neither is answered by the provisional rule (weekends plus the
fixed-date statutory holidays), and every answer says whether it was provisional, so a
deadline computed from it is marked provisional and recomputed when the year is loaded
(domain.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from mediation.domain.files import read_file
from mediation.errors import FieldProblem, ValidationError
from mediation.i18n import _

#: Fixed-date statutory holidays (全国年节及纪念日放假办法, as revised in 2024 with effect
#: from 2025): New Year's Day, Labour Day (1-2 May) and National Day (1-3 October). The
#: lunar holidays cannot be placed without the year's calendar.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})

#: The years the installed ``chinesecalendar`` package knows, probed once.
_package_years: tuple[int, int] | None = None


@dataclass(frozen=True)
class YearCalendar:
    """One year's announced calendar: days off and weekend working days (调休)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


@dataclass
class WorkCalendar:
    """Answers "is this a working day?" and whether the answer is provisional."""

    years: dict[int, YearCalendar] = field(default_factory=dict)
    #: Answers given so far (a period counts day by day, a report over every clock).
    _answers: dict[date, tuple[bool, bool]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def add_year(self, year_calendar: YearCalendar) -> None:
        self.years[year_calendar.year] = year_calendar
        self._answers.clear()

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """Return ``(working, provisional)`` for ``day``."""
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._is_working_day(day)
        return answer

    def _is_working_day(self, day: date) -> tuple[bool, bool]:
        loaded = self.years.get(day.year)
        if loaded is not None:
            if day in loaded.holidays:
                return False, False
            if day in loaded.workdays:
                return True, False
            return day.weekday() < 5, False
        if package_covers(day.year):
            import chinese_calendar

            return bool(chinese_calendar.is_workday(day)), False
        working = day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
        return working, True

    def working_days_between(self, start: date, end: date) -> int:
        """The working days in (start, end]: the start day is not counted (domain.md §4)."""
        return sum(
            self.is_working_day(start + timedelta(days=i))[0]
            for i in range(1, (end - start).days + 1)
        )

    def source_of(self, year: int) -> str:
        """Where answers for ``year`` come from: ``loaded``, ``package`` or ``provisional``."""
        if year in self.years:
            return "loaded"
        return "package" if package_covers(year) else "provisional"

    def has_year(self, year: int) -> bool:
        """Whether ``year`` is known (loaded or shipped), so answers are not provisional."""
        return self.source_of(year) != "provisional"

    def year_view(self, year: int) -> dict[str, Any]:
        """Rest days on weekdays and working weekend days of ``year``, with their source."""
        day, end = date(year, 1, 1), date(year, 12, 31)
        off, on = [], []
        while day <= end:
            working, _ = self.is_working_day(day)
            if not working and day.weekday() < 5:
                off.append(day)
            elif working and day.weekday() >= 5:
                on.append(day)
            day += timedelta(days=1)
        loaded = self.years.get(year)
        return {
            "year": year,
            "source": self.source_of(year),
            "document": loaded.source if loaded else "",
            "provisional": not self.has_year(year),
            "weekday_holidays": off,
            "weekend_workdays": on,
        }


def package_covers(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has data for ``year``."""
    global _package_years
    if _package_years is None:
        import chinese_calendar

        known = [d.year for d in chinese_calendar.holidays]
        _package_years = (min(known), max(known))
    return _package_years[0] <= year <= _package_years[1]


#: The year file a centre copies to write a new year's calendar (shipped with the source,
#: described in docs/deadlines.md, "Adding next year's calendar").
MODEL_YEAR_FILE = "data/holidays/2026.toml"


def missing_next_year_warning(today: date, cal: WorkCalendar) -> str | None:
    """From 1 December, a warning when next year's calendar has not been loaded, saying how
    to write the year's file (from :data:`MODEL_YEAR_FILE`) and load it."""
    if today.month == 12 and not cal.has_year(today.year + 1):
        nxt = today.year + 1
        target = f"data/holidays/{nxt}.toml"
        return (
            f"警告：{nxt} 年节假日安排尚未载入，跨入 {nxt} 年的期限按周末及固定节日暂定计算。"
            f"国务院公布后，请将 {MODEL_YEAR_FILE} 复制为 {target}，按通知改写放假和调休日期，"
            f"再执行 `mediation calendar load {target}`（步骤见 docs/deadlines.md）"
        )
    return None


def _dates(value: Any, where: str, year: int | None, problems: list[FieldProblem]) -> set[date]:
    out: set[date] = set()
    if not isinstance(value, list):
        problems.append(FieldProblem(where, "应为日期列表", 'e.g. ["2027-01-01..2027-01-03"]'))
        return out
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        text = str(item).strip()
        first, _sep, last = text.partition("..")
        try:
            start = date.fromisoformat(first)
            end = date.fromisoformat(last) if last else start
        except ValueError:
            problems.append(
                FieldProblem(at, f"{text!r} 不是日期或日期范围", _("写成 YYYY-MM-DD 或 起..止"))
            )
            continue
        if end < start:
            problems.append(FieldProblem(at, f"范围 {text} 倒置", _("请先写较早的日期")))
            continue
        if year is not None and (start.year != year or end.year != year):
            problems.append(FieldProblem(at, f"{text} 不在 {year} 年内", _("每年一个文件")))
            continue
        while start <= end:
            out.add(start)
            start += timedelta(days=1)
    return out


def parse_year(data: dict[str, Any], *, source: str = "日历文件") -> YearCalendar:
    """Validate a year calendar given as parsed TOML/JSON.

    :raises ValidationError: naming each wrong field.
    """
    problems: list[FieldProblem] = []
    for key in data:
        if key not in ("year", "source", "holidays", "workdays"):
            problems.append(
                FieldProblem(key, "未知字段", _("可用字段：year、source、holidays、workdays"))
            )
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        problems.append(FieldProblem("year", f"年份 {year!r} 无效", _("例如 year = 2027")))
        year = None
    holidays = _dates(data.get("holidays"), "holidays", year, problems)
    workdays = _dates(data.get("workdays", []), "workdays", year, problems)
    for d in sorted(workdays):
        if d.weekday() < 5:
            problems.append(
                FieldProblem("workdays", f"{d} 是工作日而非周末", _("只列周末调休上班的日期"))
            )
    for d in sorted(holidays & workdays):
        problems.append(FieldProblem("holidays", f"{d} 同时列为放假和调休上班", _("删去其中一处")))
    if not holidays:
        problems.append(FieldProblem("holidays", "没有放假日期", _("请列出每个假期的放假日期")))
    if problems:
        raise ValidationError(problems, source=source)
    assert year is not None
    return YearCalendar(
        year=year,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        source=str(data.get("source", "")),
    )


def read_year_file(path: Path) -> YearCalendar:
    """Read and validate a year calendar file (TOML, or JSON by its suffix), saved as
    UTF-8 or GBK (:func:`mediation.domain.files.read_file`)."""
    return parse_year(read_file(path), source=str(path))


_DEFAULT: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """A process-wide calendar with no loaded years (the package and the provisional rule)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = WorkCalendar()
    return _DEFAULT
