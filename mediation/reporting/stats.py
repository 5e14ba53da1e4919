"""Supervisors' statistics (统计报表): what was received, settled, at which level, how fast.

**What is counted.** A *case* (案件) is one mediation proceeding: every flow except 访调对接
(``petition``: the petition bureau's handling; a petition diverted to mediation is counted
as the people's-mediation case it becomes) and 司法确认 (``judicial_confirmation``: the
court's review of an agreement, counted under judicial confirmation below). The cases of a
report are those *opened* (收案: registered, or received by hand-off) between ``start``
and ``end``, business dates in Asia/Shanghai; their outcomes are counted as they stand
when the report runs. A dispute escalated or handed on is a new case where it arrives,
as in each committee's own register, and the case it left is counted as 移交, not as a
failure: each dispute is concluded once, in its last proceeding, so the settlement rate
is not diluted by hand-offs.

**Every figure** is declared in :data:`FIGURES` with its Chinese label and definition,
next to the code that computes it; the README's Statistics section says the same. Where
the official statistics have a category (domain.md §2: 调解成功/调解成功率, 书面/口头协议,
主动调解/依申请/接受委托移送), the figure uses it.

**How.** Everything is counted by group (flow, state, outcome, level, month, type, clock
status, ...): Python only classifies the groups (flow, state, outcome → 调解成功, 调解不成,
...) and adds them up. Durations are histograms over (start day, stop day) pairs, the
working days counted in Python against the project calendar, so medians are exact
without a row per case. On PostgreSQL the database counts (GROUP BY). On SQLite, whose
GROUP BY sorts every row it aggregates, each query is shaped so that no row is sorted:

- cases are counted by walking ``ix_proceeding_report`` in its own (flow, state,
  outcome, level) order, which makes GROUP BY a running count;
- repeats are found through ``dispute.party_key`` (:func:`mediation.domain.personal.party_key`, stored when a
  dispute is registered) and ``ix_dispute_party_key``: only keys seen twice are looked at;
- the rest (received cases by month and type, follow-ups and confirmations from the
  facts, the mediation clocks) reads the cases in table order, their disputes and clocks
  (``ix_deadline_clock``) being stored in nearly the same order, and the rows are counted
  in Python as they stream from the driver (:class:`_Count`), which costs less than the
  sort. Each case's facts are parsed once.

The work is split into parts (ranges of case ids) that run side by side, one read
transaction each, and add up (see ``bench/stats.py``).
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO

from sqlalchemy import (
    Connection,
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.expression import UnaryExpression

from mediation.domain import taxonomy
from mediation.domain.calendar import WorkCalendar
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine import guards
from mediation.errors import NotFoundError, UsageError
from mediation.storage._tables import (
    deadline_table,
    dispute_merge_table,
    dispute_table,
    organisation_table,
    proceeding_table,
)
from mediation.storage.store import Store

_P = proceeding_table
_D = dispute_table
_DL = deadline_table
_O = organisation_table

#: Flows whose proceedings are not mediation cases (see the module docstring).
NOT_CASES = ("petition", "judicial_confirmation")
#: ``--by`` dimensions.
DIMENSIONS = ("level", "type", "channel", "mediator", "month")
DIMENSION_LABELS = {
    "level": "层级",
    "type": "纠纷类型",
    "channel": "来源渠道",
    "mediator": "调解员",
    "month": "月份",
}
#: The statutory clock durations and overdue rates are measured on.
CLOCK = "mediation_period"
#: A dispute is a repeat when the same parties had one of the same type this long before.
REPEAT_WINDOW_MONTHS = 12

#: States in which a case waits for the decision to accept it (受理). Data, not derived:
#: which states come before acceptance is a fact of each flow's procedure.
AWAITING_ACCEPTANCE: Mapping[str, frozenset[str]] = {
    "peoples": frozenset({"applied"}),
    "medical_committee": frozenset({"applied"}),
    "labour": frozenset({"applied"}),
    "land_contract": frozenset({"applied"}),
    "traffic": frozenset({"applied"}),
    "administrative": frozenset({"applied", "approved", "consulting"}),
    "health_admin": frozenset({"applied"}),
    "traffic_police": frozenset({"applied"}),
    "online": frozenset({"applied"}),
}
#: States reached by handing an agreement on (the outcome then reads ``transferred``):
#: 委派调解's agreement goes to the court for confirmation (特邀调解规定 art. 19).
SETTLED_STATES: Mapping[tuple[str, str], str] = {
    ("court_referred", "confirmation_requested"): "written",
}

#: Outcome classes, in report order; a case is in exactly one.
CLASSES = (
    "awaiting",
    "rejected",
    "refused",
    "written",
    "oral",
    "failed",
    "withdrawn",
    "transferred",
    "in_progress",
)
_OUTCOME_CLASS = {
    "agreement_written": "written",
    "agreement_oral": "oral",
    "terminated": "failed",  # 终止调解, 视为调解不成, 逾期未达成, 转入判决, 治安处罚
    "returned": "failed",  # 委派/委托调解不成，退回法院
    "withdrawn": "withdrawn",
    "escalated": "transferred",
    "transferred": "transferred",
    "referred_police": "transferred",
    "rejected": "rejected",
    "not_accepted": "rejected",
    "refused": "refused",
}
#: 回访 performance and satisfaction codes (follow_up's ``performance`` is required;
#: ``satisfaction`` is optional: ``case advance N follow_up --set satisfaction=satisfied``;
#: the follow-up's guard accepts only these).
PERFORMANCE = tuple(guards.PERFORMANCE)
SATISFACTION = guards.SATISFACTION
SATISFACTION_CODE = {label: code for code, label in SATISFACTION.items()}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its key, Chinese label, unit and definition."""

    key: str
    label: str
    unit: str
    definition: str


