"""Read-only views of cases, disputes, organisations and flows, as plain data.

Each function returns dictionaries and lists that the CLI renders as text or JSON.
Personal data (ID numbers, phones, addresses) is masked unless ``reveal`` is asked for.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from mediation.domain import taxonomy
from mediation.domain.personal import mask_address, mask_id, mask_phone
from mediation.errors import NotFoundError
from mediation.i18n import _
from mediation.storage._tables import (
    deadline_table,
    dispute_table,
    event_table,
    organisation_table,
    party_table,
    proceeding_table,
)
from mediation.storage.refs import resolve
from mediation.storage.store import Store
from mediation.workflows import get_flow

#: A dispute's columns as shown: all but ``party_key`` (an HMAC of the parties' ID
#: numbers, for repeat detection only: never shown, see mediation.domain.personal).
_DISPUTE_SHOWN = tuple(c for c in dispute_table.c if c.name != "party_key")


def _flow_label(flow: str, state: str | None) -> str:
    return get_flow(flow).state_label(state)


def party_view(row: Any, *, reveal: bool = False) -> dict[str, Any]:
    """A party as shown to users: personal data masked unless ``reveal``."""
    data = dict(row._mapping)
    data.pop("dispute_id", None)
    if not reveal:
        data["id_number"] = mask_id(data["id_number"]) or None
        data["phone"] = mask_phone(data["phone"]) or None
        data["address"] = mask_address(data["address"]) or None
        # The birth date is the part of the ID number the mask hides.
        data["birth_date"] = None
    data["role_label"] = taxonomy.label(taxonomy.PARTY_ROLES, data["role"])
    return data


def deadlines_of(conn: Connection, pid: int, today: date | None = None) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(deadline_table)
        .where(deadline_table.c.proceeding_id == pid)
        .order_by(deadline_table.c.id)
    )
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["status_label"] = taxonomy.label(taxonomy.DEADLINE_STATUSES, d["status"])
        if today is not None and d["status"] == "open" and d["duty"]:
            d["days_overdue"] = max((today - d["due"]).days, 0)
        out.append(d)
    return out


def case_detail(
    conn: Connection, pid: int, *, reveal: bool = False, today: date | None = None
) -> dict[str, Any]:
    """Everything about case ``pid`` (resolved and authorised by the caller, in the same
    transaction ``conn``): proceeding, dispute, parties, deadlines, next triggers."""
    p = dict(
        conn.execute(
            select(
                proceeding_table,
                organisation_table.c.code.label("_org_code"),
                organisation_table.c.name.label("_org_name"),
            )
            .join(organisation_table, organisation_table.c.id == proceeding_table.c.organisation_id)
            .where(proceeding_table.c.id == pid)
        )
        .one()
        ._mapping
    )
    org = {"code": p.pop("_org_code"), "name": p.pop("_org_name")}
    dispute = dict(
        conn.execute(select(*_DISPUTE_SHOWN).where(dispute_table.c.id == p["dispute_id"]))
        .one()
        ._mapping
    )
    parties = [
        party_view(r, reveal=reveal)
        for r in conn.execute(
            select(party_table)
            .where(party_table.c.dispute_id == p["dispute_id"])
            .order_by(party_table.c.ordinal)
        )
    ]
    deadlines = deadlines_of(conn, pid, today)
    corrections = corrections_of(conn, pid)
    related = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                proceeding_table.c.id,
                proceeding_table.c.case_number,
                proceeding_table.c.flow,
                proceeding_table.c.state,
                proceeding_table.c.parent_id,
            )
            .where(proceeding_table.c.dispute_id == p["dispute_id"], proceeding_table.c.id != pid)
            .order_by(proceeding_table.c.id)
        )
    ]
    flow = get_flow(p["flow"])
    p["state_label"] = flow.state_label(p["state"])
    p["flow_label"] = flow.label
    p["level_label"] = taxonomy.label(taxonomy.LEVELS, p["level"])
    p["outcome_label"] = taxonomy.label(taxonomy.OUTCOMES, p["outcome"])
    p["organisation"] = org
    dispute["dispute_type_label"] = taxonomy.label(taxonomy.DISPUTE_TYPES, dispute["dispute_type"])
    dispute["channel_label"] = taxonomy.label(taxonomy.CHANNELS, dispute["channel"])
    for r in related:
        r["state_label"] = _flow_label(r["flow"], r["state"])
    return {
        "proceeding": p,
        "dispute": dispute,
        "parties": parties,
        "deadlines": deadlines,
        "related_proceedings": related,
        "next": next_triggers_for(p["flow"], p["state"]),
        "corrections": corrections,
    }


def next_triggers_for(flow_name: str, state: str) -> list[dict[str, Any]]:
    """The triggers allowed in ``state``: each with its label, where it leads, the data
    fields it requires and accepts besides (names, and in ``fields`` with their Chinese
    labels and the documents that print them), and ``documents``: the documents that
    cannot be printed without some of its fields (mediation.workflows.fields)."""
    from mediation.workflows.fields import document_needs, field_label

    flow = get_flow(flow_name)
    out: dict[str, dict[str, Any]] = {}
    for t in flow.outgoing(state):
        if t.trigger in out:
            continue
        documents = document_needs(flow, t)
        out[t.trigger] = {
            "trigger": t.trigger,
            "label": t.label,
            "dest": t.dest or state,
            "dest_label": flow.state_label(t.dest or state),
            "requires": list(t.requires),
            "optional": list(t.optional),
            "legal_basis": t.legal_basis,
            "fields": [
                {
                    "name": f,
                    "label": field_label(f),
                    "required": f in t.requires,
                    "documents": [d["kind"] for d in documents if f in d["fields"]],
                }
                for f in t.fields
            ],
            "documents": documents,
        }
    return list(out.values())


def next_triggers(store: Store, ref: str) -> dict[str, Any]:
    with store.read() as conn:
        pid, _number = resolve(conn, ref)
        row = conn.execute(
            select(
                proceeding_table.c.case_number, proceeding_table.c.flow, proceeding_table.c.state
            ).where(proceeding_table.c.id == pid)
        ).one()
    return {
        "case_number": row.case_number,
        "state": row.state,
        "state_label": _flow_label(row.flow, row.state),
        "next": next_triggers_for(row.flow, row.state),
    }


def history(store: Store, ref: str) -> dict[str, Any]:
    """The events of a case, oldest first."""
    from mediation.engine.declared import declared  # here: reading a case needs none of it

    with store.read() as conn:
        pid, _number = resolve(conn, ref)
        row = conn.execute(
            select(proceeding_table.c.case_number, proceeding_table.c.flow).where(
                proceeding_table.c.id == pid
            )
        ).one()
        events = [
            dict(r._mapping)
            for r in conn.execute(
                select(event_table)
                .where(event_table.c.proceeding_id == pid)
                .order_by(event_table.c.seq)
            )
        ]
    corrected_by = _corrections(events)
    for e in events:
        e["from_label"] = _flow_label(row.flow, e["from_state"])
        e["to_label"] = _flow_label(row.flow, e["to_state"])
        # When the step happened, if it says (``case advance --at``); else it happened
        # when it was recorded (``occurred_at``).
        e["happened_at"] = declared(e)
        e["corrected_by"] = sorted({c["seq"] for c in corrected_by.get(e["seq"], [])})
    return {"case_number": row.case_number, "events": events}


def _corrections(events: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Corrected step's seq → its corrections, field by field, oldest first."""
    from mediation.engine.declared import CORRECT  # here: reading a case needs none of it

    found: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        if e["trigger"] != CORRECT:
            continue
        for field, change in (e["payload"].get("changed") or {}).items():
            found.setdefault(e["payload"].get("seq"), []).append(
                {"seq": e["seq"], "field": field, **change}
            )
    return found


