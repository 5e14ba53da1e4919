"""A case's row: read or locked for a change (:func:`case_row`), and changes that leave
the case in its state (:func:`lock_running`, :func:`record_in_place`: a reassignment, a
correction of a party)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from mediation.domain.clock import UTC
from mediation.engine.machine import load
from mediation.errors import NotFoundError, TransitionNotAllowed
from mediation.i18n import _
from mediation.storage._sql import Prepared
from mediation.storage._tables import proceeding_table
from mediation.storage.audit import append_event
from mediation.storage.refs import resolve

_CASE_ROW = select(
    proceeding_table.c.id,
    proceeding_table.c.dispute_id,
    proceeding_table.c.flow,
    proceeding_table.c.state,
    proceeding_table.c.version,
    proceeding_table.c.organisation_id,
    proceeding_table.c.level,
    proceeding_table.c.facts,
    proceeding_table.c.mediator,
    proceeding_table.c.mediators,
    proceeding_table.c.case_number,
    proceeding_table.c.outcome,
    proceeding_table.c.updated_at,
).where(proceeding_table.c.id == bindparam("pid"))
_ROW = Prepared(_CASE_ROW)
_LOCK = Prepared(_CASE_ROW.with_for_update())


def case_row(conn: Connection, pid: int, *, lock: bool = False) -> Any:
    """A case's row (flow, state, version, organisation, mediators...), locked ``FOR
    UPDATE`` when ``lock`` (in a write transaction, before changing the case); ``facts``
    and ``mediators`` decoded from their JSON text.

    :raises NotFoundError: for an unknown id.
    """
    row = (_LOCK if lock else _ROW)(conn, {"pid": pid}).first()
    if row is None:
        raise NotFoundError(
            _("没有 id 为 {pid} 的案件").format(pid=pid),
            hint=_("用 `mediation case list` 查看案件"),
        )

    def decoded(value: Any, empty: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else (value or empty)

    def moment(value: Any) -> datetime | None:
        # The driver's own cursor returns SQLite's text as stored: UTC, without a zone.
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)

    return row._replace(
        facts=decoded(row.facts, {}),
        mediators=decoded(row.mediators, []),
        updated_at=moment(row.updated_at),
    )


def lock_running(conn: Connection, ref: str | int, *, refused: str, hint: str) -> Any:
    """The row of a case that has not ended (:func:`case_row`, locked), for a change that
    does not move it; an ended one is refused with "已结束…，``refused``" and ``hint``.

    :raises TransitionNotAllowed: when the case has ended.
    """
    pid = ref if isinstance(ref, int) else resolve(conn, ref)[0]
    row = case_row(conn, pid, lock=True)
    flow = load(row.flow).flow
    if flow.state(row.state).final:
        raise TransitionNotAllowed(
            f"案件 {row.case_number} 已结束（{flow.state_label(row.state)}），{refused}", hint=hint
        )
    return row


def record_in_place(
    conn: Connection,
    row: Any,
    trigger: str,
    *,
    actor: str,
    note: str,
    payload: dict[str, Any],
    now: datetime,
    changes: dict[str, Any] | None = None,
) -> int:
    """Record a change that leaves the case in its state (a reassignment, a correction):
    the case's next version with ``changes`` to its row, and a ``trigger`` event from its
    state to itself in the dispute's chain. Returns the new version."""
    version = int(row.version) + 1
    conn.execute(
        update(proceeding_table)
        .where(proceeding_table.c.id == row.id)
        .values(version=version, updated_at=now, **(changes or {}))
    )
    append_event(
        conn,
        {
            "dispute_id": row.dispute_id,
            "proceeding_id": row.id,
            "seq": version,
            "trigger": trigger,
            "from_state": row.state,
            "to_state": row.state,
            "actor": actor,
            "note": note,
            "payload": payload,
            "occurred_at": now,
        },
    )
    return version