#: Every figure, in report order. ``unit`` is 件 (a count), % (a share) or 日 (days).
FIGURES = (
    Figure(
        "received", "收案", "件", "期间内登记或经移交收到的调解案件（不含信访事项和司法确认案件）"
    ),
    Figure(
        "disputes",
        "新收纠纷",
        "件",
        "其中首次登记的纠纷（不含上报/移交而来的案件和已合并的重复登记）",
    ),
    Figure("awaiting", "待受理", "件", "尚未决定是否受理"),
    Figure("rejected", "不予受理", "件", "不予受理（若干规定 art. 22）"),
    Figure("refused", "当事人拒绝调解", "件", "一方明确拒绝，不得调解（人民调解法 art. 17）"),
    Figure("accepted", "受理", "件", "收案 − 待受理 − 不予受理 − 拒绝调解"),
    Figure("settled", "调解成功", "件", "达成书面或口头协议（含调解书、司法调解协议）"),
    Figure("written", "书面协议", "件", "达成书面调解协议（人民调解法 art. 29）"),
    Figure("oral", "口头协议", "件", "达成口头协议（人民调解法 art. 28）"),
    Figure("failed", "调解不成", "件", "终止调解、视为调解不成、逾期、退回法院、转入判决"),
    Figure("withdrawn", "撤回", "件", "当事人撤回申请或要求终止（人民调解法 art. 23）"),
    Figure(
        "transferred", "移交", "件", "上报上级调委会、移交其他程序、移送公安；在其后的案件中计结果"
    ),
    Figure("in_progress", "在办", "件", "已受理，尚未办结"),
    Figure(
        "settlement_rate", "调解成功率（化解率）", "%", "调解成功 ÷（调解成功 + 调解不成 + 撤回）"
    ),
    Figure("at_village", "村级化解占比", "%", "调解成功中由村/社区调委会化解的比例（小事不出村）"),
    Figure("at_township", "镇级化解占比", "%", "调解成功中由乡镇/街道化解的比例（大事不出镇）"),
    Figure("above_township", "县级以上化解占比", "%", "调解成功中由县/区、市化解的比例"),
    Figure(
        "duration_median",
        "办理天数中位数",
        "日",
        "调解期限起算（受理/签收）至停止（协议、终止、撤回、移交）的日历天数",
    ),
    Figure("duration_mean", "办理天数平均", "日", "同上，平均"),
    Figure(
        "working_median", "办理工作日中位数", "日", "同上，按项目工作日历计算的工作日（起算日不计）"
    ),
    Figure("working_mean", "办理工作日平均", "日", "同上，平均"),
    Figure("overdue", "超期", "件", "调解期限届满后才办结，或截至报表日仍在计算且已届满"),
    Figure("overdue_rate", "超期率", "%", "超期 ÷ 案件的调解期限（重新调解的另计一次）"),
    Figure("confirmation_applied", "申请司法确认", "件", "书面协议中双方共同申请司法确认的"),
    Figure(
        "confirmation_rate", "司法确认申请率", "%", "申请司法确认 ÷ 可申请司法确认流程中的书面协议"
    ),
    Figure("confirmed", "确认有效", "件", "法院裁定协议有效"),
    Figure("dismissed", "驳回", "件", "法院裁定驳回申请"),
    Figure("confirmation_refused", "法院不予受理", "件", "法院不予受理司法确认申请"),
    Figure("confirmation_pending", "司法确认审查中", "件", "已申请，尚无裁定"),
    Figure("confirmed_rate", "确认有效率", "%", "确认有效 ÷（确认有效 + 驳回 + 不予受理）"),
    Figure("followed_up", "已回访", "件", "调解成功且有回访记录（人民调解法 art. 31）"),
    Figure("follow_up_rate", "回访率", "%", "已回访 ÷ 有回访环节的流程中的调解成功案件"),
    Figure("performed", "已履行", "件", "最近一次回访：已履行"),
    Figure("performance_rate", "履行率", "%", "已履行 ÷ 已回访"),
    Figure("satisfied", "满意（含基本满意）", "件", "最近一次回访记录的满意度为满意或基本满意"),
    Figure("satisfaction_rate", "满意率", "%", "（满意 + 基本满意）÷ 记录了满意度的回访"),
    Figure(
        "repeats",
        "重复纠纷",
        "件",
        "新收纠纷中，相同当事人、相同类型的纠纷在此前12个月内已登记过的",
    ),
    Figure("repeat_rate", "重复纠纷率", "%", "重复纠纷 ÷ 新收纠纷"),
)
FIGURE_BY_KEY = {f.key: f for f in FIGURES}


def _flows_with(trigger: str) -> frozenset[str]:
    from mediation.workflows import FLOW_MODULES, get_flow

    return frozenset(
        n for n in FLOW_MODULES if any(t.trigger == trigger for t in get_flow(n).transitions)
    )


def classify(flow: str, state: str, outcome: str | None) -> str:
    """The outcome class (:data:`CLASSES`) of a case in ``state`` with ``outcome``.

    The stored outcome is the last one a transition set; a case back in mediation after
    its agreement was refused confirmation (``remediate``), or whose agreement still
    awaits service (司法调解 ``agreed``), is in progress again: its state can still lead
    to an agreement.
    """
    if state in AWAITING_ACCEPTANCE.get(flow, ()):
        return "awaiting"
    settled = SETTLED_STATES.get((flow, state))
    if settled:
        return settled
    if outcome is None or state in _can_still_agree(flow):
        return "in_progress"
    return _OUTCOME_CLASS.get(outcome, "in_progress")


_AGREEING: dict[str, frozenset[str]] = {}


