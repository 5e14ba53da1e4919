"""Adding up: the counts behind a row of the report (:class:`Tally`) and the figures derived
from them, the durations of the clocks in calendar and working days, the charts' data,
and the report itself (:class:`StatsReport`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mediation.domain.calendar import WorkCalendar
from mediation.reporting.stats.figures import (
    FIGURES,
    PREVENTION_FIGURES,
    SATISFACTION,
    classify,
    flows_with,
)
from mediation.reporting.stats.selection import Selection


@dataclass
class Tally:
    """The counts behind one row of the report; rates and durations are derived."""

    classes: Counter[str] = field(default_factory=Counter)
    disputes: int = 0
    settled_by_level: Counter[str] = field(default_factory=Counter)
    confirmable_written: int = 0
    follow_up_settled: int = 0
    durations: Counter[tuple[int, int | None]] = field(default_factory=Counter)
    clocks: int = 0
    overdue: int = 0
    confirmation: Counter[str] = field(default_factory=Counter)
    performance: Counter[str] = field(default_factory=Counter)
    satisfaction: Counter[str] = field(default_factory=Counter)
    followed_up: int = 0
    repeats: int = 0
    # The official categories (.official): counted by what happened in the period.
    official_mediated: int = 0
    official_settled: int = 0
    amount: Decimal = Decimal(0)
    amount_recorded: int = 0
    people_involved: int = 0
    sweeps_held: int = 0
    sweep_found: int = 0
    sweep_opened: int = 0
    prevented: Counter[str] = field(default_factory=Counter)
    prevented_people: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        for name in (
            "classes",
            "settled_by_level",
            "durations",
            "confirmation",
            "prevented",
            "prevented_people",
        ):
            getattr(self, name).update(getattr(other, name))
        self.performance.update(other.performance)
        self.satisfaction.update(other.satisfaction)
        for name in (
            "disputes",
            "confirmable_written",
            "follow_up_settled",
            "clocks",
            "overdue",
            "followed_up",
            "repeats",
            *_OFFICIAL_SUMS,
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, Any]:
        """Every figure of :data:`FIGURES`; a rate with nothing to divide by is ``None``."""
        c = self.classes
        settled = c["written"] + c["oral"]
        concluded = settled + c["failed"] + c["withdrawn"]
        rulings = self.confirmation["confirmed"] + self.confirmation["dismissed"]
        rulings += self.confirmation["not_accepted"]
        recorded = sum(self.satisfaction[k] for k in SATISFACTION)
        cal = _stats(self.durations, 0)
        work = _stats(self.durations, 1)
        out: dict[str, Any] = {
            "received": sum(c.values()),
            "disputes": self.disputes,
            **{k: c[k] for k in ("awaiting", "rejected", "refused")},
            "accepted": sum(c.values()) - c["awaiting"] - c["rejected"] - c["refused"],
            "settled": settled,
            **{k: c[k] for k in ("written", "oral", "failed", "withdrawn", "transferred")},
            "in_progress": c["in_progress"],
            "settlement_rate": _rate(settled, concluded),
            "at_village": _rate(self.settled_by_level["village"], settled),
            "at_township": _rate(self.settled_by_level["township"], settled),
            "above_township": _rate(
                self.settled_by_level["county"] + self.settled_by_level["city"], settled
            ),
            "duration_median": cal[0],
            "duration_mean": cal[1],
            "working_median": work[0],
            "working_mean": work[1],
            "overdue": self.overdue,
            "overdue_rate": _rate(self.overdue, self.clocks),
            "confirmation_applied": self.confirmation["applied"],
            "confirmation_rate": _rate(self.confirmation["applied"], self.confirmable_written),
            "confirmed": self.confirmation["confirmed"],
            "dismissed": self.confirmation["dismissed"],
            "confirmation_refused": self.confirmation["not_accepted"],
            "confirmation_pending": self.confirmation["pending"],
            "confirmed_rate": _rate(self.confirmation["confirmed"], rulings),
            "followed_up": self.followed_up,
            "follow_up_rate": _rate(self.followed_up, self.follow_up_settled),
            "performed": self.performance["performed"],
            "performance_rate": _rate(self.performance["performed"], self.followed_up),
            "satisfied": self.satisfaction["satisfied"] + self.satisfaction["basically_satisfied"],
            "satisfaction_rate": _rate(
                self.satisfaction["satisfied"] + self.satisfaction["basically_satisfied"], recorded
            ),
            "repeats": self.repeats,
            "repeat_rate": _rate(self.repeats, self.disputes),
            "official_mediated": self.official_mediated,
            "official_settled": self.official_settled,
            "official_rate": _rate(self.official_settled, self.official_mediated),
            "agreement_amount": float(self.amount),
            "amount_recorded": self.amount_recorded,
            "people_involved": self.people_involved,
            "sweeps_held": self.sweeps_held,
            "sweep_found": self.sweep_found,
            "sweep_opened": self.sweep_opened,
        }
        for code in PREVENTION_FIGURES:
            out[f"prevented_{code}"] = self.prevented[code]
            out[f"prevented_{code}_people"] = self.prevented_people[code]
        return out


#: The official counts :meth:`Tally.add` sums.
_OFFICIAL_SUMS = (
    "official_mediated",
    "official_settled",
    "amount",
    "amount_recorded",
    "people_involved",
    "sweeps_held",
    "sweep_found",
    "sweep_opened",
)


def _rate(part: int, whole: int) -> float | None:
    """A percentage to one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


