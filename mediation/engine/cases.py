"""Opening and advancing cases: every change is one database transaction.

``open_case`` records the dispute, its parties, the first proceeding and its first event.
``advance`` fires one trigger: it locks the proceeding row, checks the trigger and its
guards through the flow's shared Machine, changes the state, appends the event, opens,
closes or extends deadlines and performs any hand-off — all of it or none of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, insert, or_, select, text, update

from mediation.domain.calendar import WorkCalendar
from mediation.domain.clock import BUSINESS_TZ, business_date
from mediation.domain.intake import Intake
from mediation.domain.periods import Period, compute_due
from mediation.domain.personal import party_key
from mediation.engine.controller import Controller
from mediation.engine.machine import FlowMachine, load
from mediation.errors import (
    ConflictError,
    FieldProblem,
    NotFoundError,
    TransitionNotAllowed,
    ValidationError,
)
from mediation.storage._sql import Prepared
from mediation.storage._tables import (
    deadline_table,
    dispute_table,
    event_table,
    organisation_table,
    party_table,
    proceeding_table,
)
from mediation.storage.audit import append_event
from mediation.storage.refs import resolve
from mediation.storage.store import Store, calendar_in
from mediation.workflows import DeadlineRule, HandOff, Transition

_P = proceeding_table
_E = event_table
_D = deadline_table
_O = organisation_table

_CASE_ROW = select(
    _P.c.id,
    _P.c.dispute_id,
    _P.c.flow,
    _P.c.state,
    _P.c.version,
    _P.c.organisation_id,
    _P.c.level,
    _P.c.facts,
    _P.c.mediator,
    _P.c.mediators,
    _P.c.case_number,
    _P.c.outcome,
).where(_P.c.id == bindparam("pid"))
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
        raise NotFoundError(f"no case with id {pid}", hint="see `mediation case list`")

    def decoded(value: Any, empty: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else (value or empty)

    return row._replace(facts=decoded(row.facts, {}), mediators=decoded(row.mediators, []))


_UPDATE = Prepared(
    update(_P)
    .where(_P.c.id == bindparam("pid"), _P.c.version == bindparam("v0"))
    .values(
        state=bindparam("state"),
        version=bindparam("v1"),
        updated_at=bindparam("now"),
        facts=bindparam("facts"),
        mediator=bindparam("mediator"),
        mediators=bindparam("mediators"),
        outcome=bindparam("outcome"),
        closed_at=bindparam("closed_at"),
    )
)
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
_INSERT_DEADLINE = Prepared(insert(_D).values({c: bindparam(c) for c in _DEADLINE_COLUMNS}))
# Not ``IN (...)``: expanding parameters cannot be compiled once (see mediation.storage._sql).
_running = or_(_D.c.status == "open", _D.c.status == "paused")
_STOP_DEADLINE = Prepared(
    update(_D)
    .where(
        _D.c.proceeding_id == bindparam("pid"),
        _D.c.kind == bindparam("kind"),
        _running,
    )
    .values(status=bindparam("status"), closed_at=bindparam("now"), paused_on=None)
)
_DUE_OF = Prepared(
    select(_D.c.due, _D.c.paused_on).where(
        _D.c.proceeding_id == bindparam("pid"),
        _D.c.kind == bindparam("kind"),
        _running,
    )
)
_PAUSE_DEADLINE = Prepared(
    update(_D)
    .where(
        _D.c.proceeding_id == bindparam("pid"),
        _D.c.kind == bindparam("kind"),
        _D.c.status == "open",
    )
    .values(status="paused", paused_on=bindparam("today"))
)
_PAUSED = Prepared(
    select(_D.c.due, _D.c.paused_on).where(
        _D.c.proceeding_id == bindparam("pid"),
        _D.c.kind == bindparam("kind"),
        _D.c.status == "paused",
    )
)
_RESUME_DEADLINE = Prepared(
    update(_D)
    .where(
        _D.c.proceeding_id == bindparam("pid"),
        _D.c.kind == bindparam("kind"),
        _D.c.status == "paused",
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
        reminded_at=case((_D.c.due == bindparam("due"), _D.c.reminded_at), else_=None),
        overdue_at=case((_D.c.due == bindparam("due"), _D.c.overdue_at), else_=None),
    )
)
_EXTEND_DEADLINE = Prepared(
    update(_D)
    .where(
        _D.c.proceeding_id == bindparam("pid"),
        _D.c.kind == bindparam("kind"),
        _D.c.status == "open",
    )
    # The agreed date is what the parties consented to: no longer provisional.
    .values(
        due=bindparam("due"),
        extensions=_D.c.extensions + 1,
        provisional=False,
        reminded_at=None,
        overdue_at=None,
    )
)
_NEXT_SERIAL = Prepared(
    text(
        "INSERT INTO case_counter (organisation_id, year, last) VALUES (:org, :year, 1) "
        "ON CONFLICT (organisation_id, year) DO UPDATE SET last = case_counter.last + 1 "
        "RETURNING last"
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
    insert(_P).values({c: bindparam(c) for c in _PROCEEDING_COLUMNS}).returning(_P.c.id)
)
_ORG_BY_CODE = Prepared(
    select(_O.c.id, _O.c.code, _O.c.level, _O.c.parent_id, _O.c.name).where(
        _O.c.code == bindparam("code")
    )
)
_ORG_BY_ID = Prepared(
    select(_O.c.id, _O.c.code, _O.c.level, _O.c.parent_id, _O.c.name).where(
        _O.c.id == bindparam("id")
    )
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


@dataclass
class Advanced:
    """The result of firing one trigger."""

    proceeding_id: int
    case_number: str
    trigger: str
    trigger_label: str
    from_state: str
    to_state: str
    to_state_label: str
    seq: int
    deadlines_started: list[dict[str, Any]] = field(default_factory=list)
    deadlines_stopped: list[dict[str, Any]] = field(default_factory=list)
    handed_off_to: Opened | None = None


def case_number(year: int, org_code: str, case_word: str, serial: int) -> str:
    """（2026）城关人调字第12号 (domain.md §5: year, committee code, serial per year)."""
    return f"（{year}）{org_code}{case_word}字第{serial}号"


def _org(conn: Connection, *, code: str | None = None, id: int | None = None) -> Any:
    if code is not None:
        row = _ORG_BY_CODE(conn, {"code": code}).first()
        if row is None:
            raise NotFoundError(
                f"no organisation with code {code!r}",
                hint="list them with `mediation org list`; add one with `mediation org add`",
            )
        return row
    return _ORG_BY_ID(conn, {"id": id}).one()


def _start_proceeding(
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
    today = business_date(now)
    serial = _NEXT_SERIAL(conn, {"org": org.id, "year": today.year}).scalar_one()
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
    started = _start_deadlines(
        conn,
        flow.starts.get(entry_trigger, ()),
        pid,
        today,
        cal,
        org_id=org.id,
        flow=flow.flow.name,
    )
    return Opened(dispute_id, pid, number, state, flow.flow.state_label(state), started)


_ORG_PERIODS = Prepared(select(_O.c.periods).where(_O.c.id == bindparam("id")))


def local_period(conn: Connection, org_id: int, flow: str, rule: DeadlineRule) -> Period:
    """The rule's period, or the organisation's own where the law leaves it to local rules."""
    if not rule.configurable:
        return rule.period
    raw = _ORG_PERIODS(conn, {"id": org_id}).scalar()
    periods = json.loads(raw) if isinstance(raw, str) else (raw or {})
    local = periods.get(f"{flow}.{rule.kind}")
    return Period(int(local[0]), local[1]) if local else rule.period


def _start_deadlines(
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


def open_case(store: Store, intake: Intake, *, actor: str, now: datetime) -> Opened:
    """Record a new dispute and open its first proceeding, in one transaction."""
    cal = store.calendar()
    with store.write() as conn:
        return open_in(conn, intake, actor=actor, now=now, cal=cal)


def open_in(
    conn: Connection, intake: Intake, *, actor: str, now: datetime, cal: WorkCalendar
) -> Opened:
    """:func:`open_case` inside a transaction the caller holds (bulk imports)."""
    flow = load(intake.flow)
    org = _org(conn, code=intake.organisation)
    dispute_id = _INSERT_DISPUTE(
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
            "party_key": party_key(intake.parties),
        },
    ).scalar_one()
    for ordinal, party in enumerate(intake.parties):
        _INSERT_PARTY(conn, {**party.__dict__, "dispute_id": dispute_id, "ordinal": ordinal})
    return _start_proceeding(
        conn,
        dispute_id=dispute_id,
        org=org,
        flow=flow,
        state=flow.flow.initial,
        entry_trigger="open",
        actor=actor,
        now=now,
        application_mode=intake.application_mode,
        payload={"channel": intake.channel, "application_mode": intake.application_mode},
        cal=cal,
    )


def _trigger_list(flow: FlowMachine, state: str) -> str:
    seen: dict[str, str] = {}
    for t in flow.allowed(state):
        seen.setdefault(t.trigger, t.label)
    if not seen:
        return "（无：本程序已结束）"
    return "、".join(f"{trig}（{label}）" for trig, label in seen.items())


def _last_change(conn: Connection, pid: int) -> str:
    row = conn.execute(
        select(_E.c.actor, _E.c.trigger, _E.c.occurred_at)
        .where(_E.c.proceeding_id == pid)
        .order_by(_E.c.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return ""
    at = row.occurred_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return f"{row.actor} 于 {at} 执行了 {row.trigger}"


def _missing(transition: Transition, payload: dict[str, Any]) -> list[FieldProblem]:
    from mediation.domain.intake import text_problem

    problems = []
    for name, value in payload.items():
        for item in value if isinstance(value, list) else [value]:
            bad = text_problem(item) if isinstance(item, str) else None
            if bad:
                problems.append(FieldProblem(name, bad, "remove it (retype the text)"))
                break
    for name in transition.requires:
        value = payload.get(name)
        if value is None or (isinstance(value, (str, list, dict)) and not value):
            problems.append(
                FieldProblem(
                    name,
                    "缺少必填字段",
                    f"give it with --set {name}=... or in --data FILE for {transition.trigger}",
                )
            )
        elif not _is_text(value):
            problems.append(
                FieldProblem(name, f"应为文本，实为 {type(value).__name__}", "write it as text")
            )
    return problems


def _is_text(value: Any) -> bool:
    """Payload values are text, a list of texts (names), or a date from a TOML file."""
    if isinstance(value, list):
        return all(isinstance(v, str) and len(v) <= 2000 for v in value)
    if isinstance(value, date):
        return True
    return isinstance(value, str) and len(value) <= 20000


def advance(
    store: Store,
    ref: str | int,
    trigger: str,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
    payload: dict[str, Any] | None = None,
    expect_version: int | None = None,
) -> Advanced:
    """Fire ``trigger`` on the case ``ref`` in one transaction.

    :param expect_version: the version the caller saw; when the case changed since and the
        trigger is no longer allowed, the caller lost a race: :class:`ConflictError`.
    :raises TransitionNotAllowed: naming the current state and the triggers allowed now.
    :raises ValidationError: when the payload lacks a field the transition requires.
    """
    cal = store.calendar()
    with store.write() as conn:
        return advance_in(
            conn,
            ref,
            trigger,
            actor=actor,
            now=now,
            note=note,
            payload=payload,
            expect_version=expect_version,
            cal=cal,
        )


def advance_in(
    conn: Connection,
    ref: str | int,
    trigger: str,
    *,
    actor: str,
    now: datetime,
    cal: WorkCalendar,
    note: str | None = None,
    payload: dict[str, Any] | None = None,
    expect_version: int | None = None,
) -> Advanced:
    """:func:`advance` inside a transaction the caller holds (the scheduler queues its
    notice in the same transaction as the consequence)."""
    payload = dict(payload or {})
    if isinstance(ref, int):
        pid = ref
    else:
        pid, _ = resolve(conn, ref)
    row = case_row(conn, pid, lock=True)
    flow = load(row.flow)
    state = row.state
    transition = flow.transition(trigger, state)
    if transition is None:
        label = flow.flow.state_label(state)
        allowed = _trigger_list(flow, state)
        if expect_version is not None and row.version != expect_version:
            raise ConflictError(
                f"冲突：案件 {row.case_number} 在您操作期间已被他人变更"
                f"（{_last_change(conn, pid)}），现为「{label}」，{trigger} 不再可用",
                hint=f"reload with `mediation case show`; allowed now: {allowed}",
            )
        known = any(t.trigger == trigger for t in flow.flow.transitions)
        what = "不能在此状态执行" if known else "不是本流程的操作"
        raise TransitionNotAllowed(
            f"案件 {row.case_number} 当前状态为「{label}」（{state}），{trigger} {what}",
            hint=f"allowed now: {allowed}",
        )
    problems = _missing(transition, payload)
    if note:
        from mediation.domain.intake import text_problem

        bad = text_problem(note)
        if bad:
            problems.append(FieldProblem("--note", bad, "remove it (retype the text)"))
    if problems:
        raise ValidationError(problems, source=f"{trigger} 的数据")
    today = business_date(now)
    facts = dict(row.facts)
    ctl = Controller(
        state=state,
        trigger=trigger,
        proceeding=row._asdict(),
        payload=payload,
        conn=conn,
        now=now,
        today=today,
        actor=actor,
        rules=flow.rules,
        cal=cal,
        facts=facts,
    )
    if not flow.fire(ctl):
        raise TransitionNotAllowed(
            f"案件 {row.case_number} 当前状态为「{flow.flow.state_label(state)}」（{state}），"
            f"{transition.label}（{trigger}）的条件不满足：" + "；".join(ctl.failures),
            hint=f"correct the data and try again; allowed now: {_trigger_list(flow, state)}",
        )
    dest = ctl.state
    dest_state = flow.flow.state(dest)
    if payload:
        facts[trigger] = payload
    mediators = ctl.updates.get("mediators")
    if mediators is None:
        mediators = row.mediators
    v1 = row.version + 1
    changed = _UPDATE(
        conn,
        {
            "pid": pid,
            "v0": row.version,
            "state": dest,
            "v1": v1,
            "now": now,
            "facts": facts,
            "mediator": ctl.updates.get("mediator", row.mediator),
            "mediators": mediators,
            "outcome": transition.outcome or row.outcome,
            "closed_at": now if dest_state.final else None,
        },
    ).rowcount
    if changed != 1:  # only possible if something bypassed the row lock
        raise ConflictError(
            f"冲突：案件 {row.case_number} 已被他人变更", hint="run the command again"
        )
    result = Advanced(
        proceeding_id=pid,
        case_number=row.case_number,
        trigger=trigger,
        trigger_label=transition.label,
        from_state=state,
        to_state=dest,
        to_state_label=dest_state.label,
        seq=v1,
    )
    event_payload = payload
    for kind, new_due in ctl.deadline_changes:
        old_due = _DUE_OF(conn, {"pid": pid, "kind": kind}).scalar()
        _EXTEND_DEADLINE(conn, {"pid": pid, "kind": kind, "due": new_due})
        event_payload = {**event_payload, "previous_due": str(old_due)}
    for rule in flow.flow.deadlines:
        if state in rule.runs_in and dest not in rule.runs_in:
            result.deadlines_stopped.append(_stop_deadline(conn, rule, pid, today, now))
    for rule in flow.pauses.get(trigger, ()):
        if _PAUSE_DEADLINE(conn, {"pid": pid, "kind": rule.kind, "today": today}).rowcount:
            event_payload = {**event_payload, "deadline_paused": rule.kind}
    for rule in flow.resumes.get(trigger, ()):
        resumed = _resume_deadline(conn, rule, pid, today, cal)
        if resumed:
            event_payload = {**event_payload, "deadline_resumed": resumed}
    if transition.handoff is not None:
        result.handed_off_to = _hand_off(
            conn, transition.handoff, row, payload, facts, actor=actor, now=now, cal=cal
        )
        event_payload = {**event_payload, "handed_off_to": result.handed_off_to.case_number}
    append_event(
        conn,
        {
            "dispute_id": row.dispute_id,
            "proceeding_id": pid,
            "seq": v1,
            "trigger": trigger,
            "from_state": state,
            "to_state": dest,
            "actor": actor,
            "note": note,
            "payload": event_payload,
            "occurred_at": now,
        },
    )
    result.deadlines_started = _start_deadlines(
        conn,
        flow.starts.get(trigger, ()),
        pid,
        today,
        cal,
        org_id=row.organisation_id,
        flow=flow.flow.name,
    )
    return result


def _resume_deadline(
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


def _stop_deadline(
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


def _hand_off(
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
    here = _org(conn, id=row.organisation_id)
    if handoff.organisation == "parent":
        target = _org(conn, id=here.parent_id)
    else:
        target = _org(conn, code=str(payload.get("organisation", "")))
    reason = str(payload.get("reason") or "")
    return _start_proceeding(
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


def reassign(
    store: Store,
    ref: str | int,
    mediators: list[str],
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Give a running case to other mediators (a supervisor's decision), recorded as a
    ``reassign`` event with the previous mediators; the case's state does not change.

    :raises TransitionNotAllowed: when the case has ended.
    :raises ValidationError: without a mediator or a reason.
    """
    names = [m.strip() for m in mediators if m.strip()]
    problems = []
    if not names:
        problems.append(FieldProblem("--mediator", "缺少调解员", "name at least one mediator"))
    if not reason.strip():
        problems.append(FieldProblem("--reason", "缺少理由", "say why the case is reassigned"))
    if problems:
        raise ValidationError(problems, source="reassign")
    with store.write() as conn:
        row = lock_running(conn, ref, refused="不能改派", hint="only running cases are reassigned")
        previous = list(row.mediators)
        record_in_place(
            conn,
            row,
            "reassign",
            actor=actor,
            note=reason,
            payload={"mediators": names, "previous": previous},
            now=now,
            changes={"mediator": names[0], "mediators": names},
        )
    return {"case_number": row.case_number, "mediators": names, "previous": previous}


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
        update(_P)
        .where(_P.c.id == row.id)
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