def corrections_of(conn: Connection, pid: int) -> list[dict[str, Any]]:
    """The corrected fields of a case's steps with their current values: the step (its
    seq and trigger), the field, the value now and the corrections that made it."""
    events = [
        dict(r._mapping)
        for r in conn.execute(
            select(event_table.c.seq, event_table.c.trigger, event_table.c.payload)
            .where(event_table.c.proceeding_id == pid)
            .order_by(event_table.c.seq)
        )
    ]
    triggers = {e["seq"]: e["trigger"] for e in events}
    out = []
    for seq, changes in sorted(_corrections(events).items()):
        fields: dict[str, list[dict[str, Any]]] = {}
        for change in changes:
            fields.setdefault(change["field"], []).append(change)
        for field, made in fields.items():
            out.append(
                {
                    "seq": seq,
                    "trigger": triggers.get(seq),
                    "field": field,
                    "value": made[-1]["after"],
                    "corrected_by": [c["seq"] for c in made],
                }
            )
    return out


def dispute_lineage(store: Store, ref: str, *, reveal: bool = False) -> dict[str, Any]:
    """A dispute with every proceeding it went through, as a tree of hand-offs.

    ``ref`` is the dispute id, or the case number / id of any of its proceedings with a
    ``case:`` prefix (``case:（2026）桥头人调字第3号``).
    """
    with store.read() as conn:
        text = str(ref).strip()
        if text.startswith("case:"):
            pid, _number = resolve(conn, text[5:])
            dispute_id = conn.execute(
                select(proceeding_table.c.dispute_id).where(proceeding_table.c.id == pid)
            ).scalar_one()
        elif text.isascii() and text.isdigit() and len(text) <= 15:
            dispute_id = int(text)
        else:
            raise NotFoundError(
                _("不是纠纷编号：{text}").format(text=repr(text)),
                hint="give the dispute id (纠纷 #N in `case show`) or case:CASE-NUMBER",
            )
        row = conn.execute(select(*_DISPUTE_SHOWN).where(dispute_table.c.id == dispute_id)).first()
        if row is None:
            raise NotFoundError(
                _("没有纠纷 #{dispute}").format(dispute=dispute_id),
                hint=_("用 `mediation case list` 查看案件"),
            )
        dispute = dict(row._mapping)
        from mediation.engine.disputes import group_of, merges_of

        group = group_of(conn, dispute_id)
        merges = merges_of(conn, group)
        merged_records = [
            dict(r._mapping)
            for r in conn.execute(
                select(*_DISPUTE_SHOWN)
                .where(dispute_table.c.id.in_(group[1:]))
                .order_by(dispute_table.c.id)
            )
        ]
        parties = [
            party_view(r, reveal=reveal)
            for r in conn.execute(
                select(party_table)
                .where(party_table.c.dispute_id == dispute_id)
                .order_by(party_table.c.ordinal)
            )
        ]
        procs = [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    proceeding_table.c.id,
                    proceeding_table.c.dispute_id,
                    proceeding_table.c.parent_id,
                    proceeding_table.c.case_number,
                    proceeding_table.c.flow,
                    proceeding_table.c.state,
                    proceeding_table.c.level,
                    proceeding_table.c.outcome,
                    proceeding_table.c.opened_at,
                    proceeding_table.c.closed_at,
                    proceeding_table.c.handoff_reason,
                    organisation_table.c.code.label("organisation"),
                    organisation_table.c.name.label("organisation_name"),
                )
                .join(
                    organisation_table,
                    organisation_table.c.id == proceeding_table.c.organisation_id,
                )
                .where(proceeding_table.c.dispute_id.in_(group))
                .order_by(proceeding_table.c.id)
            )
        ]
    for p in procs:
        flow = get_flow(p["flow"])
        p["flow_label"] = flow.label
        p["state_label"] = flow.state_label(p["state"])
        p["level_label"] = taxonomy.label(taxonomy.LEVELS, p["level"])
        p["outcome_label"] = taxonomy.label(taxonomy.OUTCOMES, p["outcome"])
        p["children"] = [c["id"] for c in procs if c["parent_id"] == p["id"]]
    dispute["dispute_type_label"] = taxonomy.label(taxonomy.DISPUTE_TYPES, dispute["dispute_type"])
    dispute["channel_label"] = taxonomy.label(taxonomy.CHANNELS, dispute["channel"])
    return {
        "dispute": dispute,
        "parties": parties,
        "proceedings": procs,
        "merged_disputes": merged_records,
        "merges": merges,
    }


def list_organisations(store: Store) -> list[dict[str, Any]]:
    from mediation.engine.organisations import retired_at

    with store.read() as conn:
        counts: dict[int, int] = dict(
            conn.execute(
                select(proceeding_table.c.organisation_id, func.count()).group_by(
                    proceeding_table.c.organisation_id
                )
            ).all()
        )
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(organisation_table).order_by(organisation_table.c.id))
        ]
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        r["level_label"] = taxonomy.label(taxonomy.LEVELS, r["level"])
        r["kind_label"] = taxonomy.label(taxonomy.ORGANISATION_KINDS, r["kind"])
        parent = by_id.get(r["parent_id"])
        r["parent"] = parent["code"] if parent else None
        r["cases"] = counts.get(r["id"], 0)
        r["retired_at"] = retired_at(r["periods"])
    return rows


def require_case(store: Store, ref: str) -> tuple[int, int]:
    """(id, version) of case ``ref``; :class:`NotFoundError` when there is none."""
    with store.read() as conn:
        return resolve(conn, ref)


__all__ = [
    "NotFoundError",
    "case_detail",
    "history",
    "list_organisations",
    "next_triggers",
    "require_case",
]