def _stats(histogram: Counter[tuple[int, int | None]], index: int) -> tuple[Any, Any]:
    """(median, mean) of one coordinate of a (calendar days, working days) histogram.

    The median of an even count is the mean of the two middle values (statistics.median).
    """
    counts: Counter[int] = Counter()
    for key, n in histogram.items():
        value = key[index]
        if value is not None:
            counts[value] += n
    total = sum(counts.values())
    if not total:
        return None, None
    mean = round(sum(v * n for v, n in counts.items()) / total, 1)
    lo_rank, hi_rank = (total - 1) // 2, total // 2
    seen, lo, hi = 0, None, None
    for value in sorted(counts):
        if lo is None and seen + counts[value] > lo_rank:
            lo = value
        if seen + counts[value] > hi_rank:
            hi = value
            break
        seen += counts[value]
    assert lo is not None and hi is not None
    median = (lo + hi) / 2
    return (int(median) if median == int(median) else median), mean


class Durations:
    """(calendar days, working days) from a clock's start day to its stop day.

    The working days in (a, b] are counted against the project calendar, the start day
    not counted (domain.md §4): n(b) − n(a) from a running count n over the report's
    dates, one by one outside them. Each distinct pair is counted once.
    """

    def __init__(self, cal: WorkCalendar, sel: Selection) -> None:
        self.cal = cal
        self.first = sel.start - timedelta(days=1)
        last = max(sel.end, sel.as_of) + timedelta(days=400)
        self.upto: list[int] = []
        n, day = 0, self.first
        while day <= last:
            n += cal.is_working_day(day)[0]
            self.upto.append(n)
            day += timedelta(days=1)
        self.found: dict[tuple[Any, Any, Any], tuple[int, int]] = {}

    def of(self, row: Mapping[str, Any]) -> tuple[int, int]:
        """The durations of a stopped clock's row of :func:`.queries.clocks`."""
        span = row.get("span")
        if span is None:
            return self(row["start"], row["stop"], 0)
        return self(span[:10], span[10:20], 1 if span[20:] == "+" else 0)

    def __call__(self, start: Any, stop: Any, late: int) -> tuple[int, int]:
        found = self.found.get((start, stop, late))
        if found is None:
            a = _as_date(start)
            b = _as_date(stop) + timedelta(days=late)
            days = (b - a).days
            i, j = (a - self.first).days, (b - self.first).days
            if 0 <= i < len(self.upto) and 0 <= j < len(self.upto):
                work = self.upto[j] - self.upto[i]
            else:
                work = self.cal.working_days_between(a, b)
            found = self.found[(start, stop, late)] = (days, work)
        return found


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class Charts:
    """What the four charts show, for the whole selection."""

    volume: dict[str, Counter[str]] = field(default_factory=dict)  # month → type → cases
    by_level: dict[str, tuple[int, int]] = field(default_factory=dict)  # (settled, concluded)
    durations: Counter[int] = field(default_factory=Counter)  # calendar days → clocks
    overdue: dict[str, tuple[int, int]] = field(default_factory=dict)  # month → (overdue, clocks)