def _can_still_agree(flow: str) -> frozenset[str]:
    """States of ``flow`` from which a transition still reaches an agreement."""
    found = _AGREEING.get(flow)
    if found is None:
        from mediation.workflows import get_flow

        found = _AGREEING[flow] = frozenset(
            s
            for t in get_flow(flow).transitions
            if t.outcome in ("agreement_written", "agreement_oral")
            for s in t.source
        )
    return found


# -- the figures ----------------------------------------------------------------------


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

    def add(self, other: Tally) -> None:
        for name in ("classes", "settled_by_level", "durations", "confirmation"):
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
        }
        return out


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


# -- queries --------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which cases a report covers.

    :param start: first business date of opening (inclusive).
    :param end: last business date of opening (inclusive).
    :param as_of: the report date: a running clock is overdue when its due day is before it.
    :param org: an organisation code: it and every organisation below it on the ladder.
    :param by: a dimension of :data:`DIMENSIONS`, or None for the totals only.
    """

    start: date
    end: date
    as_of: date
    org: str | None = None
    by: str | None = None

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in DIMENSIONS:
            raise UsageError(f"unknown --by {self.by!r}", hint=f"use {', '.join(DIMENSIONS)}")
        if self.end < self.start:
            raise UsageError(
                f"--from {self.start} is after --to {self.end}", hint="swap the two dates"
            )


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)


def _months(start: date, end: date) -> list[tuple[str, datetime]]:
    """("YYYY-MM", the UTC moment the month begins in business time) for each month of
    [start, end]."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append((f"{year:04d}-{month:02d}", _utc_midnight(date(year, month, 1))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


class _Sql:
    """The dialect-specific expressions, for SQLite and PostgreSQL.

    Business dates are UTC timestamps shifted by +8 hours: Asia/Shanghai has kept UTC+8
    without daylight saving since 1991, and SQLite has no time-zone database.
    """

    def __init__(self, dialect: str, sel: Selection) -> None:
        self.pg = dialect == "postgresql"
        self.months = _months(sel.start, sel.end)

    def biz_date(self, ts: Any) -> ColumnElement[Any]:
        if self.pg:
            return cast(func.timezone("Asia/Shanghai", ts), Date)
        return func.date(ts, "+8 hours")

    def month(self, ts: Any) -> ColumnElement[Any]:
        """The business month of a timestamp inside the selection, by comparing it with the
        months' first moments (on SQLite five times faster than strftime), halving the
        months at each comparison: four comparisons a row for a year, not twelve."""

        def among(months: list[tuple[str, datetime]]) -> Any:
            if len(months) == 1:
                return literal(months[0][0])
            half = len(months) // 2
            return case((ts < months[half][1], among(months[:half])), else_=among(months[half:]))

        return among(self.months)

    def year_before(self, ts: Any) -> ColumnElement[Any]:
        if self.pg:
            return ts - literal_column(f"interval '{REPEAT_WINDOW_MONTHS} months'")
        return func.strftime("%Y-%m-%d %H:%M:%f", ts, f"-{REPEAT_WINDOW_MONTHS} months")


def _by(n: int) -> list[Any]:
    """GROUP BY the first ``n`` output columns, by position (the same on both databases,
    and safe for expressions carrying bound parameters)."""
    return [literal_column(str(i)) for i in range(1, n + 1)]


def _org_ids(conn: Connection, code: str | None) -> tuple[list[int] | None, str | None]:
    """The organisation ``code`` and every organisation below it (None: all), and its name."""
    if code is None:
        return None, None
    rows = conn.execute(select(_O.c.id, _O.c.code, _O.c.name, _O.c.parent_id)).all()
    root = next((r for r in rows if r.code == code), None)
    if root is None:
        # A typo in a cron line must not read as "nothing happened".
        raise NotFoundError(f"no organisation {code!r}", hint="see `mediation org list`")
    children: dict[int | None, list[int]] = defaultdict(list)
    for r in rows:
        children[r.parent_id].append(r.id)
    found, frontier = [root.id], [root.id]
    while frontier:
        frontier = [c for parent in frontier for c in children[parent] if c not in found]
        found += frontier
    return found, root.name


@dataclass(frozen=True)
class _Query:
    """What the queries of one report share, and the part of the cases one of them covers
    (a range of proceeding ids, or of dispute types for repeats): the report splits its
    work into parts that run side by side and add up."""

    sel: Selection
    sql: _Sql
    org_ids: list[int] | None
    ids: tuple[int, int] | None = None
    types: tuple[str, ...] = ()
    other_types: tuple[str, ...] = ()

    def key(self, by: str | None) -> ColumnElement[Any]:
        if by == "level":
            return _P.c.level
        if by == "type":
            return _D.c.dispute_type
        if by == "channel":
            return _D.c.channel
        if by == "mediator":
            return func.coalesce(_P.c.mediator, "")
        return self.sql.month(_P.c.opened_at)  # month

    def dims(self, by: str | None, *more: Any) -> list[Any]:
        return ([self.key(by).label("k")] if by else []) + list(more)

    def cohort(self, scan: bool = False) -> list[ColumnElement[bool]]:
        """The WHERE clause of the cases of the selection (and of this part).

        :param scan: read the proceedings in table order (on SQLite: the columns as
            ``+column``, which no index serves), for a query that joins them to rows
            stored in the same order or reads their facts: through an index in another
            order, each row is a seek.
        """
        sel = self.sel
        flow: Any = _P.c.flow
        opened: Any = _P.c.opened_at
        if scan and not self.sql.pg:
            flow, opened = _unindexed(flow), _unindexed(opened)
        where = [
            flow.not_in(NOT_CASES),
            opened >= _utc_midnight(sel.start),
            opened < _utc_midnight(sel.end + timedelta(days=1)),
        ]
        if self.org_ids is not None:
            where.append(_P.c.organisation_id.in_(self.org_ids))
        if self.ids is not None:
            where.append(_P.c.id.between(*self.ids))
        return where


