"""Correcting a recorded step: ``case correct CASE SEQ --set FIELD=VALUE --reason …``.

A mistyped place of a session, a wrong figure in an agreement's terms: the step stays as
it was recorded, and a ``correct`` event is appended beside it. It is an in-place action
(the case's state does not change; ``mediation.storage.consistency.IN_PLACE``), in the
hash chain like any event, and says who corrected what, when, why, and each field's old
and new value. Whatever reads the record's data (the documents, ``case show``) reads the
corrected values (:func:`corrected`): the latest correction of a field wins.

What may be corrected: the fields the event's trigger takes (``Transition.requires`` and
``.optional``), checked as ``case advance`` checks them (an unknown key is refused with
the likely one meant, a choice by its code or label), except the fields the engine acted
on when the step was recorded (:func:`fixed_fields`): they decided whether the step was
allowed, where the case went, or a deadline, and a correction cannot undo that.

A correction that would change a document already sealed is refused by the API, which
builds the documents (:meth:`mediation.Mediation.correct`): a sealed document is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from mediation.domain.clock import business_date
from mediation.domain.intake import text_problem
from mediation.engine.caserow import case_row, record_in_place
from mediation.engine.cases import payload_problems
from mediation.engine.controller import Controller
from mediation.engine.declared import CORRECT
from mediation.engine.guards import GUARDS
from mediation.engine.machine import FlowMachine, load
from mediation.engine.payloads import checked_payload
from mediation.errors import FieldProblem, NotFoundError, UsageError, ValidationError
from mediation.i18n import _
from mediation.storage._tables import event_table
from mediation.workflows import Transition

#: Guards that only check the values of the step's own fields: run again on the
#: corrected values.
VALUE_CHECKS = frozenset(
    {
        "selection_is_known",
        "performance_is_known",
        "exclusion_is_known",
        "mediation_result_is_known",
        "performance_deadline_is_date",
        "prevention_is_known",
        "amount_is_valid",
        "settlement_is_known",
        "accepted_elsewhere_already",
    }
)

#: The fields each other guard and effect acted on when the step was recorded (a party
#: named, a date a clock counts from, the mediators assigned): they stay as recorded.
#: Every guard and effect is listed here or in :data:`VALUE_CHECKS` (a test checks).
ACTED_ON: dict[str, tuple[str, ...]] = {
    "names_a_party": ("party",),
    "names_the_other_party": ("party",),
    "both_sides_consent": ("consented_by",),
    "session_kind_is_known": ("kind",),
    "applied_within_ten_working_days": ("determination_received_on", "applied_on"),
    "session_at_least_three_days_ahead": ("session_on",),
    "new_due_is_later": ("new_due",),
    "service_day_is_valid": ("served_on",),
    "has_parent_committee": (),
    "period_expired": (),
    "not_mediated_elsewhere": (),
    "agreement_in_effect": (),
    "within_confirmation_window": (),
    "within_request_window": (),
    "extension_available": (),
    "mediators_are_people": ("mediators",),
    "parties_notified_three_days_ahead": ("session_on",),
    "notified_session_reached": (),
    "within_three_days_of_failure": (),
    "objection_in_time": ("objector_role", "known_on"),
    "set_mediators": ("mediators",),
    "designate_mediators": ("mediators",),
    "record_agreement": (),
    "extend_deadline": ("new_due",),
}

_WHY = {
    "kind": "会谈的类别决定了它是调查记录还是调解笔录",
    "mediators": "调解员已据此指派（改派请用 mediation case reassign）",
    "organisation": "案件已据此移交",
}


def fixed_fields(flow: FlowMachine, transition: Transition) -> dict[str, str]:
    """The fields of ``transition`` a correction may not change, each with why (Chinese)."""
    fixed: dict[str, str] = {}
    for name in (*transition.guards, *transition.effects):
        for field in ACTED_ON.get(name, ()):
            fixed.setdefault(field, _WHY.get(field, "登记该步骤时已据此审查并办理"))
    for rule in flow.starts.get(transition.trigger, ()):
        if rule.starts_from:
            fixed.setdefault(rule.starts_from, f"{rule.label}已从这一日起算")
    if transition.handoff is not None and transition.handoff.organisation == "payload":
        fixed.setdefault("organisation", _WHY["organisation"])
    return {f: why for f, why in fixed.items() if f in transition.fields}


def corrected(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` (rows with ``seq``, ``trigger`` and ``payload``, oldest first) as their
    data now reads: each corrected step's payload with the corrected values (the latest
    correction of a field wins), the correction events left out."""
    values: dict[int, dict[str, Any]] = {}
    for e in events:
        if e["trigger"] == CORRECT:
            target = e["payload"].get("seq")
            for field, change in (e["payload"].get("changed") or {}).items():
                values.setdefault(target, {})[field] = change.get("after")
    out = []
    for e in events:
        if e["trigger"] == CORRECT:
            continue
        if e["seq"] in values:
            e = {**e, "payload": {**e["payload"], **values[e["seq"]]}}
        out.append(e)
    return out


