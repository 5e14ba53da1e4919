"""Deadline maintenance outside transitions: loading a year's calendar and recomputing
the provisional deadlines that depended on it (domain.md §4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mediation.domain.calendar import WorkCalendar, YearCalendar
from mediation.domain.periods import Period, compute_due
from mediation.engine.machine import load
from mediation.storage._tables import (
    calendar_year_table,
    deadline_table,
    proceeding_table,
)
from mediation.storage.audit import append_event
from mediation.storage.record_rows import CLOCKS_KEY, clocks_digest
from mediation.storage.store import Store


def load_calendar_year(
    store: Store, year: YearCalendar, *, actor: str, now: datetime
) -> dict[str, Any]:
    """Store ``year`` and recompute every provisional deadline, in one transaction.

    Each deadline whose due date changes is recorded as an event on its proceeding.
    Loading a year again replaces it (a corrected notice).
    """
    row = {
        "source": year.source,
        "holidays": sorted(d.isoformat() for d in year.holidays),
        "workdays": sorted(d.isoformat() for d in year.workdays),
        "loaded_at": now,
        "loaded_by": actor,
    }
    cal = WorkCalendar(dict(store.calendar().years))
    cal.add_year(year)
    with store.write() as conn:
        exists = conn.execute(
            select(calendar_year_table.c.year).where(calendar_year_table.c.year == year.year)
        ).first()
        if exists:
            conn.execute(
                update(calendar_year_table)
                .where(calendar_year_table.c.year == year.year)
                .values(**row)
            )
        else:
            conn.execute(insert(calendar_year_table).values(year=year.year, **row))
        changed = recompute_provisional(conn, cal, actor=actor, now=now, reason=year.year)
    store.forget_calendar()
    return {"year": year.year, "replaced": bool(exists), "recomputed": changed}


def recompute_provisional(
    conn: Connection, cal: WorkCalendar, *, actor: str, now: datetime, reason: int
) -> list[dict[str, Any]]:
    """Recompute open provisional deadlines with ``cal``; record each change as an event."""
    rows = conn.execute(
        select(
            deadline_table.c.id,
            deadline_table.c.kind,
            deadline_table.c.starts_on,
            deadline_table.c.due,
            deadline_table.c.proceeding_id,
            deadline_table.c.extensions,
            deadline_table.c.counted_from,
            deadline_table.c.period_count,
            deadline_table.c.period_unit,
            proceeding_table.c.flow,
            proceeding_table.c.state,
            proceeding_table.c.version,
            proceeding_table.c.dispute_id,
            proceeding_table.c.case_number,
        )
        .join(proceeding_table, proceeding_table.c.id == deadline_table.c.proceeding_id)
        .where(
            deadline_table.c.provisional.is_(True), deadline_table.c.status.in_(("open", "paused"))
        )
        .order_by(deadline_table.c.id)
        .with_for_update()
    ).all()
    changed = []
    versions: dict[int, int] = {}
    for r in rows:
        rules = {rule.kind: rule for rule in load(r.flow).flow.deadlines}
        rule = rules.get(r.kind)
        if rule is None or (r.extensions and rule.extension is None):
            # A deadline extended by agreement carries the date the parties agreed, not a
            # computed one. A statutory extension (+30, +10) is a period like any other,
            # counted on from the nominal last day (its counted_from): recomputed below.
            conn.execute(
                update(deadline_table).where(deadline_table.c.id == r.id).values(provisional=False)
            )
            continue
        # The clock as last set: from its start, from where a pause resumed it, or from
        # the nominal last day a statutory extension runs on from.
        if r.counted_from is not None and r.period_count is not None and r.period_unit:
            period = Period(r.period_count, r.period_unit)
            due = compute_due(r.counted_from, period, cal)
        else:
            due = compute_due(r.starts_on, rule.period, cal)
        if due.due == r.due:
            conn.execute(
                update(deadline_table)
                .where(deadline_table.c.id == r.id)
                .values(provisional=due.provisional)
            )
            continue
        conn.execute(
            update(deadline_table)
            .where(deadline_table.c.id == r.id)
            .values(due=due.due, provisional=due.provisional, reminded_at=None, overdue_at=None)
        )
        version = versions.get(r.proceeding_id, r.version) + 1
        versions[r.proceeding_id] = version
        conn.execute(
            update(proceeding_table)
            .where(proceeding_table.c.id == r.proceeding_id)
            .values(version=version)
        )
        payload = {
            "kind": r.kind,
            "previous_due": r.due.isoformat(),
            "due": due.due.isoformat(),
            "provisional": due.provisional,
            "calendar_year": reason,
        }
        # The case's clocks as recomputed (mediation.storage.record_rows).
        recorded = {**payload, CLOCKS_KEY: clocks_digest(conn, r.proceeding_id)}
        append_event(
            conn,
            {
                "dispute_id": r.dispute_id,
                "proceeding_id": r.proceeding_id,
                "seq": version,
                "trigger": "recompute_deadline",
                "from_state": r.state,
                "to_state": r.state,
                "actor": actor,
                "note": f"{reason} 年节假日安排载入后重新计算期限",
                "payload": recorded,
                "occurred_at": now,
            },
        )
        changed.append({"case_number": r.case_number, **payload})
    return changed


def compute(
    start: date,
    *,
    days: int | None,
    working_days: int | None,
    months: int | None,
    cal: WorkCalendar,
) -> dict[str, Any]:
    """``mediation deadline compute``: exactly one of the three lengths must be given."""
    from mediation.domain.periods import Period
    from mediation.errors import UsageError

    given = [
        (n, u)
        for n, u in ((days, "days"), (working_days, "working_days"), (months, "months"))
        if n is not None
    ]
    if len(given) != 1:
        raise UsageError(
            "give exactly one of --days, --working-days, --months",
            hint="e.g. mediation deadline compute 2026-03-02 --months 1",
        )
    count, unit = given[0]
    period = Period(count, unit)  # type: ignore[arg-type]
    due = compute_due(start, period, cal)
    return {
        "start": start.isoformat(),
        "period": period.label,
        "due": due.due.isoformat(),
        "provisional": due.provisional,
    }
