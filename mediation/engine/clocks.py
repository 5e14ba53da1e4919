"""A case's clocks (deadlines) as its transitions start, stop, pause, resume or extend
them (domain.md §4), and the period an organisation sets where the law leaves it to local
rules. Maintenance outside transitions is in :mod:`mediation.engine.deadlines`."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, insert, or_, select, update

from mediation.domain.calendar import WorkCalendar
from mediation.domain.clock import business_date
from mediation.domain.periods import Period, compute_due, nominal_end
from mediation.storage._sql import Prepared
from mediation.storage._tables import (
    deadline_table,
    dispute_table,
    organisation_table,
    proceeding_table,
)
from mediation.storage.store import calendar_in
from mediation.workflows import DeadlineRule

_DEADLINE_COLUMNS = (
    "proceeding_id",
    "kind",
    "label",
    "period",
    "legal_basis",
    "duty",
    "starts_on",
    "due",
    "provisional",
    "status",
    "extensions",
    "counted_from",
    "period_count",
    "period_unit",
)
_INSERT_DEADLINE = Prepared(
    insert(deadline_table).values({c: bindparam(c) for c in _DEADLINE_COLUMNS})
)
# Not ``IN (...)``: expanding parameters cannot be compiled once (see mediation.storage._sql).
_running = or_(deadline_table.c.status == "open", deadline_table.c.status == "paused")
_STOP_DEADLINE = Prepared(
    update(deadline_table)
    .where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        _running,
    )
    .values(status=bindparam("status"), closed_at=bindparam("now"), paused_on=None)
)
_DUE_OF = Prepared(
    select(deadline_table.c.due, deadline_table.c.paused_on).where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        _running,
    )
)
_PAUSE_DEADLINE = Prepared(
    update(deadline_table)
    .where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        deadline_table.c.status == "open",
    )
    .values(status="paused", paused_on=bindparam("today"))
)
_PAUSED = Prepared(
    select(
        deadline_table.c.due,
        deadline_table.c.paused_on,
        deadline_table.c.counted_from,
        deadline_table.c.period_count,
        deadline_table.c.period_unit,
    ).where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        deadline_table.c.status == "paused",
    )
)
_RESUME_DEADLINE = Prepared(
    update(deadline_table)
    .where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        deadline_table.c.status == "paused",
    )
    .values(
        status="open",
        paused_on=None,
        due=bindparam("due"),
        provisional=bindparam("prov"),
        counted_from=bindparam("today"),
        period_count=bindparam("left"),
        period_unit=bindparam("unit"),
        # A new due date: reminders and overdue notices are due again (the same due date,
        # resumed the day it paused: they were sent already, and stay sent).
        reminded_at=case(
            (deadline_table.c.due == bindparam("due"), deadline_table.c.reminded_at), else_=None
        ),
        overdue_at=case(
            (deadline_table.c.due == bindparam("due"), deadline_table.c.overdue_at), else_=None
        ),
    )
)
_EXTEND_DEADLINE = Prepared(
    update(deadline_table)
    .where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        deadline_table.c.status == "open",
    )
    # The clock as now set (counted_from + period = due), so that a pause, or a calendar
    # loaded later, counts on from it. ``overdue_at`` is left alone: an extension is only
    # granted while the period runs, and nothing clears the record of an overrun.
    .values(
        due=bindparam("due"),
        extensions=deadline_table.c.extensions + 1,
        provisional=bindparam("prov"),
        counted_from=bindparam("from_"),
        period_count=bindparam("count"),
        period_unit=bindparam("unit"),
        reminded_at=None,
    )
)
_CLOCK_OF = Prepared(
    select(
        deadline_table.c.due,
        deadline_table.c.starts_on,
        deadline_table.c.counted_from,
        deadline_table.c.period_count,
        deadline_table.c.period_unit,
    ).where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        deadline_table.c.status == "open",
    )
)
# Not Prepared: the timestamp is read through its column type (a string on SQLite else).
_RECEIVED_ON = (
    select(dispute_table.c.received_at, proceeding_table.c.parent_id, proceeding_table.c.opened_at)
    .join(proceeding_table, proceeding_table.c.dispute_id == dispute_table.c.id)
    .where(proceeding_table.c.id == bindparam("pid"))
)
_SUPERSEDE = Prepared(
    update(deadline_table)
    .where(
        deadline_table.c.proceeding_id == bindparam("pid"),
        deadline_table.c.kind == bindparam("kind"),
        _running,
    )
    .values(status="closed", closed_at=bindparam("now"), paused_on=None)
)


_ORG_PERIODS = Prepared(
    select(organisation_table.c.periods).where(organisation_table.c.id == bindparam("id"))
)


def local_period(conn: Connection, org_id: int, flow: str, rule: DeadlineRule) -> Period:
    """The rule's period, or the organisation's own where the law leaves it to local rules."""
    if not rule.configurable:
        return rule.period
    raw = _ORG_PERIODS(conn, {"id": org_id}).scalar()
    periods = json.loads(raw) if isinstance(raw, str) else (raw or {})
    local = periods.get(f"{flow}.{rule.kind}")
    return Period(int(local[0]), local[1]) if local else rule.period


def start_deadlines(
    conn: Connection,
    rules: Any,
    pid: int,
    today: date,
    cal: WorkCalendar,
    *,
    org_id: int,
    flow: str,
) -> list[dict[str, Any]]:
    started = []
    for rule in rules:
        start = received_on(conn, pid, today) if rule.from_receipt else today
        period = local_period(conn, org_id, flow, rule)
        due = compute_due(start, period, cal)
        if due.provisional:
            # The calendar was read before this transaction; a year loaded meanwhile (and
            # its recomputation already committed) must not be missed: read it again here.
            due = compute_due(start, period, calendar_in(conn))
        row = {
            "proceeding_id": pid,
            "kind": rule.kind,
            "label": rule.label,
            "period": period.label,
            "legal_basis": rule.legal_basis,
            "duty": rule.duty,
            "starts_on": start,
            "due": due.due,
            "provisional": due.provisional,
            "status": "open",
            "extensions": 0,
            "counted_from": start,
            "period_count": period.count,
            "period_unit": period.unit,
        }
        _INSERT_DEADLINE(conn, row)
        started.append(row)
    return started


def received_on(conn: Connection, pid: int, today: date) -> date:
    """The day the proceeding's application was received (the intake's ``received_at``,
    in business time); never after ``today``. A proceeding handed over from another (a
    court's referral of a failed people's case, an escalation) was received the day it was
    handed over: the dispute's own intake day is an earlier proceeding's."""
    row = conn.execute(_RECEIVED_ON, {"pid": pid}).first()
    if row is None:
        return today
    received = row.opened_at if row.parent_id is not None else row.received_at
    if received is None:
        return today
    return min(business_date(received), today)


def restart_on_event(
    conn: Connection, case: Any, rules: Any, day: date, *, now: datetime
) -> list[dict[str, Any]]:
    """Start ``rules`` (the clocks of ``case``'s flow that start on a recorded event, e.g.
    ``agreement_effective``) counted from ``day``, those that run in the case's state; a
    clock of the same kind still running is closed and started again."""
    rules = [r for r in rules if case.state in r.runs_in]
    for rule in rules:
        _SUPERSEDE(conn, {"pid": case.id, "kind": rule.kind, "now": now})
    return start_deadlines(
        conn,
        rules,
        case.id,
        day,
        calendar_in(conn),
        org_id=case.organisation_id,
        flow=case.flow,
    )


def resume_deadline(
    conn: Connection, rule: DeadlineRule, pid: int, today: date, cal: WorkCalendar
) -> dict[str, Any] | None:
    """Restart a paused clock: the time it stood still does not count (domain.md §4)."""
    row = _PAUSED(conn, {"pid": pid, "kind": rule.kind}).first()
    if row is None:
        return None
    due, paused_on = (d if isinstance(d, date) else date.fromisoformat(d) for d in row[:2])
    if rule.period.unit == "working_days":
        unit = "working_days"
        left = cal.working_days_between(paused_on, due)
    else:
        # The days left run to the period's own last day, not to a due date already moved
        # off a rest day: the roll-over days are not mediation time (domain.md §4).
        unit, left = "days", max((_nominal(row, due, cal) - paused_on).days, 0)
    new = compute_due(today, Period(left, unit), cal)  # type: ignore[arg-type]
    _RESUME_DEADLINE(
        conn,
        {
            "pid": pid,
            "kind": rule.kind,
            "due": new.due,
            "prov": new.provisional,
            "today": today,
            "left": left,
            "unit": unit,
        },
    )
    return {
        "kind": rule.kind,
        "paused_on": paused_on.isoformat(),
        "previous_due": due.isoformat(),
        "due": new.due.isoformat(),
    }


def stop_deadline(
    conn: Connection,
    rule: DeadlineRule,
    pid: int,
    today: date,
    now: datetime,
    *,
    trigger: str | None = None,
) -> dict[str, Any]:
    """Stop the clock of ``rule``: met, late (逾期完成), closed (a party's window), or
    expired when ``trigger`` is the statutory consequence of its expiry (``on_expiry``: a
    deemed failure, a labour lapse) — the law's own outcome, not an overrun."""
    found = _DUE_OF(conn, {"pid": pid, "kind": rule.kind}).first()
    if found is None:
        return {"kind": rule.kind, "status": None}
    due, paused_on = (date.fromisoformat(d) if isinstance(d, str) else d for d in found)
    # A clock standing still (paused for an appraisal) is judged on the day it stopped
    # running: the paused time does not count (domain.md §4).
    running_until = paused_on or today
    status = ("met" if running_until <= due else "late") if rule.duty else "closed"
    if trigger is not None and trigger == rule.on_expiry and running_until > due:
        status = "expired"
    _STOP_DEADLINE(conn, {"pid": pid, "kind": rule.kind, "status": status, "now": now})
    return {"kind": rule.kind, "label": rule.label, "due": due, "status": status}


def pause_deadline(conn: Connection, pid: int, kind: str, today: date) -> bool:
    """Stop the open clock ``kind`` standing still from ``today`` (an appraisal); whether
    there was one to pause."""
    return bool(_PAUSE_DEADLINE(conn, {"pid": pid, "kind": kind, "today": today}).rowcount)


def _nominal(row: Any, due: date, cal: WorkCalendar) -> date:
    """The last day of the clock as last set, before any roll-over (its due date when the
    row does not say how it was counted)."""
    if row.counted_from is None or row.period_count is None or not row.period_unit:
        return due
    start = row.counted_from
    start = start if isinstance(start, date) else date.fromisoformat(start)
    return nominal_end(start, Period(row.period_count, row.period_unit), cal)


def nominal_last_day(conn: Connection, pid: int, kind: str, cal: WorkCalendar) -> date | None:
    """The open clock ``kind``'s own last day, before any roll-over off a rest day."""
    row = _CLOCK_OF(conn, {"pid": pid, "kind": kind}).first()
    if row is None:
        return None
    due = row.due if isinstance(row.due, date) else date.fromisoformat(row.due)
    return _nominal(row, due, cal)


def extend_deadline(
    conn: Connection,
    pid: int,
    kind: str,
    due: date,
    *,
    rule: DeadlineRule | None = None,
    cal: WorkCalendar | None = None,
) -> Any:
    """Move the open clock ``kind`` to ``due``; return the due date it had.

    A statutory extension (``rule.extension``: +30, +10) runs on from the period's own last
    day and is counted like any period: provisional in an unannounced year, recomputed when
    the calendar is loaded. Any other is the date the parties agreed, fixed as given."""
    previous = _DUE_OF(conn, {"pid": pid, "kind": kind}).scalar()
    values: dict[str, Any] = {"pid": pid, "kind": kind, "due": due, "prov": False}
    values.update({"from_": due, "count": 0, "unit": "days"})
    if rule is not None and rule.extension is not None and cal is not None:
        nominal = nominal_last_day(conn, pid, kind, cal)
        if nominal is not None:
            counted = compute_due(nominal, rule.extension, cal)
            if counted.provisional:
                counted = compute_due(nominal, rule.extension, calendar_in(conn))
            values.update(
                due=counted.due,
                prov=counted.provisional,
                from_=nominal,
                count=rule.extension.count,
                unit=rule.extension.unit,
            )
    _EXTEND_DEADLINE(conn, values)
    return previous


def overdue_conditions(as_of: Any, *, status: Any = "open") -> list[Any]:
    """The SQL conditions on ``deadline`` of a period overrun: a duty deadline still
    running whose last day is before ``as_of`` (a date or a bind parameter). One rule for
    the overdue report and ``case list --overdue``."""
    return [
        deadline_table.c.status == status,
        deadline_table.c.duty.is_(True),
        deadline_table.c.due < as_of,
    ]
