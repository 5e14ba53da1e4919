"""When a step happened, as the user declares it (``case advance --at``, ``doc
record-signature --at``), beside when it was recorded (``event.occurred_at``: the clock's
now, never what the user says).

A declared time is bounded (issue 13, "time is the client's"):

- not in the future;
- not before the case's previous step: its declared time, or its recording time when it
  declares none. Bookkeeping (:data:`BOOKKEEPING`: a correction, a reassignment, a party's
  amended particulars, a recomputed deadline, a seal) is not a step: recording a session
  held yesterday after correcting an earlier record today is allowed;
- no older than :data:`RECENT` before now unless the acting user is a supervisor: an old
  step recorded late is a supervisor's decision (exit 5 otherwise).

The declared time of a step is kept in its event's payload under :data:`HAPPENED_AT`
(ISO 8601, business time), so the hash chain covers it; a signature's is its
``signed_at`` and the agreement taking effect its ``effective_at``. Documents print it
where they print the step's time, and the step's clocks count from its day
(:func:`mediation.engine.cases.advance_in`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from mediation.domain.clock import BUSINESS_TZ, UTC
from mediation.engine.users import get_user
from mediation.errors import FieldProblem, PermissionDenied, ValidationError
from mediation.storage._tables import event_table

#: The payload key of a step's declared time.
HAPPENED_AT = "happened_at"

#: The trigger of a correction event (here, not in :mod:`mediation.engine.corrections`,
#: so that reading a case does not import the write path).
CORRECT = "correct"
#: How far back anyone may declare a step; further back only a supervisor.
RECENT = timedelta(days=7)
#: Events that record something about the case rather than a step of it.
BOOKKEEPING = frozenset(
    {"correct", "reassign", "amend_party", "recompute_deadline", "sign_document"}
)
#: The payload key holding the declared time of events that have always carried one.
_OWN_TIME = {"record_signature": "signed_at", "agreement_effective": "effective_at"}


def shown(moment: datetime) -> str:
    """``2026-03-05 15:30`` in business time."""
    return f"{moment.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}"


def as_payload(moment: datetime) -> str:
    """A declared time as the payload keeps it: ISO 8601 in business time."""
    return moment.astimezone(BUSINESS_TZ).isoformat(timespec="seconds")


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # a timestamp read as SQLite stores it: UTC
        value = value.replace(tzinfo=UTC)
    return value


def declared(event: Mapping[str, Any]) -> datetime | None:
    """The time ``event`` (a row with ``trigger`` and ``payload``) declares its step
    happened at, or None when it declares none."""
    payload = event.get("payload") or {}
    text = payload.get(_OWN_TIME.get(event["trigger"], HAPPENED_AT))
    return _moment(text) if text else None


def happened(event: Mapping[str, Any]) -> datetime:
    """When the step of ``event`` happened: its declared time, else its recording time."""
    return declared(event) or _moment(event["occurred_at"])


def previous_step(
    conn: Connection, pid: int, *, ignore: frozenset[str] = frozenset()
) -> tuple[Any, datetime] | None:
    """The case's latest step (not bookkeeping, nor a trigger of ``ignore``) and when it
    happened; None when the case has none."""
    rows = conn.execute(
        select(
            event_table.c.seq,
            event_table.c.trigger,
            event_table.c.payload,
            event_table.c.occurred_at,
        )
        .where(event_table.c.proceeding_id == pid)
        .order_by(event_table.c.seq.desc())
    )
    for row in rows:
        if row.trigger in BOOKKEEPING or row.trigger in ignore:
            continue
        return row, happened(dict(row._mapping))
    return None


def check_declared(
    conn: Connection,
    pid: int,
    at: datetime,
    *,
    now: datetime,
    source: str,
    field: str = "--at",
    ignore: frozenset[str] = frozenset(),
) -> None:
    """Refuse a declared time in the future or before the case's previous step (ignoring
    ``ignore``: signatures among themselves are made in any order).

    :raises ValidationError: (exit 3) saying which bound it crosses.
    """
    if at > now:
        problem = f"声明的时间 {shown(at)} 晚于当前时间 {shown(now)}"
        fix = "请给出该步骤实际发生的时间（不能是将来的时间）"
        raise ValidationError([FieldProblem(field, problem, fix)], source=source)
    found = previous_step(conn, pid, ignore=ignore)
    if found is not None and at < found[1]:
        row, floor = found
        problem = (
            f"声明的时间 {shown(at)} 早于本案上一步骤（#{row.seq} {row.trigger}，{shown(floor)}）"
        )
        fix = "各步骤按发生的先后登记；请核对时间（只写日期时按当日 09:00 计，可写明时分）"
        raise ValidationError([FieldProblem(field, problem, fix)], source=source)


def check_recent(conn: Connection, login: str, at: datetime, *, now: datetime) -> None:
    """Refuse a declared time older than :data:`RECENT` unless ``login`` is a supervisor.

    :raises PermissionDenied: (exit 9, a role refusal like any other) saying a supervisor
        must record it.
    """
    if now - at <= RECENT:
        return
    user = get_user(conn, login)
    if user is not None and "supervisor" in user.roles:
        return
    days = RECENT.days
    raise PermissionDenied(
        f"声明的时间 {shown(at)} 距今已超过{days}日：{days}日以前发生的步骤须由督办人员（supervisor）登记",
        hint=f"请督办人员登记此步骤；或者，如果该步骤是近{days}日内发生的，请核对 --at 的日期",
    )
