"""Opening proceedings: recording a dispute and its parties, numbering a case, starting
its first proceeding or the next one of a hand-off (:class:`Opened`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text

from mediation.domain.calendar import WorkCalendar
from mediation.domain.clock import business_date
from mediation.domain.intake import Intake
from mediation.domain.personal import party_key
from mediation.engine.clocks import start_deadlines
from mediation.engine.machine import FlowMachine, load
from mediation.engine.organisations import check_receives
from mediation.errors import NotFoundError
from mediation.i18n import _
from mediation.storage._sql import Prepared
from mediation.storage._tables import (
    dispute_table,
    organisation_table,
    party_table,
    proceeding_table,
)
from mediation.storage.audit import append_event, new_dispute
from mediation.storage.record_rows import (
    CLOCKS_KEY,
    PARTIES_KEY,
    clocks_digest,
    dispute_parties_digest,
)
from mediation.storage.secret import installation_secret
from mediation.workflows import Flow, HandOff

_NEXT_SERIAL = Prepared(
    text(
        "INSERT INTO case_counter (organisation_id, year, word, last)"
        " VALUES (:org, :year, :word, 1)"
        " ON CONFLICT (organisation_id, year, word) DO UPDATE SET last = case_counter.last + 1"
        " RETURNING last"
    )
)
_DISPUTE_COLUMNS = (
    "title",
    "summary",
    "claims",
    "dispute_type",
    "channel",
    "referring_organ",
    "referral_ref",
    "risk_level",
    "received_at",
    "created_at",
    "created_by",
    "party_key",
)
_INSERT_DISPUTE = Prepared(
    insert(dispute_table)
    .values({c: bindparam(c) for c in _DISPUTE_COLUMNS})
    .returning(dispute_table.c.id)
)
_PARTY_COLUMNS = (
    "dispute_id",
    "role",
    "kind",
    "ordinal",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_type",
    "id_number",
    "phone",
    "address",
    "occupation",
    "legal_representative",
)
_INSERT_PARTY = Prepared(insert(party_table).values({c: bindparam(c) for c in _PARTY_COLUMNS}))
_PROCEEDING_COLUMNS = (
    "dispute_id",
    "parent_id",
    "handoff_reason",
    "flow",
    "state",
    "organisation_id",
    "level",
    "case_year",
    "case_word",
    "case_serial",
    "case_number",
    "application_mode",
    "mediator",
    "mediators",
    "facts",
    "opened_at",
    "updated_at",
    "version",
)
_INSERT_PROCEEDING = Prepared(
    insert(proceeding_table)
    .values({c: bindparam(c) for c in _PROCEEDING_COLUMNS})
    .returning(proceeding_table.c.id)
)
_ORG_BY_CODE = Prepared(
    select(
        organisation_table.c.id,
        organisation_table.c.code,
        organisation_table.c.level,
        organisation_table.c.parent_id,
        organisation_table.c.name,
        organisation_table.c.periods,
        organisation_table.c.court_code,
    ).where(organisation_table.c.code == bindparam("code"))
)
_ORG_BY_ID = Prepared(
    select(
        organisation_table.c.id,
        organisation_table.c.code,
        organisation_table.c.level,
        organisation_table.c.parent_id,
        organisation_table.c.name,
        organisation_table.c.periods,
        organisation_table.c.court_code,
    ).where(organisation_table.c.id == bindparam("id"))
)


@dataclass
class Opened:
    """The result of opening a case."""

    dispute_id: int
    proceeding_id: int
    case_number: str
    state: str
    state_label: str
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    #: Open cases of the same parties and dispute type registered before
    #: (mediation.engine.duplicates): case number and organisation code of each.
    duplicates: list[dict[str, str]] = field(default_factory=list)


def case_number(year: int, org_code: str, case_word: str, serial: int) -> str:
    """（2026）城关人调字第12号 (domain.md §5: year, committee code, serial per year)."""
    return f"（{year}）{org_code}{case_word}字第{serial}号"


def court_case_number(year: int, court_code: str, case_type: str, serial: int) -> str:
    """（2026）浙0681民初123号: a court's own case (year, court code, type of case, serial)."""
    return f"（{year}）{court_code}{case_type}{serial}号"


def register_word(flow: Flow) -> str:
    """The register a flow's cases are numbered in, each from 1 per organisation and year:
    a court's type of case (民初, 民特) or else the case number's word (人调, 医调, 委调 ...).
    A court's case opened before its court code was set keeps the court's register, so the
    number the court's documents build for it later (documents.court) is its own."""
    return flow.court_case_type or flow.case_word