def _unindexed(col: Any) -> Any:
    """``+col``: the same value, which SQLite will not look up by index."""
    return UnaryExpression(col, operator=operators.custom_op("+"), type_=col.type)


@dataclass(frozen=True)
class _Count:
    """Rows of ``statement`` counted by all their columns (a column ``n`` added).

    PostgreSQL counts them with GROUP BY. SQLite's GROUP BY sorts every row, which
    costs more than streaming the rows into a Python Counter, so there the statement
    runs as it is and its rows are counted as they come.
    """

    statement: Any
    #: The order to read the rows in on SQLite, when it matters (it is free: the order
    #: of the table), else None.
    order: Any = None

    def streamed(self) -> Any:
        return self.statement if self.order is None else self.statement.order_by(self.order)

    def grouped(self) -> Any:
        width = len(self.statement.selected_columns)
        return self.statement.add_columns(func.count().label("n")).group_by(*_by(width))


def _merged_away() -> Any:
    """Disputes merged into another (a live merge): the same dispute as the one kept.
    Not correlated, so the database evaluates it once."""
    merge = dispute_merge_table
    return select(merge.c.merged_id).where(merge.c.split_at.is_(None)).scalar_subquery()


def _needs_dispute(by: str | None) -> bool:
    return by in ("type", "channel")


def _cases(qx: _Query, by: str | None) -> Any:
    """Cases counted by (key, flow, state, outcome, level), with ``new``: how many of
    them start a dispute (no parent case, or a petition diverted to mediation), not
    counting a case of a dispute merged into another (not a dispute of its own).

    Grouped in the order of ``ix_proceeding_report``, which covers every column read:
    SQLite counts while walking the index, without sorting a row.
    """
    parent = _P.alias("parent")
    # Correlated: looked up only for the few cases that have a parent.
    parent_flow = select(parent.c.flow).where(parent.c.id == _P.c.parent_id).scalar_subquery()
    new = case(
        (_P.c.dispute_id.in_(_merged_away()), 0),
        (_P.c.parent_id.is_(None), 1),
        (parent_flow == "petition", 1),
        else_=0,
    )
    dims = qx.dims(by, _P.c.flow, _P.c.state, _P.c.outcome, _P.c.level)
    q = select(*dims, func.count().label("n"), func.sum(new).label("new")).select_from(_P)
    if _needs_dispute(by):
        q = q.join(_D, _D.c.id == _P.c.dispute_id)
    return q.where(*qx.cohort()).group_by(*_by(len(dims)))


def _volume(qx: _Query) -> _Count:
    """Cases by (month opened, dispute type), for the chart of received cases."""
    dims = [qx.sql.month(_P.c.opened_at).label("month"), _D.c.dispute_type]
    q = select(*dims).select_from(_P).join(_D, _D.c.id == _P.c.dispute_id)
    # In table order (else SQLite reads the cases from the covering index, in its order,
    # and seeks their disputes at random): disputes are stored in nearly the same order.
    return _Count(q.where(*qx.cohort(scan=True)), order=_P.c.id)


def _clocks(qx: _Query, by: str | None, charts: bool) -> _Count:
    """Mediation clocks (:data:`CLOCK`) of the cases, counted by (key, [month], status,
    start, stop) or (key, [month], status, span). ``status``: met / late (stopped in time
    or not), overdue (running past its due day on ``as_of``), running, other. A stopped
    clock brings its start day and the business day it stopped, for Python to count the
    days against the calendar (a few thousand distinct pairs): on PostgreSQL the day
    itself; on SQLite, whose date functions cost a microsecond a call, the stored UTC
    text's date and whether its hour is 16 or later (the business day is the next one),
    all in one text (``span``, see :meth:`_Durations.of`).
    """
    sql, sel = qx.sql, qx.sel
    stopped = _DL.c.status.in_(("met", "late"))
    status = case(
        (_DL.c.status == "late", "late"),
        (_DL.c.status == "met", "met"),
        (and_(_DL.c.status == "open", _DL.c.due < sel.as_of), "overdue"),
        (_DL.c.status.in_(("open", "paused")), "running"),
        else_="other",
    )
    extra = [sql.month(_P.c.opened_at).label("month")] if charts else []
    if sql.pg:
        span = [
            case((stopped, _DL.c.starts_on), else_=null()).label("start"),
            case((stopped, sql.biz_date(_DL.c.closed_at)), else_=null()).label("stop"),
        ]
    else:
        # One text, "<start day><UTC day of the stop>[+]", fewer values for the driver
        # to hand over: "+" when the stop's hour is 16 or later (the next business day).
        late = case((func.substr(_DL.c.closed_at, 12, 2) >= "16", "+"), else_="")
        text = func.substr(_DL.c.starts_on, 1, 10).concat(func.substr(_DL.c.closed_at, 1, 10))
        span = [case((stopped, text.concat(late)), else_=null()).label("span")]
    dims = qx.dims(by, *extra, status.label("status"), *span)
    q = select(*dims).select_from(_P).join(_DL, _DL.c.proceeding_id == _P.c.id)
    if _needs_dispute(by):
        q = q.join(_D, _D.c.id == _P.c.dispute_id)
    where = [_DL.c.kind == CLOCK, _DL.c.duty.is_(True), *qx.cohort(scan=True)]
    if qx.ids is not None:  # said of the clocks too, for SQLite to seek the range
        where.append(_DL.c.proceeding_id.between(*qx.ids))
    # In table order, the clocks found by ``ix_deadline_clock`` in the same order.
    return _Count(q.where(*where))


class _Durations:
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
        """The durations of a stopped clock's row of :func:`_clocks`."""
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