def _step_events(conn: Connection, pid: int) -> list[dict[str, Any]]:
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(
                event_table.c.seq,
                event_table.c.trigger,
                event_table.c.from_state,
                event_table.c.to_state,
                event_table.c.payload,
            )
            .where(event_table.c.proceeding_id == pid)
            .order_by(event_table.c.seq)
        )
    ]


def correctable(flow: FlowMachine, event: Mapping[str, Any]) -> Transition | None:
    """The transition an event recorded, when it took data a correction could change."""
    if event["from_state"] is None:
        return None
    transition = flow.transition(event["trigger"], event["from_state"])
    if transition is None or not transition.fields:
        return None
    return transition


def _problem(field: str, problem: str, fix: str, *, source: str) -> ValidationError:
    return ValidationError([FieldProblem(field, problem, fix)], source=source)


def correct_in(
    conn: Connection,
    pid: int,
    seq: int,
    changes: Mapping[str, Any],
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Correct the fields ``changes`` (field → new value; "" clears an optional one) of
    the step recorded as event ``seq`` of case ``pid``, in the caller's write transaction:
    a ``correct`` event and the case's next version. Returns what changed.

    :raises NotFoundError: (exit 4) when the case has no event ``seq``.
    :raises ValidationError: (exit 3) for an event without data to correct, an unknown
        field (with the likely one meant), a field the engine acted on, a value the step
        would refuse, an empty required field, or no reason.
    :raises UsageError: (exit 2) when nothing would change.
    """
    row = case_row(conn, pid, lock=True)
    source = f"case correct {row.case_number} {seq}"
    bad = text_problem(reason) if reason.strip() else "缺少理由"
    if bad or len(reason) > 2000:
        fix = "用 --reason 说明为什么更正（不超过2000字），例如 --reason 笔误"
        raise _problem("--reason", bad or "过长", fix, source=source)
    if not changes:
        raise _problem("--set", "没有要更正的字段", "give FIELD=VALUE with --set", source=source)
    flow = load(row.flow)
    events = _step_events(conn, pid)
    event = next((e for e in events if e["seq"] == seq), None)
    if event is None:
        raise NotFoundError(
            f"{row.case_number} 没有第 {seq} 号记录（共 {len(events)} 条）",
            hint=_("步骤编号（#）见 `mediation case history {case}`").format(case=pid),
        )
    transition = correctable(flow, event)
    if transition is None:
        can = [f"#{e['seq']} {e['trigger']}" for e in events if correctable(flow, e)]
        raise _problem(
            "SEQ",
            f"第 {seq} 号记录（{event['trigger']}）没有可更正的数据",
            "可更正的记录：" + ("、".join(can) or "（无）"),
            source=source,
        )
    data = checked_payload(flow.flow, event["trigger"], changes, source=source)
    fixed = fixed_fields(flow, transition)
    problems = [
        FieldProblem(f"--set {f}", f"不能更正：{fixed[f]}", "如确有错误，请督办人员依法处理")
        for f in data
        if f in fixed
    ]
    if problems:
        raise ValidationError(problems, source=source)
    now_values = next(e for e in corrected(events) if e["seq"] == seq)["payload"]
    after = {**now_values, **data}
    problems = payload_problems(transition, after)
    ctl = Controller(
        state=event["from_state"],
        trigger=event["trigger"],
        proceeding=row._asdict(),
        payload=after,
        conn=conn,
        now=now,
        today=business_date(now),
        actor=actor,
    )
    for name in transition.guards:
        message = GUARDS[name](ctl) if name in VALUE_CHECKS else None
        if message:
            problems.append(FieldProblem("--set", message, _("请给出该步骤接受的值")))
    if problems:
        raise ValidationError(problems, source=source)
    changed = {
        f: {"before": _plain(now_values.get(f)), "after": _plain(v)}
        for f, v in data.items()
        if (_plain(now_values.get(f)) or "") != (_plain(v) or "")
    }
    if not changed:
        raise UsageError(
            f"第 {seq} 号记录的这些字段已是所给的值，没有变化",
            hint=_("请用 --set 字段=值 给出与已记录内容不同的值"),
        )
    facts = dict(row.facts)
    last_of_trigger = max(e["seq"] for e in events if e["trigger"] == event["trigger"])
    if seq == last_of_trigger and isinstance(facts.get(event["trigger"]), dict):
        # ``facts[trigger]`` is the data of the trigger's last firing: kept current.
        facts[event["trigger"]] = {
            **facts[event["trigger"]],
            **{f: c["after"] for f, c in changed.items()},
        }
    version = record_in_place(
        conn,
        row,
        CORRECT,
        actor=actor,
        note=reason.strip(),
        payload={"seq": seq, "trigger": event["trigger"], "changed": changed},
        now=now,
        changes={"facts": facts} if facts != row.facts else None,
    )
    return {
        "case_number": row.case_number,
        "seq": version,
        "corrected_seq": seq,
        "trigger": event["trigger"],
        "trigger_label": transition.label,
        "changed": changed,
        "reason": reason.strip(),
    }


def _plain(value: Any) -> Any:
    """A value as the payload keeps it (a TOML date as its ISO text)."""
    return value.isoformat() if isinstance(value, date) else value
