"""Opening and advancing cases: every change is one database transaction.

``open_case`` records the dispute, its parties, the first proceeding and its first event.
``advance`` fires one trigger: it locks the proceeding row, checks the trigger and its
guards through the flow's shared Machine, changes the state, appends the event, opens,
closes or extends deadlines and performs any hand-off — all of it or none of it.

The parts they share live beside this module: :mod:`.opening` (recording a dispute,
numbering a case, starting a proceeding, hand-offs), :mod:`.clocks` (the deadlines a
transition starts, stops, pauses, resumes or extends) and :mod:`.caserow` (a case's row,
and changes that leave the case in its state). What callers use is importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from mediation.domain.calendar import WorkCalendar
from mediation.domain.clock import BUSINESS_TZ, business_date
from mediation.domain.intake import Intake
from mediation.engine.caserow import case_row, lock_running, record_in_place
from mediation.engine.clocks import (
    extend_deadline,
    local_period,
    pause_deadline,
    resume_deadline,
    start_deadlines,
    stop_deadline,
)
from mediation.engine.controller import Controller
from mediation.engine.declared import HAPPENED_AT, as_payload, check_declared, check_recent
from mediation.engine.machine import FlowMachine, load
from mediation.engine.opening import (
    Opened,
    case_number,
    hand_off,
    organisation_row,
    record_dispute,
    start_proceeding,
)
from mediation.errors import ConflictError, FieldProblem, TransitionNotAllowed, ValidationError
from mediation.i18n import _
from mediation.storage._sql import Prepared
from mediation.storage._tables import event_table, proceeding_table
from mediation.storage.audit import append_event
from mediation.storage.record_rows import CLOCKS_KEY, clocks_digest
from mediation.storage.refs import resolve
from mediation.storage.store import Store
from mediation.workflows import Transition

__all__ = [
    "Advanced",
    "Opened",
    "advance",
    "advance_in",
    "case_number",
    "case_row",
    "local_period",
    "lock_running",
    "open_case",
    "open_in",
    "payload_problems",
    "reassign",
    "record_in_place",
]


_UPDATE = Prepared(
    update(proceeding_table)
    .where(proceeding_table.c.id == bindparam("pid"), proceeding_table.c.version == bindparam("v0"))
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


@dataclass
class Advanced:
    """The result of firing one trigger."""

    proceeding_id: int
    case_number: str
    flow: str
    trigger: str
    trigger_label: str
    from_state: str
    to_state: str
    to_state_label: str
    seq: int
    deadlines_started: list[dict[str, Any]] = field(default_factory=list)
    deadlines_stopped: list[dict[str, Any]] = field(default_factory=list)
    handed_off_to: Opened | None = None


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
    org = organisation_row(conn, code=intake.organisation)
    dispute_id = record_dispute(conn, intake, actor=actor, now=now)
    return start_proceeding(
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
        select(event_table.c.actor, event_table.c.trigger, event_table.c.occurred_at)
        .where(event_table.c.proceeding_id == pid)
        .order_by(event_table.c.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return ""
    at = row.occurred_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return f"{row.actor} 于 {at} 执行了 {row.trigger}"


def payload_problems(transition: Transition, payload: dict[str, Any]) -> list[FieldProblem]:
    """What is wrong with a step's data: a text that cannot be stored, a required field
    missing or not text (``advance``, and a correction of the recorded step)."""
    from mediation.domain.intake import text_problem

    problems = []
    for name, value in payload.items():
        for item in value if isinstance(value, list) else [value]:
            bad = text_problem(item) if isinstance(item, str) else None
            if bad:
                problems.append(FieldProblem(name, bad, _("请删去（重新输入该文字）")))
                break
    for name in transition.requires:
        value = payload.get(name)
        if value is None or (isinstance(value, (str, list, dict)) and not value):
            problems.append(
                FieldProblem(
                    name,
                    "缺少必填字段",
                    _("用 --set {name}=... 或在 --data 文件中为 {trigger} 给出").format(
                        name=name, trigger=transition.trigger
                    ),
                )
            )
        elif not _is_text(value):
            problems.append(
                FieldProblem(name, f"应为文本，实为 {type(value).__name__}", _("请写成文本"))
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
    happened_at: datetime | None = None,
) -> Advanced:
    """Fire ``trigger`` on the case ``ref`` in one transaction.

    :param expect_version: the version the caller saw; when the case changed since and the
        trigger is no longer allowed, the caller lost a race: :class:`ConflictError`.
    :param happened_at: when the step happened, if not now (:mod:`.declared`): kept in the
        event, printed by the documents; the step's clocks count from its day.
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
            happened_at=happened_at,
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
    happened_at: datetime | None = None,
) -> Advanced:
    """:func:`advance` inside a transaction the caller holds (the scheduler queues its
    notice in the same transaction as the consequence).

    :raises ValidationError: also for a ``happened_at`` in the future or before the case's
        previous step.
    :raises TransitionNotAllowed: also for a ``happened_at`` more than 7 days ago when
        ``actor`` is not a supervisor.
    """
    payload = dict(payload or {})
    if isinstance(ref, int):
        pid = ref
    else:
        pid, _number = resolve(conn, ref)
    row = case_row(conn, pid, lock=True)
    if row.updated_at is not None and now < row.updated_at:
        # A clock set back (a wrong MEDIATION_NOW, a skewed machine) would write history
        # out of order: an event dated before the case's last change.
        raise ValidationError(
            [
                FieldProblem(
                    "时间",
                    f"本次操作的时间 {now.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M} 早于本案上一次"
                    f"变更的时间 {row.updated_at.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}",
                    _("请检查本机时钟（以及 MEDIATION_NOW，如已设置）"),
                )
            ],
            source=row.case_number,
        )
    if happened_at is not None:
        check_declared(conn, pid, happened_at, now=now, source=row.case_number)
        check_recent(conn, actor, happened_at, now=now)
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
                hint=_("请用 `mediation case show` 重新查看；现在可以执行：{allowed}").format(
                    allowed=allowed
                ),
            )
        known = any(t.trigger == trigger for t in flow.flow.transitions)
        what = "不能在此状态执行" if known else "不是本流程的操作"
        raise TransitionNotAllowed(
            f"案件 {row.case_number} 当前状态为「{label}」（{state}），{trigger} {what}",
            hint=_("现在可以执行：{allowed}").format(allowed=allowed),
        )
    problems = payload_problems(transition, payload)
    if note:
        from mediation.domain.intake import text_problem

        bad = text_problem(note)
        if bad:
            problems.append(FieldProblem("--note", bad, _("请删去（重新输入该文字）")))
    if problems:
        raise ValidationError(problems, source=f"{trigger} 的数据")
    # The law counts from when things happened: a declared step's clocks, its guards'
    # "today" and the case's end are its own day, not the day it was recorded.
    moment = happened_at or now
    today = business_date(moment)
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
            hint=_("请更正数据后重试；现在可以执行：{allowed}").format(
                allowed=_trigger_list(flow, state)
            ),
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
            "closed_at": moment if dest_state.final else None,
        },
    ).rowcount
    if changed != 1:  # only possible if something bypassed the row lock
        raise ConflictError(f"冲突：案件 {row.case_number} 已被他人变更", hint=_("请重新运行命令"))
    result = Advanced(
        proceeding_id=pid,
        case_number=row.case_number,
        flow=row.flow,
        trigger=trigger,
        trigger_label=transition.label,
        from_state=state,
        to_state=dest,
        to_state_label=dest_state.label,
        seq=v1,
    )
    event_payload = payload
    if happened_at is not None:
        event_payload = {**payload, HAPPENED_AT: as_payload(happened_at)}
    for kind, new_due in ctl.deadline_changes:
        old_due = extend_deadline(conn, pid, kind, new_due, rule=flow.rules.get(kind), cal=cal)
        event_payload = {**event_payload, "previous_due": str(old_due)}
    for rule in flow.flow.deadlines:
        if state in rule.runs_in and dest not in rule.runs_in:
            result.deadlines_stopped.append(
                stop_deadline(conn, rule, pid, today, now, trigger=trigger)
            )
    for rule in flow.pauses.get(trigger, ()):
        if pause_deadline(conn, pid, rule.kind, today):
            event_payload = {**event_payload, "deadline_paused": rule.kind}
    for rule in flow.resumes.get(trigger, ()):
        resumed = resume_deadline(conn, rule, pid, today, cal)
        if resumed:
            event_payload = {**event_payload, "deadline_resumed": resumed}
    if transition.handoff is not None:
        result.handed_off_to = hand_off(
            conn, transition.handoff, row, payload, facts, actor=actor, now=now, cal=cal
        )
        event_payload = {**event_payload, "handed_off_to": result.handed_off_to.case_number}
    for rule in flow.starts.get(trigger, ()):
        # A recorded day (收到书面答复之日), checked by the trigger's guards, or today.
        recorded = payload.get(rule.starts_from) if rule.starts_from else None
        begins = date.fromisoformat(str(recorded)) if recorded else today
        result.deadlines_started += start_deadlines(
            conn,
            (rule,),
            pid,
            begins,
            cal,
            org_id=row.organisation_id,
            flow=flow.flow.name,
        )
    clocks_moved = (
        ctl.deadline_changes
        or result.deadlines_started
        or any(s.get("status") for s in result.deadlines_stopped)
        or event_payload.get("deadline_paused")
        or event_payload.get("deadline_resumed")
    )
    if clocks_moved:
        # The case's clocks as this step leaves them (mediation.storage.record_rows).
        event_payload = {**event_payload, CLOCKS_KEY: clocks_digest(conn, pid)}
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
    return result


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
        problems.append(FieldProblem("--mediator", "缺少调解员", _("至少指定一名调解员")))
    if not reason.strip():
        problems.append(FieldProblem("--reason", "缺少理由", _("请说明改派的理由")))
    if problems:
        raise ValidationError(problems, source="case reassign")
    with store.write() as conn:
        row = lock_running(conn, ref, refused="不能改派", hint=_("只有进行中的案件可以改派"))
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
