"""A case's clocks (deadlines) as its transitions start, stop, pause, resume or extend
them (domain.md §4), and the period an organisation sets where the law leaves it to local
rules. Maintenance outside transitions is in :mod:`mediation.engine.deadlines`."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, insert, or_, select, update

from mediation.domain.calendar import WorkCalendar
from mediation.domain.periods import Period, compute_due
from mediation.storage._sql import Prepared
from mediation.storage._tables import deadline_table, organisation_table
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
    select(deadline_table.c.due, deadline_table.c.paused_on).where(
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
    # The agreed date is what the parties consented to: no longer provisional.
    .values(
        due=bindparam("due"),
        extensions=deadline_table.c.extensions + 1,
        provisional=False,
        reminded_at=None,
        overdue_at=None,
    )
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
        period = local_period(conn, org_id, flow, rule)
        due = compute_due(today, period, cal)
        if due.provisional:
            # The calendar was read before this transaction; a year loaded meanwhile (and
            # its recomputation already committed) must not be missed: read it again here.
            due = compute_due(today, period, calendar_in(conn))
        row = {
            "proceeding_id": pid,
            "kind": rule.kind,
            "label": rule.label,
            "period": period.label,
            "legal_basis": rule.legal_basis,
            "duty": rule.duty,
            "starts_on": today,
            "due": due.due,
            "provisional": due.provisional,
            "status": "open",
            "extensions": 0,
            "counted_from": today,
            "period_count": period.count,
            "period_unit": period.unit,
        }
        _INSERT_DEADLINE(conn, row)
        started.append(row)
    return started


def resume_deadline(
    conn: Connection, rule: DeadlineRule, pid: int, today: date, cal: WorkCalendar
) -> dict[str, Any] | None:
    """Restart a paused clock: the time it stood still does not count (domain.md §4)."""
    row = _PAUSED(conn, {"pid": pid, "kind": rule.kind}).first()
    if row is None:
        return None
    due, paused_on = (d if isinstance(d, date) else date.fromisoformat(d) for d in row)
    if rule.period.unit == "working_days":
        unit = "working_days"
        left = cal.working_days_between(paused_on, due)
    else:
        unit, left = "days", max((due - paused_on).days, 0)
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
    conn: Connection, rule: DeadlineRule, pid: int, today: date, now: datetime
) -> dict[str, Any]:
    found = _DUE_OF(conn, {"pid": pid, "kind": rule.kind}).first()
    if found is None:
        return {"kind": rule.kind, "status": None}
    due, paused_on = (date.fromisoformat(d) if isinstance(d, str) else d for d in found)
    # A clock standing still (paused for an appraisal) is judged on the day it stopped
    # running: the paused time does not count (domain.md §4).
    running_until = paused_on or today
    status = ("met" if running_until <= due else "late") if rule.duty else "closed"
    _STOP_DEADLINE(conn, {"pid": pid, "kind": rule.kind, "status": status, "now": now})
    return {"kind": rule.kind, "label": rule.label, "due": due, "status": status}


def pause_deadline(conn: Connection, pid: int, kind: str, today: date) -> bool:
    """Stop the open clock ``kind`` standing still from ``today`` (an appraisal); whether
    there was one to pause."""
    return bool(_PAUSE_DEADLINE(conn, {"pid": pid, "kind": kind, "today": today}).rowcount)


def extend_deadline(conn: Connection, pid: int, kind: str, due: date) -> Any:
    """Move the open clock ``kind`` to ``due``, the date the parties agreed; return the due
    date it had."""
    previous = _DUE_OF(conn, {"pid": pid, "kind": kind}).scalar()
    _EXTEND_DEADLINE(conn, {"pid": pid, "kind": kind, "due": due})
    return previous
