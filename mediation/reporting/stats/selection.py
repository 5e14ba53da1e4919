"""Which cases a report covers (:class:`Selection`), and what its queries share: the
dialect's expressions (:class:`Sql`), the cohort's WHERE clause and its parts (:class:`Query`),
and rows counted by all their columns (:class:`Count`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Date, case, cast, func, literal, literal_column, select
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.expression import UnaryExpression

from mediation.domain.clock import BUSINESS_TZ
from mediation.errors import NotFoundError, UsageError
from mediation.i18n import _
from mediation.reporting.stats.figures import DIMENSIONS, NOT_CASES, REPEAT_WINDOW_MONTHS
from mediation.storage._tables import dispute_table, organisation_table, proceeding_table


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
            raise UsageError(
                _("没有这种 --by：{by}").format(by=repr(self.by)),
                hint=_("可用：{values}").format(values="、".join(DIMENSIONS)),
            )
        if self.end < self.start:
            raise UsageError(
                _("--from {start} 晚于 --to {end}").format(start=self.start, end=self.end),
                hint=_("请交换两个日期"),
            )


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)


def _months(start: date, end: date) -> list[tuple[str, datetime]]:
    """("YYYY-MM", the UTC moment the month begins in business time) for each month of
    [start, end]."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append((f"{year:04d}-{month:02d}", utc_midnight(date(year, month, 1))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


class Sql:
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


def by_position(n: int) -> list[Any]:
    """GROUP BY the first ``n`` output columns, by position (the same on both databases,
    and safe for expressions carrying bound parameters)."""
    return [literal_column(str(i)) for i in range(1, n + 1)]


def organisations_under(conn: Connection, code: str | None) -> tuple[list[int] | None, str | None]:
    """The organisation ``code`` and every organisation below it (None: all), and its name."""
    if code is None:
        return None, None
    rows = conn.execute(
        select(
            organisation_table.c.id,
            organisation_table.c.code,
            organisation_table.c.name,
            organisation_table.c.parent_id,
        )
    ).all()
    root = next((r for r in rows if r.code == code), None)
    if root is None:
        # A typo in a cron line must not read as "nothing happened".
        raise NotFoundError(
            _("没有代码为 {code} 的组织").format(code=repr(code)),
            hint=_("用 `mediation org list` 查看组织代码"),
        )
    children: dict[int | None, list[int]] = defaultdict(list)
    for r in rows:
        children[r.parent_id].append(r.id)
    found, frontier = [root.id], [root.id]
    while frontier:
        frontier = [c for parent in frontier for c in children[parent] if c not in found]
        found += frontier
    return found, root.name


@dataclass(frozen=True)
class Query:
    """What the queries of one report share, and the part of the cases one of them covers
    (a range of proceeding ids, or of dispute types for repeats): the report splits its
    work into parts that run side by side and add up."""

    sel: Selection
    sql: Sql
    org_ids: list[int] | None
    ids: tuple[int, int] | None = None
    types: tuple[str, ...] = ()
    other_types: tuple[str, ...] = ()

    def key(self, by: str | None) -> ColumnElement[Any]:
        if by == "level":
            return proceeding_table.c.level
        if by == "type":
            return dispute_table.c.dispute_type
        if by == "channel":
            return dispute_table.c.channel
        if by == "mediator":
            return func.coalesce(proceeding_table.c.mediator, "")
        return self.sql.month(proceeding_table.c.opened_at)  # month

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
        flow: Any = proceeding_table.c.flow
        opened: Any = proceeding_table.c.opened_at
        if scan and not self.sql.pg:
            flow, opened = unindexed(flow), unindexed(opened)
        where = [
            flow.not_in(NOT_CASES),
            opened >= utc_midnight(sel.start),
            opened < utc_midnight(sel.end + timedelta(days=1)),
        ]
        if self.org_ids is not None:
            where.append(proceeding_table.c.organisation_id.in_(self.org_ids))
        if self.ids is not None:
            where.append(proceeding_table.c.id.between(*self.ids))
        return where


def unindexed(col: Any) -> Any:
    """``+col``: the same value, which SQLite will not look up by index."""
    return UnaryExpression(col, operator=operators.custom_op("+"), type_=col.type)


@dataclass(frozen=True)
class Count:
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
        return self.statement.add_columns(func.count().label("n")).group_by(*by_position(width))