#: What followed an agreement, as the facts keep it (``facts[trigger]`` is the payload of
#: the last firing of ``trigger``, see mediation.engine.cases): each path names a field the
#: trigger requires, so it is present exactly when the trigger was fired.
_AFTER_AGREEMENT = (
    ("performance", "follow_up.performance"),
    ("satisfaction", "follow_up.satisfaction"),
    ("applied", "apply_confirmation.court"),
    ("granted", "confirmation_granted.ruling_ref"),
    ("denied", "confirmation_denied.ruling_ref"),
)


def _after_agreement(qx: _Query, by: str | None) -> Any:
    """Follow-ups (performance, satisfaction) and in-flow judicial confirmation of the
    settled cases, from their facts: (key, performance, satisfaction, applied, granted,
    denied, count).

    The one query that reads JSON, and the costliest: the facts of each settled case are
    parsed once (one json_extract with every path on SQLite; one jsonb cast on
    PostgreSQL) in a subquery the database must not flatten, which would parse them once
    per reference.
    """
    from sqlalchemy.dialects.postgresql import JSONB

    flows = sorted(_flows_with("follow_up") | _flows_with("confirmation_granted"))
    inner_dims = qx.dims(by)
    if qx.sql.pg:
        inner_dims.append(cast(_P.c.facts, JSONB).label("doc"))
    else:
        paths = [f"$.{path}" for _, path in _AFTER_AGREEMENT]
        inner_dims.append(func.json_extract(_P.c.facts, *paths).label("doc"))
    inner = select(*inner_dims).select_from(_P)
    if _needs_dispute(by):
        inner = inner.join(_D, _D.c.id == _P.c.dispute_id)
    # ``flow || ''``: with the bare column SQLite walks the (flow, state) index and fetches
    # most of the table's rows one by one, three times slower than reading it through.
    inner = inner.where(
        *qx.cohort(),
        (_P.c.flow + "").in_(flows),
        _P.c.outcome.in_(("agreement_written", "agreement_oral")),
    )
    # Not flattened: SQLite keeps a LIMITed subquery of an aggregate apart; PostgreSQL an
    # OFFSETed one.
    facts = (inner.offset(0) if qx.sql.pg else inner.limit(-1)).subquery("facts")
    extracted: dict[str, Any] = {}
    for i, (name, path) in enumerate(_AFTER_AGREEMENT):
        if qx.sql.pg:
            key, field_ = path.split(".")
            extracted[name] = facts.c.doc.op("->")(literal(key, String)).op("->>")(
                literal(field_, String)
            )
        else:
            extracted[name] = func.json_extract(facts.c.doc, f"$[{i}]")

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # Sums, not a GROUP BY on the values: SQLite's GROUP BY sorts every row it is given,
    # and these figures need no combination of two values.
    sums = [
        total(extracted["performance"].is_not(None)).label("followed_up"),
        *(total(extracted["performance"] == code).label(code) for code in PERFORMANCE),
        # The label too: follow-ups recorded before the codes were checked may hold it.
        *(
            total(extracted["satisfaction"].in_((code, label))).label(code)
            for code, label in SATISFACTION.items()
        ),
        *(
            total(extracted[name].is_not(None)).label(name)
            for name in ("applied", "granted", "denied")
        ),
    ]
    q = select(*([facts.c.k] if by else []), *sums)
    return q.group_by(facts.c.k) if by else q


def _table_pass(qx: _Query, by: str | None) -> _Count:
    """On SQLite, :func:`_volume` and :func:`_after_agreement` in one read of the cases
    in table order, by (key, month, type, follow-up, confirmation), the last two only for
    the settled cases of the flows that have them (else NULL): ``follow_up`` the JSON
    array [performance, satisfaction], ``confirmation`` 4 × applied + 2 × granted +
    denied. :func:`_split_pass` turns the groups into the two queries' rows.
    """
    flows = sorted(_flows_with("follow_up") | _flows_with("confirmation_granted"))
    # ``+column``: read in table order (see _Query.cohort), not through an index.
    settled = and_(
        _unindexed(_P.c.flow).in_(flows),
        _unindexed(_P.c.outcome).in_(("agreement_written", "agreement_oral")),
    )
    # The first json_extract parses the facts; the others find them in SQLite's parse
    # cache. Values that differ from case to case (the court, the rulings) stay in SQL:
    # only whether they are there comes back, as the bits of one small number.
    paths = [f"$.{path}" for _, path in _AFTER_AGREEMENT]
    follow_up = func.json_extract(_P.c.facts, *paths[:2])
    bits: Any = literal(0)
    for bit, path in zip((4, 2, 1), paths[2:], strict=True):
        bits = bits + case((func.json_extract(_P.c.facts, path).is_not(None), bit), else_=0)
    dims = qx.dims(
        by,
        qx.sql.month(_P.c.opened_at).label("month"),
        _D.c.dispute_type,
        case((settled, follow_up), else_=null()).label("follow_up"),
        case((settled, bits), else_=null()).label("confirmation"),
    )
    q = select(*dims).select_from(_P).join(_D, _D.c.id == _P.c.dispute_id)
    # In table order: disputes are stored in nearly the same order as their cases.
    return _Count(q.where(*qx.cohort(scan=True)), order=_P.c.id)


