"""Deadline maintenance outside transitions: loading a year's calendar and recomputing
the provisional deadlines that depended on it (domain.md §4); bringing forward, on ``db
upgrade``, the deadlines computed by a rule since changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mediation.domain.calendar import WorkCalendar, YearCalendar
from mediation.domain.clock import business_date
from mediation.domain.periods import Period, compute_due, nominal_end
from mediation.engine.clocks import received_on
from mediation.engine.machine import load
from mediation.i18n import _
from mediation.storage._tables import (
    calendar_year_table,
    deadline_table,
    event_table,
    party_table,
    proceeding_table,
    signature_table,
)
from mediation.storage.audit import append_event
from mediation.storage.record_rows import CLOCKS_KEY, clocks_digest
from mediation.storage.store import Store
from mediation.workflows import AGREEMENT_EFFECTIVE, DeadlineRule


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
    rows = _open_clocks(conn, deadline_table.c.provisional.is_(True))
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
        payload = {
            "kind": r.kind,
            "previous_due": r.due.isoformat(),
            "due": due.due.isoformat(),
            "provisional": due.provisional,
            "calendar_year": reason,
        }
        note = f"{reason} 年节假日安排载入后重新计算期限"
        _record_recompute(conn, r, versions, payload, note=note, actor=actor, now=now)
        changed.append({"case_number": r.case_number, **payload})
    return changed


def _open_clocks(conn: Connection, *where: Any) -> Sequence[Any]:
    """The open and paused deadlines (matching ``where``) with what their cases say, in id
    order, locked for update: what a recompute reads."""
    return conn.execute(
        select(
            deadline_table.c.id,
            deadline_table.c.kind,
            deadline_table.c.starts_on,
            deadline_table.c.due,
            deadline_table.c.provisional,
            deadline_table.c.status,
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
            proceeding_table.c.organisation_id,
        )
        .join(proceeding_table, proceeding_table.c.id == deadline_table.c.proceeding_id)
        .where(deadline_table.c.status.in_(("open", "paused")), *where)
        .order_by(deadline_table.c.id)
        .with_for_update()
    ).all()


def _record_recompute(
    conn: Connection,
    r: Any,
    versions: dict[int, int],
    payload: dict[str, Any],
    *,
    note: str,
    actor: str,
    now: datetime,
) -> None:
    """A deadline of case ``r`` recomputed: the case's next version and a
    ``recompute_deadline`` event carrying ``payload`` and the case's clocks as they now
    stand (their digest: mediation.storage.record_rows)."""
    version = versions.get(r.proceeding_id, r.version) + 1
    versions[r.proceeding_id] = version
    conn.execute(
        update(proceeding_table)
        .where(proceeding_table.c.id == r.proceeding_id)
        .values(version=version)
    )
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
            "note": note,
            "payload": {**payload, CLOCKS_KEY: clocks_digest(conn, r.proceeding_id)},
            "occurred_at": now,
        },
    )


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
            _("请只给出 --days、--working-days、--months 中的一项"),
            hint=_("例如：mediation deadline compute 2026-03-02 --months 1"),
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


# -- deadlines of a database made before a rule changed (``db upgrade``) ---------------------

#: What ``db upgrade`` recomputes and why, in the events it records.
_RULE_NOTES = {
    "agreement_effective": "申请司法确认期限自协议生效（最后一方签名、盖章或按指印）之日起算",
    "not_in_effect": "协议尚未生效，申请司法确认期限待协议生效之日起算",
    "statutory_extension": "法定延长期限自原期限届满之日起算，所涉年份节假日未公布的仍为暂定",
    "from_receipt": "期限自收到申请之日起算",
}


def recompute_changed_rules(
    conn: Connection, cal: WorkCalendar, *, actor: str, now: datetime
) -> list[dict[str, Any]]:
    """Bring forward the running deadlines a database holds that were computed by a rule
    since changed (issue 14), each change an event on its case (as loading a calendar
    does); the changes. Running it again changes nothing.

    - the 司法确认 window (``confirmation_window``) runs from the day the agreement took
      effect (the last signature, 人民调解法 arts. 29, 33), not from the day it was reached:
      a window started then is counted again from that day, or, while the agreement is not
      yet signed by all, closed until the last signature starts it;
    - a statutory extension (+30, +10) is counted from the period's own last day, and is
      provisional where it reaches a year whose calendar is not loaded;
    - a clock the law counts from receipt starts on the day the application was received.
    """
    rows = _open_clocks(conn)
    changes: list[dict[str, Any]] = []
    versions: dict[int, int] = {}
    for r in rows:
        rule = {d.kind: d for d in load(r.flow).flow.deadlines}.get(r.kind)
        if rule is None:
            continue
        found = _under_new_rule(conn, r, rule, cal, now)
        if found is None:
            continue
        why, values = found
        conn.execute(update(deadline_table).where(deadline_table.c.id == r.id).values(**values))
        due = values.get("due")
        payload = {
            "kind": r.kind,
            "previous_due": r.due.isoformat(),
            "due": due.isoformat() if due is not None else None,
            "provisional": values.get("provisional", False),
            "rule": why,
        }
        note = f"升级后按新规则重新计算期限：{_RULE_NOTES[why]}"
        _record_recompute(conn, r, versions, payload, note=note, actor=actor, now=now)
        changes.append({"case_number": r.case_number, **payload})
    return changes


def _under_new_rule(
    conn: Connection, r: Any, rule: DeadlineRule, cal: WorkCalendar, now: datetime
) -> tuple[str, dict[str, Any]] | None:
    """(why, the row's new values) when the deadline ``r`` differs from what today's rule
    gives; None when it does not."""
    if AGREEMENT_EFFECTIVE in rule.starts_on:
        effective = _effective_day(conn, r.proceeding_id, r.flow)
        if effective is None:
            return "not_in_effect", {"status": "closed", "closed_at": now, "paused_on": None}
        if r.extensions or effective == r.starts_on:
            return None
        return "agreement_effective", _counted(effective, rule.period, cal, starts_on=effective)
    if r.extensions and rule.extension is not None:
        if r.counted_from is None or r.period_count is None or not r.period_unit:
            return None
        if compute_due(r.counted_from, Period(r.period_count, r.period_unit), cal).due == r.due:
            return None  # counted as today's code counts it (from the nominal last day)
        # Written before: the extended date fixed, final, the clock still the original one.
        nominal = nominal_end(r.counted_from, Period(r.period_count, r.period_unit), cal)
        for _extension in range(r.extensions - 1):
            nominal = nominal_end(nominal, rule.extension, cal)
        values = _counted(nominal, rule.extension, cal)
        if values["due"] == r.due and values["provisional"] == r.provisional:
            return None
        return "statutory_extension", values
    if rule.from_receipt and not r.extensions and r.counted_from == r.starts_on:
        received = received_on(conn, r.proceeding_id, r.starts_on)
        if received == r.starts_on or r.status != "open":
            return None
        period = Period(r.period_count, r.period_unit) if r.period_count else rule.period
        return "from_receipt", _counted(received, period, cal, starts_on=received)
    return None


def _counted(
    start: date, period: Period, cal: WorkCalendar, *, starts_on: date | None = None
) -> dict[str, Any]:
    due = compute_due(start, period, cal)
    values: dict[str, Any] = {
        "due": due.due,
        "provisional": due.provisional,
        "counted_from": start,
        "period_count": period.count,
        "period_unit": period.unit,
        "reminded_at": None,
    }
    if starts_on is not None:
        values["starts_on"] = starts_on
    return values


def _effective_day(conn: Connection, pid: int, flow: str) -> date | None:
    """The day the case's latest agreement took effect: an oral one when reached (人民调解法
    art. 30), a written one on the day of the last signature, fingerprint or seal of every
    party, a mediator and the committee (art. 29); None while it is not in effect."""
    reaching = sorted(
        t.trigger for t in load(flow).flow.transitions if "record_agreement" in t.effects
    )
    reached = conn.execute(
        select(event_table.c.seq, event_table.c.trigger, event_table.c.occurred_at)
        .where(event_table.c.proceeding_id == pid, event_table.c.trigger.in_(reaching))
        .order_by(event_table.c.seq.desc())
        .limit(1)
    ).first()
    if reached is None:
        return None
    if reached.trigger == "agree_oral":
        return business_date(reached.occurred_at)
    signed = conn.execute(
        select(
            signature_table.c.signer_kind, signature_table.c.party_id, signature_table.c.signed_at
        ).where(
            signature_table.c.proceeding_id == pid,
            signature_table.c.document_kind == "agreement",
            signature_table.c.recorded_at >= reached.occurred_at,
        )
    ).all()
    parties = set(
        conn.execute(
            select(party_table.c.id)
            .join(proceeding_table, proceeding_table.c.dispute_id == party_table.c.dispute_id)
            .where(proceeding_table.c.id == pid)
        ).scalars()
    )
    kinds = {s.signer_kind for s in signed}
    if not parties <= {s.party_id for s in signed if s.signer_kind == "party"}:
        return None
    if not {"mediator", "committee"} <= kinds:
        return None
    return business_date(max(s.signed_at for s in signed))
