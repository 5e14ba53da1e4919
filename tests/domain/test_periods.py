"""Period computation (domain.md §4), table-driven across the 2026 holidays, 调休 weekends,
month ends and a year without calendar data. Expected dates were worked out by hand from
the State Council's 2026 notice, not produced by the code under test."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediation.domain.calendar import WorkCalendar, YearCalendar, parse_year
from mediation.domain.periods import Period, add_months, compute_due
from mediation.errors import ValidationError

D = date.fromisoformat

# (start, count, unit, expected due, provisional)
CASES = [
    # natural days: start day not counted; a last rest day rolls to the next working day
    ("2026-03-02", 30, "days", "2026-04-01", False),
    ("2026-03-06", 30, "days", "2026-04-07", False),  # 4/5 Sun and 4/6 清明 roll on
    ("2026-01-31", 1, "days", "2026-02-02", False),  # Sunday rolls to Monday
    ("2026-02-13", 1, "days", "2026-02-14", False),  # Saturday 2/14 is a 调休 working day
    ("2026-02-13", 2, "days", "2026-02-24", False),  # lands in 春节 2/15-2/23
    ("2026-09-30", 1, "days", "2026-10-08", False),  # 国庆 10/1-10/7
    ("2026-09-19", 1, "days", "2026-09-20", False),  # Sunday 9/20 is a working day
    ("2026-12-31", 1, "days", "2027-01-04", True),  # 2027 unknown: 1/1 fixed holiday, weekend
    ("2026-12-01", 15, "days", "2026-12-16", False),
    ("2026-04-30", 1, "days", "2026-05-06", False),  # 劳动节 5/1-5/5
    ("2026-06-18", 3, "days", "2026-06-22", False),  # 端午 6/19-6/21
    ("2026-05-08", 1, "days", "2026-05-09", False),  # Saturday 5/9 is a working day
    ("2026-10-09", 1, "days", "2026-10-10", False),  # Saturday 10/10 is a working day
    ("2026-01-03", 1, "days", "2026-01-04", False),  # Sunday 1/4 is a working day
    ("2026-07-01", 15, "days", "2026-07-16", False),
    ("2026-08-01", 7, "days", "2026-08-10", False),  # Saturday rolls over the weekend
    ("2026-11-20", 30, "days", "2026-12-21", False),  # Sunday 12/20 rolls to Monday
    ("2026-12-20", 15, "days", "2027-01-04", True),  # a Monday in an unannounced year
    # months: the corresponding date, or the month's last day (民法典 art. 202)
    ("2026-01-31", 1, "months", "2026-02-28", False),  # clamped; 2/28 is a 调休 Saturday
    ("2026-01-30", 1, "months", "2026-02-28", False),
    ("2026-03-31", 1, "months", "2026-04-30", False),
    ("2026-01-15", 1, "months", "2026-02-24", False),  # 2/15 falls in 春节
    ("2026-03-02", 1, "months", "2026-04-02", False),
    ("2026-03-05", 1, "months", "2026-04-07", False),  # 4/5-4/6 清明
    ("2026-08-31", 1, "months", "2026-09-30", False),
    ("2026-09-01", 1, "months", "2026-10-08", False),  # 国庆
    ("2026-12-31", 1, "months", "2027-02-01", True),  # 1/31/2027 is a Sunday, provisional
    ("2026-11-30", 1, "months", "2026-12-30", False),
    ("2026-05-31", 1, "months", "2026-06-30", False),
    ("2026-03-31", 6, "months", "2026-09-30", False),
    ("2026-02-28", 1, "months", "2026-03-30", False),  # 3/28 Sat, 3/29 Sun
    ("2026-10-31", 1, "months", "2026-11-30", False),
    ("2025-12-31", 2, "months", "2026-02-28", False),  # across a year end, clamped
    ("2026-12-01", 1, "months", "2027-01-04", True),  # 1/1/2027 fixed holiday, weekend
    # working days (个工作日): only working days count, 调休 days included
    ("2026-02-13", 1, "working_days", "2026-02-14", False),
    ("2026-02-13", 2, "working_days", "2026-02-24", False),
    ("2026-09-30", 5, "working_days", "2026-10-13", False),  # 10/8, 10/9, 10/10, 10/12, 10/13
    ("2026-03-02", 5, "working_days", "2026-03-09", False),
    ("2026-03-02", 30, "working_days", "2026-04-14", False),  # 医调委 30 working days
    ("2026-12-24", 5, "working_days", "2026-12-31", False),
    ("2026-12-30", 5, "working_days", "2027-01-07", True),
    ("2026-01-01", 1, "working_days", "2026-01-04", False),
    ("2026-04-30", 3, "working_days", "2026-05-08", False),
    ("2026-05-06", 3, "working_days", "2026-05-09", False),
    ("2026-06-18", 2, "working_days", "2026-06-23", False),
    ("2026-09-18", 1, "working_days", "2026-09-20", False),
    ("2026-03-02", 10, "working_days", "2026-03-16", False),  # 交警 10 working days
    ("2026-11-24", 30, "working_days", "2027-01-06", True),
]


@pytest.mark.parametrize(("start", "count", "unit", "due", "provisional"), CASES)
def test_period(start: str, count: int, unit: str, due: str, provisional: bool) -> None:
    result = compute_due(D(start), Period(count, unit), WorkCalendar())  # type: ignore[arg-type]
    assert (result.due.isoformat(), result.provisional) == (due, provisional)


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


def _year_2027() -> YearCalendar:
    # Test data only (the real 2027 notice is not assumed): 1/1-1/3 off, 1/20 off,
    # Sunday 1/24 a working day.
    return parse_year(
        {
            "year": 2027,
            "holidays": ["2027-01-01..2027-01-03", "2027-01-20"],
            "workdays": ["2027-01-24"],
        }
    )


def test_a_loaded_year_is_used_and_not_provisional() -> None:
    cal = WorkCalendar()
    cal.add_year(_year_2027())
    assert compute_due(D("2026-12-20"), Period(1, "months"), cal).due == D("2027-01-21")
    assert compute_due(D("2027-01-23"), Period(1, "days"), cal).due == D("2027-01-24")
    result = compute_due(D("2026-12-30"), Period(5, "working_days"), cal)
    assert (result.due, result.provisional) == (D("2027-01-07"), False)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2026-12-31"), 2) == D("2027-02-28")
    assert add_months(D("2026-05-15"), 12) == D("2027-05-15")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"year": 2027, "holidays": ["2027-02-30"]}, "holidays[0]"),
        ({"year": 2027, "holidays": ["2028-01-01"]}, "holidays[0]"),
        ({"year": 2027, "holidays": ["2027-01-05..2027-01-01"]}, "holidays[0]"),
        ({"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-05"]}, "workdays"),
        ({"year": "2027", "holidays": ["2027-01-01"]}, "year"),
        ({"year": 2027}, "holidays"),
        ({"year": 2027, "holidays": ["2027-01-01"], "extra": 1}, "extra"),
    ],
)
def test_bad_calendar_files_are_refused_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_year(data)
    assert field in [p.field for p in err.value.problems]


def test_shipped_2026_file_agrees_with_the_package() -> None:
    from pathlib import Path

    import chinese_calendar

    from mediation.domain.calendar import read_year_file

    year = read_year_file(Path(__file__).parents[2] / "data" / "holidays" / "2026.toml")
    loaded = WorkCalendar()
    loaded.add_year(year)
    day = D("2026-01-01")
    while day.year == 2026:
        assert loaded.is_working_day(day)[0] == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


dates = st.dates(min_value=D("2024-01-01"), max_value=D("2026-10-31"))


@settings(max_examples=300, deadline=None)
@given(start=dates, count=st.integers(min_value=1, max_value=60))
def test_days_end_on_the_first_working_day_on_or_after_the_nominal_end(start, count) -> None:
    cal = WorkCalendar()
    due = compute_due(start, Period(count, "days"), cal).due
    nominal = start + timedelta(days=count)
    assert due >= nominal and cal.is_working_day(due)[0]
    day = nominal
    while day < due:
        assert not cal.is_working_day(day)[0]
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(start=dates, count=st.integers(min_value=1, max_value=40))
def test_working_days_count_exactly_n_working_days(start, count) -> None:
    cal = WorkCalendar()
    due = compute_due(start, Period(count, "working_days"), cal).due
    counted = sum(
        cal.is_working_day(start + timedelta(days=i))[0] for i in range(1, (due - start).days + 1)
    )
    assert counted == count and cal.is_working_day(due)[0]


def test_a_year_loaded_later_changes_the_answers_already_given() -> None:
    """The calendar remembers its answers (a period counts day by day); loading a year's
    announced calendar forgets them, so a provisional answer gives way to the law's."""
    cal = WorkCalendar()
    national_day = date(2031, 10, 8)  # a Wednesday, in a year no package knows
    assert cal.is_working_day(national_day) == (True, True)  # provisional: a weekday
    cal.add_year(YearCalendar(2031, holidays=frozenset({national_day}), workdays=frozenset()))
    assert cal.is_working_day(national_day) == (False, False)