def _split_pass(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of :func:`_table_pass` as (:func:`_volume`'s, :func:`_after_agreement`'s)."""
    import json

    volume: Counter[tuple[str, str]] = Counter()
    after: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        n = r["n"]
        volume[(r["month"], r["dispute_type"])] += n
        if r["follow_up"] is None:
            continue
        sums = after[r.get("k", "")]
        performance, satisfaction = json.loads(r["follow_up"])
        bits = r["confirmation"]
        confirmation = (bits & 4, bits & 2, bits & 1)
        if performance is not None:
            sums["followed_up"] += n
            sums[performance] += n
        if isinstance(satisfaction, str):  # a code, or the label of an older follow-up
            sums[SATISFACTION_CODE.get(satisfaction, satisfaction)] += n
        for name, value in zip(("applied", "granted", "denied"), confirmation, strict=True):
            sums[name] += n if value else 0
    names = ("followed_up", *PERFORMANCE, *SATISFACTION, "applied", "granted", "denied")
    return (
        [{"month": m, "dispute_type": t, "n": n} for (m, t), n in volume.items()],
        [{"k": k, **{name: sums[name] for name in names}} for k, sums in after.items()],
    )


def _court_confirmations(qx: _Query, by: str | None) -> Any:
    """Judicial-confirmation proceedings handed off from the cases (委派调解 → 司法确认),
    by (key, state of the confirmation proceeding)."""
    child = _P.alias("confirmation")
    dims = qx.dims(by, child.c.state.label("state"))
    q = select(*dims, func.count().label("n")).select_from(child)
    q = q.join(_P, _P.c.id == child.c.parent_id)
    if _needs_dispute(by):
        q = q.join(_D, _D.c.id == _P.c.dispute_id)
    return q.where(child.c.flow == "judicial_confirmation", *qx.cohort()).group_by(*_by(len(dims)))


def _repeats(qx: _Query, by: str | None) -> Any:
    """New disputes of the cases that repeat an earlier one, by key.

    Same parties: the same :func:`mediation.domain.personal.party_key`, stored on the dispute. Same type, and the
    earlier one received at most :data:`REPEAT_WINDOW_MONTHS` months before. A dispute
    merged into another is the same dispute, not a repeat of it.
    """
    sql, sel = qx.sql, qx.sel
    window = [
        _D.c.party_key.is_not(None),
        _D.c.received_at >= _utc_midnight(sel.start - timedelta(days=400)),
        _D.c.received_at < _utc_midnight(sel.end + timedelta(days=1)),
        _D.c.id.not_in(_merged_away()),
    ]
    # The parties' key (personal.party_key) and type seen more than once, counted in the
    # order of ``ix_dispute_party_key``: a few per cent of the disputes.
    again = (
        select(_D.c.party_key, _D.c.dispute_type)
        .where(*window)
        .group_by(_D.c.party_key, _D.c.dispute_type)
        .having(func.count() > 1)
    )
    ordered = (
        select(
            _D.c.id,
            _D.c.received_at,
            func.lag(_D.c.received_at)
            .over(
                partition_by=(_D.c.party_key, _D.c.dispute_type),
                order_by=(_D.c.received_at, _D.c.id),
            )
            .label("previous"),
        )
        .where(*window, tuple_(_D.c.party_key, _D.c.dispute_type).in_(again))
        .cte("ordered")
    )
    # From the few repeated disputes to their cases by index, not the other way round.
    parent = _P.alias("parent")
    dims = qx.dims(by)
    q = select(*dims, func.count().label("n")).select_from(ordered)
    q = q.join(_P, _P.c.dispute_id == ordered.c.id)
    if _needs_dispute(by):
        q = q.join(_D, _D.c.id == _P.c.dispute_id)
    q = q.outerjoin(parent, parent.c.id == _P.c.parent_id).where(
        # CASE: the date arithmetic only for the few disputes that have a predecessor.
        case(
            (ordered.c.previous.is_(None), False),
            else_=ordered.c.previous >= sql.year_before(ordered.c.received_at),
        ),
        *qx.cohort(),
        or_(_P.c.parent_id.is_(None), parent.c.flow == "petition"),
    )
    return q.group_by(*_by(len(dims))) if dims else q


# -- the report -----------------------------------------------------------------------


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
                {"key": f.key, "label": f.label, "unit": f.unit, "definition": f.definition}
                for f in FIGURES
            ],
            "rows": [{"key": k, "label": label, **figs} for k, label, figs in self.rows],
            "total": self.total,
        }


def key_label(by: str | None, code: str) -> str:
    """The Chinese label of a group."""
    if by == "level":
        return taxonomy.label(taxonomy.LEVELS, code)
    if by == "type":
        return taxonomy.label(taxonomy.DISPUTE_TYPES, code)
    if by == "channel":
        group = taxonomy.CHANNEL_GROUPS.get(code)
        name = taxonomy.label(taxonomy.CHANNELS, code)
        return f"{name}（{group}）" if group else name
    if by == "mediator":
        return code or "（未指派）"
    return code


def _order(by: str | None, keys: Iterable[str]) -> list[str]:
    table = {
        "level": taxonomy.LEVELS,
        "type": taxonomy.DISPUTE_TYPES,
        "channel": taxonomy.CHANNELS,
    }.get(by or "")
    if table is None:
        return sorted(keys)
    known = list(table)
    return sorted(keys, key=lambda k: (known.index(k) if k in known else len(known), k))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _fill(
    tallies: dict[str, Tally],
    cases: list[dict[str, Any]],
    clocks: list[dict[str, Any]],
    durations: _Durations,
) -> None:
    """Add the case and clock rows to the tallies of their keys (all under "" if no key)."""
    follow_up = _flows_with("follow_up")
    confirmable = _flows_with("apply_confirmation")
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


def _parts() -> int:
    """How many parts to split the work into: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


def _id_ranges(conn: Connection, parts: int) -> list[tuple[int, int] | None]:
    lo, hi = conn.execute(select(func.min(_P.c.id), func.max(_P.c.id))).one()
    if lo is None or parts == 1:
        return [None]
    step = (hi - lo) // parts + 1
    return [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]


def _run(store: Store, statements: list[Any]) -> list[list[dict[str, Any]]]:
    """Run the statements side by side, each in a read transaction of its own connection.

    They start together, so they read the database as of (nearly) the same moment. On
    PostgreSQL the server does the work, so threads suffice. On SQLite the work is in this
    process, and the driver lets go of the GIL for each row and takes it back: two threads
    reading rows hand the GIL to and fro at every row and, measured, take longer than one
    thread alone. So the parts run in forked processes, one per core, where there is
    ``fork`` and no other thread; else one after another.
    """
    if len(statements) == 1:
        return [_run_one(store, statements[0])]
    if store.dialect != "sqlite":
        with ThreadPoolExecutor(max_workers=_parts()) as pool:
            return list(pool.map(lambda s: _run_one(store, s), statements))
    # Forking a process that runs other threads may copy a lock one of them holds.
    alone = threading.active_count() == 1
    if not alone or "fork" not in multiprocessing.get_all_start_methods() or _parts() == 1:
        return [_run_one(store, s) for s in statements]
    global _FORKED
    _FORKED = (store.url, statements)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=_parts(), mp_context=context) as pool:
            return list(pool.map(_run_forked, range(len(statements))))
    finally:
        _FORKED = None