def record_dispute(conn: Connection, intake: Intake, *, actor: str, now: datetime) -> int:
    """Record the dispute of ``intake`` and its parties; return the dispute's id."""
    dispute_id: int = _INSERT_DISPUTE(
        conn,
        {
            "title": intake.title,
            "summary": intake.summary,
            "claims": intake.claims,
            "dispute_type": intake.dispute_type,
            "channel": intake.channel,
            "referring_organ": intake.referring_organ,
            "referral_ref": intake.referral_ref,
            "risk_level": intake.risk_level,
            "received_at": intake.received_at or now,
            "created_at": now,
            "created_by": actor,
            "party_key": party_key(intake.parties, installation_secret(conn)),
        },
    ).scalar_one()
    new_dispute(conn, dispute_id)
    for ordinal, party in enumerate(intake.parties):
        _INSERT_PARTY(conn, {**party.__dict__, "dispute_id": dispute_id, "ordinal": ordinal})
    return dispute_id


def organisation_row(conn: Connection, *, code: str | None = None, id: int | None = None) -> Any:
    if code is not None:
        row = _ORG_BY_CODE(conn, {"code": code}).first()
        if row is None:
            raise NotFoundError(
                _("没有代码为 {code} 的组织").format(code=repr(code)),
                hint=_("用 `mediation org list` 查看已登记的组织；用 `mediation org add` 登记"),
            )
        return row
    return _ORG_BY_ID(conn, {"id": id}).one()


def start_proceeding(
    conn: Connection,
    *,
    dispute_id: int,
    org: Any,
    flow: FlowMachine,
    state: str,
    entry_trigger: str,
    actor: str,
    now: datetime,
    application_mode: str,
    payload: dict[str, Any],
    cal: WorkCalendar,
    parent_id: int | None = None,
    handoff_reason: str | None = None,
    facts: dict[str, Any] | None = None,
) -> Opened:
    check_receives(org)
    today = business_date(now)
    word = register_word(flow.flow)
    serial = _NEXT_SERIAL(conn, {"org": org.id, "year": today.year, "word": word}).scalar_one()
    if flow.flow.court_case_type and org.court_code:
        number = court_case_number(today.year, org.court_code, flow.flow.court_case_type, serial)
    else:
        number = case_number(today.year, org.code, flow.flow.case_word, serial)
    pid = _INSERT_PROCEEDING(
        conn,
        {
            "dispute_id": dispute_id,
            "parent_id": parent_id,
            "handoff_reason": handoff_reason,
            "flow": flow.flow.name,
            "state": state,
            "organisation_id": org.id,
            "level": org.level,
            "case_year": today.year,
            "case_word": word,
            "case_serial": serial,
            "case_number": number,
            "application_mode": application_mode,
            "mediator": None,
            "mediators": [],
            "facts": facts or {},
            "opened_at": now,
            "updated_at": now,
            "version": 1,
        },
    ).scalar_one()
    started = start_deadlines(
        conn,
        flow.starts.get(entry_trigger, ()),
        pid,
        today,
        cal,
        org_id=org.id,
        flow=flow.flow.name,
    )
    # What the chain vouches for (mediation.storage.record_rows): the clocks the case
    # starts with, and, when the dispute is registered, its parties' particulars.
    payload = {**payload, CLOCKS_KEY: clocks_digest(conn, pid)}
    if parent_id is None:
        payload[PARTIES_KEY] = dispute_parties_digest(conn, dispute_id)
    append_event(
        conn,
        {
            "dispute_id": dispute_id,
            "proceeding_id": pid,
            "seq": 1,
            "trigger": entry_trigger,
            "from_state": None,
            "to_state": state,
            "actor": actor,
            "note": handoff_reason,
            "payload": payload,
            "occurred_at": now,
        },
    )
    return Opened(dispute_id, pid, number, state, flow.flow.state_label(state), started)


def hand_off(
    conn: Connection,
    handoff: HandOff,
    row: Any,
    payload: dict[str, Any],
    facts: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    cal: WorkCalendar,
) -> Opened:
    """Open the next proceeding of the same dispute, linked to ``row``."""
    here = organisation_row(conn, id=row.organisation_id)
    if handoff.organisation == "parent":
        target = organisation_row(conn, id=here.parent_id)
    else:
        target = organisation_row(conn, code=str(payload.get("organisation", "")))
    reason = str(payload.get("reason") or "")
    return start_proceeding(
        conn,
        dispute_id=row.dispute_id,
        org=target,
        flow=load(handoff.flow),
        state=handoff.entry_state,
        entry_trigger=handoff.entry_trigger,
        actor=actor,
        now=now,
        application_mode="referral",
        payload={"from_case": row.case_number, "from_organisation": here.code, "reason": reason},
        parent_id=row.id,
        handoff_reason=reason,
        cal=cal,
        # What was established so far (the agreement, the sessions' outcome) travels with
        # the case: the next organisation does not re-type it.
        facts={"carried_over": {"from_case": row.case_number, **facts}},
    )