@dataclass
class StatsReport:
    """The figures of each group (``rows``: code, label, figures) and of all of them."""

    selection: Selection
    organisation: str | None
    rows: list[tuple[str, str, dict[str, Any]]]
    total: dict[str, Any]
    charts: Charts

    def as_dict(self) -> dict[str, Any]:
        sel = self.selection
        return {
            "from": sel.start,
            "to": sel.end,
            "as_of": sel.as_of,
            "organisation": sel.org,
            "organisation_name": self.organisation,
            "by": sel.by,
            "figures": [
                {
                    "key": f.key,
                    "label": f.label,
                    "unit": f.unit,
                    "definition": f.definition,
                    "basis": f.basis,
                }
                for f in FIGURES
            ],
            "rows": [{"key": k, "label": label, **figs} for k, label, figs in self.rows],
            "total": self.total,
        }


def fill(
    tallies: dict[str, Tally],
    cases: list[dict[str, Any]],
    clocks: list[dict[str, Any]],
    durations: Durations,
) -> None:
    """Add the case and clock rows to the tallies of their keys (all under "" if no key)."""
    follow_up = flows_with("follow_up")
    confirmable = flows_with("apply_confirmation")
    for r in cases:
        t = tallies[r.get("k", "")]
        klass = classify(r["flow"], r["state"], r["outcome"])
        n = r["n"]
        t.classes[klass] += n
        t.disputes += r["new"]
        if klass in ("written", "oral"):
            t.settled_by_level[r["level"]] += n
            if r["flow"] in follow_up:
                t.follow_up_settled += n
            if klass == "written" and r["flow"] in confirmable:
                t.confirmable_written += n
        if r["state"] == "confirmation_applied":
            t.confirmation["pending"] += n
    for r in clocks:
        t = tallies[r.get("k", "")]
        n, status = r["n"], r["status"]
        if status == "other":
            continue
        t.clocks += n
        if status in ("late", "overdue"):
            t.overdue += n
        if status in ("met", "late"):
            t.durations[durations.of(r)] += n


def chart_data(
    cases: list[dict[str, Any]],
    volume: list[dict[str, Any]],
    clocks: list[dict[str, Any]],
    durations: Durations,
) -> Charts:
    charts = Charts()
    for r in volume:
        charts.volume.setdefault(r["month"], Counter())[r["dispute_type"]] += r["n"]
    levels: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in cases:
        klass = classify(r["flow"], r["state"], r["outcome"])
        if klass in ("written", "oral", "failed", "withdrawn"):
            levels[r["level"]][1] += r["n"]
            if klass in ("written", "oral"):
                levels[r["level"]][0] += r["n"]
    charts.by_level = {k: (v[0], v[1]) for k, v in levels.items()}
    trend: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in clocks:
        if r["status"] == "other":
            continue
        trend[r["month"]][1] += r["n"]
        if r["status"] in ("late", "overdue"):
            trend[r["month"]][0] += r["n"]
        if r["status"] in ("met", "late"):
            charts.durations[durations.of(r)[0]] += r["n"]
    charts.overdue = {k: (v[0], v[1]) for k, v in sorted(trend.items())}
    return charts