#: What the forked processes of :func:`_run` run: the database and the statements, which
#: they inherit rather than receive (a statement does not pickle).
_FORKED: tuple[str, list[Any]] | None = None
#: The store of a forked process, opened on its first statement.
_FORKED_STORE: Store | None = None


def _run_forked(index: int) -> list[dict[str, Any]]:
    """In a process forked by :func:`_run`: statement ``index``, on a connection of its
    own (never one inherited from the parent)."""
    global _FORKED_STORE
    assert _FORKED is not None
    url, statements = _FORKED
    if _FORKED_STORE is None:
        _FORKED_STORE = Store(url)
    return _run_one(_FORKED_STORE, statements[index])


def _run_one(store: Store, statement: Any) -> list[dict[str, Any]]:
    """One statement (or :class:`_Count`) in a read transaction of its own connection."""
    sqlite = store.dialect == "sqlite"
    with store.engine.connect() as conn:
        if sqlite:
            # A GROUP BY that sorts keeps its sort in memory rather than in a temporary
            # file.
            conn.connection.driver_connection.execute("PRAGMA temp_store = MEMORY")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if isinstance(statement, _Count):
                    if sqlite:
                        return _stream_count(conn, statement.streamed())
                    statement = statement.grouped()
                return [dict(r._mapping) for r in conn.execute(statement)]
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA temp_store = DEFAULT")  # type: ignore[union-attr]


def _stream_count(conn: Connection, statement: Any) -> list[dict[str, Any]]:
    """:class:`_Count` on SQLite: the driver's plain tuples, counted as they come."""
    result = conn.execute(statement)
    names = list(result.keys())
    cursor = result.cursor
    counts: Counter[tuple[Any, ...]] = Counter()
    while rows := cursor.fetchmany(20_000):
        counts.update(rows)
    result.close()
    return [{**dict(zip(names, key, strict=True)), "n": n} for key, n in counts.items()]


def compute(store: Store, sel: Selection) -> StatsReport:
    """Every figure of :data:`FIGURES`, for each group of ``sel.by`` and for all cases.

    :raises NotFoundError: for an unknown ``sel.org``.
    """
    cal = store.calendar()
    by = sel.by
    parts = _parts()
    with store.read() as conn:
        org_ids, org_name = _org_ids(conn, sel.org)
        ranges = _id_ranges(conn, parts)
        sql = _Sql(conn.dialect.name, sel)
    whole = _Query(sel, sql, org_ids)
    # A mediator has few cases a month: grouping by mediator and month would return
    # nearly a row per case, so the charts then get their own, ungrouped, pass.
    apart = by == "mediator"
    # The costliest query (it parses facts) is split into ranges of case ids; the others
    # walk covering indexes in their own order, where a range of ids saves nothing.
    parted = [_Query(sel, sql, org_ids, ids=r) for r in ranges]
    tasks: list[tuple[str, Any]]
    if sql.pg:
        tasks = [("after", _after_agreement(q, by)) for q in parted]
        tasks.append(("volume", _volume(whole)))
    else:
        tasks = [("pass", _table_pass(q, by)) for q in parted]
    # Costliest first, so that the parts end together.
    tasks += [
        *(("clocks", _clocks(q, by, not apart)) for q in parted),
        ("repeats", _repeats(whole, by)),
        ("cases", _cases(whole, by)),
    ]
    if apart:
        tasks.append(("chart_clocks", _clocks(whole, None, True)))
    tasks.append(("court", _court_confirmations(whole, by)))
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (name, _), rows in zip(tasks, _run(store, [t for _, t in tasks]), strict=True):
        found[name] += rows
    if not sql.pg:
        found["volume"], found["after"] = _split_pass(found["pass"])
    durations = _Durations(cal, sel)
    tallies: dict[str, Tally] = defaultdict(Tally)
    _fill(tallies, found["cases"], found["clocks"], durations)
    for r in found["after"]:
        t = tallies[r.get("k", "") if by else ""]
        t.followed_up += r["followed_up"]
        for code in PERFORMANCE:
            t.performance[code] += r[code]
        for code in SATISFACTION:
            t.satisfaction[code] += r[code]
        for fact, outcome in (
            ("applied", "applied"),
            ("granted", "confirmed"),
            ("denied", "dismissed"),
        ):
            t.confirmation[outcome] += r[fact]
    for r in found["court"]:
        t = tallies[r.get("k", "")]
        state = r["state"]
        t.confirmation["applied"] += r["n"]
        outcome = state if state in ("confirmed", "dismissed", "not_accepted") else "pending"
        t.confirmation[outcome] += r["n"]
    for r in found["repeats"]:
        tallies[r.get("k", "")].repeats += r["n"]
    total = Tally()
    for t in tallies.values():
        total.add(t)
    groups = (
        [(k, key_label(by, k), tallies[k].figures()) for k in _order(by, tallies)] if by else []
    )
    charts = _charts(
        found["cases"],
        found["volume"],
        found["chart_clocks"] if apart else found["clocks"],
        durations,
    )
    return StatsReport(sel, org_name, groups, total.figures(), charts)


def _charts(
    cases: list[dict[str, Any]],
    volume: list[dict[str, Any]],
    clocks: list[dict[str, Any]],
    durations: _Durations,
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


# -- rendering ------------------------------------------------------------------------

TITLE = "矛盾纠纷调解统计报表"
#: The columns of the per-group table in text, HTML and PDF (CSV and JSON carry all).
SUMMARY = (
    "received",
    "accepted",
    "settled",
    "settlement_rate",
    "failed",
    "withdrawn",
    "transferred",
    "in_progress",
    "duration_median",
    "overdue_rate",
    "follow_up_rate",
    "satisfaction_rate",
)
#: Sections of the full list of figures.
SECTIONS = (
    ("收案与受理", ("received", "disputes", "awaiting", "rejected", "refused", "accepted")),
    (
        "办理结果",
        ("settled", "written", "oral", "failed", "withdrawn", "transferred", "in_progress"),
    ),
    ("化解率与化解层级", ("settlement_rate", "at_village", "at_township", "above_township")),
    (
        "办理时长与超期",
        (
            "duration_median",
            "duration_mean",
            "working_median",
            "working_mean",
            "overdue",
            "overdue_rate",
        ),
    ),
    (
        "司法确认",
        (
            "confirmation_applied",
            "confirmation_rate",
            "confirmed",
            "dismissed",
            "confirmation_refused",
            "confirmation_pending",
            "confirmed_rate",
        ),
    ),
    (
        "回访",
        (
            "followed_up",
            "follow_up_rate",
            "performed",
            "performance_rate",
            "satisfied",
            "satisfaction_rate",
        ),
    ),
    ("重复纠纷", ("repeats", "repeat_rate")),
)


def show(key: str, value: Any) -> str:
    """A figure as people read it: 95.6%, 12.5 日, — for a rate of nothing."""
    if value is None:
        return "—"
    unit = FIGURE_BY_KEY[key].unit
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "日":
        return f"{value:g}"
    return str(value)


def scope_line(report: StatsReport) -> str:
    sel = report.selection
    where = f"{report.organisation}（{sel.org}）及下级" if sel.org else "全部调委会"
    return f"收案期间 {sel.start} 至 {sel.end} · 截至 {sel.as_of} · {where}"


def as_table(report: StatsReport) -> str:
    """Plain text: the per-group table (with ``--by``), then every figure of the total."""
    from mediation.reporting.output import fields, table

    out = [TITLE, scope_line(report), ""]
    by = report.selection.by
    if by:
        headers = [DIMENSION_LABELS[by], *(FIGURE_BY_KEY[k].label for k in SUMMARY)]
        body = [[label, *(show(k, figs[k]) for k in SUMMARY)] for _, label, figs in report.rows]
        body.append(["合计", *(show(k, report.total[k]) for k in SUMMARY)])
        out += [table(body, headers), ""]
    for name, keys in SECTIONS:
        out.append(f"【{name}】")
        out.append(fields([(FIGURE_BY_KEY[k].label, _with_unit(k, report.total[k])) for k in keys]))
        out.append("")
    return "\n".join(out)


def _with_unit(key: str, value: Any) -> str:
    unit = FIGURE_BY_KEY[key].unit
    text = show(key, value)
    return text if value is None or unit == "%" else f"{text} {unit}"


def write_csv(report: StatsReport, out: TextIO) -> None:
    """One row per group, then 合计; every figure a column (header in Chinese)."""
    by = report.selection.by
    writer = csv.writer(out)
    writer.writerow(
        [DIMENSION_LABELS[by] if by else "范围", *(f"{f.label}（{f.unit}）" for f in FIGURES)]
    )
    for _, label, figs in report.rows:
        writer.writerow([label, *("" if figs[f.key] is None else figs[f.key] for f in FIGURES)])
    total = report.total
    writer.writerow(["合计", *("" if total[f.key] is None else total[f.key] for f in FIGURES)])


def as_html(report: StatsReport) -> str:
    """A self-contained HTML page (autoescaped) with the four charts as inline SVG."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    from mediation.reporting import charts

    env = Environment(
        loader=PackageLoader("mediation", "templates"), autoescape=select_autoescape(["html"])
    )
    c = report.charts
    svgs = [
        charts.volume_by_type(c.volume),
        charts.settlement_by_level(c.by_level),
        charts.duration_distribution(c.durations),
        charts.overdue_trend(c.overdue),
    ]
    by = report.selection.by
    return env.get_template("report_stats.html").render(
        title=TITLE,
        scope=scope_line(report),
        dimension=DIMENSION_LABELS[by] if by else None,
        summary=[FIGURE_BY_KEY[k] for k in SUMMARY],
        rows=[(label, {k: show(k, figs[k]) for k in SUMMARY}) for _, label, figs in report.rows],
        total_row={k: show(k, report.total[k]) for k in SUMMARY},
        sections=[
            (name, [(FIGURE_BY_KEY[k], _with_unit(k, report.total[k])) for k in keys])
            for name, keys in SECTIONS
        ],
        figures=FIGURES,
        charts=[Markup(svg) for svg in svgs],  # our own SVG; every text in it is escaped
    )


def as_pdf(report: StatsReport) -> bytes:
    """The HTML version rendered to PDF by WeasyPrint (charts included); fetches nothing."""
    from weasyprint import HTML

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"the report fetches no resources (asked for {url!r})")

    pdf: bytes = HTML(string=as_html(report), url_fetcher=no_fetch).write_pdf()
    return pdf
