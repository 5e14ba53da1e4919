"""Named guards and effects that flows refer to (``Transition.guards`` / ``.effects``).

A guard returns ``None`` when the transition may go ahead, or a message (Chinese, for the
user) saying why not. An effect changes the controller (``updates``, ``facts``,
``deadline_changes``), which the engine writes in the same transaction as the event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mediation.domain.clock import business_date
from mediation.domain.taxonomy import (
    EXCLUSIONS,
    MEDIATION_RESULTS,
    PERFORMANCE,
    SATISFACTION,
    SELECTIONS,
    SESSION_KINDS,
)
from mediation.storage._tables import (
    deadline_table,
    event_table,
    organisation_table,
    party_table,
    proceeding_table,
)

if TYPE_CHECKING:
    from mediation.engine.controller import Controller

Guard = Callable[["Controller"], "str | None"]
Effect = Callable[["Controller"], None]

GUARDS: dict[str, Guard] = {}
EFFECTS: dict[str, Effect] = {}


def guard(func: Guard) -> Guard:
    GUARDS[func.__name__] = func
    return func


def effect(func: Effect) -> Effect:
    EFFECTS[func.__name__] = func
    return func


def _choice(value: object, allowed: Mapping[str, str], field: str) -> str | None:
    if isinstance(value, str) and value in allowed:
        return None
    options = "、".join(f"{k}（{v}）" for k, v in allowed.items())
    return f"{field} 为 {value!r}，应为 {options} 之一"


def _parse_date(value: object) -> date | None:
    if isinstance(value, date):  # a TOML date
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _parties(ctl: Controller) -> list[tuple[str, str]]:
    rows = ctl.conn.execute(
        select(party_table.c.name, party_table.c.role).where(
            party_table.c.dispute_id == ctl.proceeding["dispute_id"]
        )
    )
    return [(r.name, r.role) for r in rows]


def _open_deadline(ctl: Controller, kind: str) -> date | None:
    return ctl.conn.execute(
        select(deadline_table.c.due).where(
            deadline_table.c.proceeding_id == ctl.proceeding["id"],
            deadline_table.c.kind == kind,
            deadline_table.c.status == "open",
        )
    ).scalar()


def as_list(value: object) -> list[str]:
    """A list of names from a JSON list or a string separated by 、 , ， or ;."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[、,，;；]", str(value or "")) if v.strip()]


# -- guards ---------------------------------------------------------------------------


@guard
def names_a_party(ctl: Controller) -> str | None:
    names = [name for name, _ in _parties(ctl)]
    if ctl.payload.get("party") in names:
        return None
    return f"party 应为本纠纷的当事人之一：{'、'.join(names)}"


@guard
def selection_is_known(ctl: Controller) -> str | None:
    names = as_list(ctl.payload.get("mediators"))
    if not names:
        return "mediators 不能为空（填写调解员姓名）"
    if any(len(n) > 100 for n in names):
        return "mediators 中的姓名过长（每人不超过100字）"
    return _choice(ctl.payload.get("selection"), SELECTIONS, "selection")


@guard
def session_kind_is_known(ctl: Controller) -> str | None:
    return _choice(ctl.payload.get("kind"), SESSION_KINDS, "kind")


@guard
def performance_is_known(ctl: Controller) -> str | None:
    """A follow-up's performance is one of the codes, and so is its satisfaction when
    given (a free text would be kept but never counted by the statistics)."""
    problem = _choice(ctl.payload.get("performance"), PERFORMANCE, "performance")
    satisfaction = ctl.payload.get("satisfaction")
    if problem is None and satisfaction not in (None, ""):
        problem = _choice(satisfaction, SATISFACTION, "satisfaction")
    return problem


@guard
def applied_within_ten_working_days(ctl: Controller) -> str | None:
    """Traffic police mediation: applied within 10 (working) days of receiving the accident
    determination (道路交通事故处理程序规定 arts. 86, 112)."""
    from mediation.domain.periods import Period, compute_due

    received = _parse_date(ctl.payload.get("determination_received_on"))
    applied = _parse_date(ctl.payload.get("applied_on"))
    if received is None or applied is None:
        return "determination_received_on 与 applied_on 应为日期（YYYY-MM-DD）"
    last = compute_due(received, Period(10, "working_days"), ctl.cal).due
    if applied < received or applied > last:
        return f"申请应在收到事故认定书后10个工作日内（至 {last}）提出"
    return None


@guard
def session_at_least_three_days_ahead(ctl: Controller) -> str | None:
    """交调委: insurers are told of a session at least 3 days before it."""
    session = _parse_date(ctl.payload.get("session_on"))
    if session is None:
        return "session_on 应为日期（YYYY-MM-DD）"
    if (session - ctl.today).days < 3:
        return f"调解日期 {session} 距今不足3日，应至少提前3日通知保险机构"
    return None


@guard
def exclusion_is_known(ctl: Controller) -> str | None:
    return _choice(ctl.payload.get("exclusion"), EXCLUSIONS, "exclusion")


@guard
def mediation_result_is_known(ctl: Controller) -> str | None:
    return _choice(ctl.payload.get("result"), MEDIATION_RESULTS, "result")


#: What the parties jointly consent to, by trigger: each refusal names it.
CONSENTED_ACTS = {
    "extend": "延长调解期限",
    "divert": "移送人民调解",
    "apply_confirmation": "共同申请司法确认",
}


@guard
def both_sides_consent(ctl: Controller) -> str | None:
    """Every applicant and respondent named in ``consented_by`` (third parties need not)."""
    agreed = set(as_list(ctl.payload.get("consented_by")))
    missing = [
        name
        for name, role in _parties(ctl)
        if role in ("applicant", "respondent") and name not in agreed
    ]
    if not missing:
        return None
    act = CONSENTED_ACTS.get(ctl.trigger, "此项操作")
    return f"{act}须经双方当事人同意：consented_by 缺少 {'、'.join(missing)}"


@guard
def names_the_other_party(ctl: Controller) -> str | None:
    """行政调解: the *other* party (a respondent), never the applicant, says whether it
    consents to mediation (domain.md §3.2: 征求对方意见, the other party must consent)."""
    parties = _parties(ctl)
    others = [name for name, role in parties if role == "respondent"]
    applicants = {name for name, role in parties if role == "applicant"}
    named = ctl.payload.get("party")
    if named in others and named not in applicants:
        return None
    who = "、".join(others) or "（尚未登记被申请人）"
    if named in applicants:
        return (
            f"{named} 是申请人，不能代替对方表示意见："
            f"是否同意调解须由对方当事人（被申请人）{who} 表示"
        )
    return f"party 应为对方当事人（被申请人）：{who}"


@guard
def new_due_is_later(ctl: Controller) -> str | None:
    """The agreed new due date is a date after the current one of the clock being extended."""
    new_due = _parse_date(ctl.payload.get("new_due"))
    if new_due is None:
        return "new_due 应为日期（YYYY-MM-DD）"
    for rule in _extended(ctl):
        current = _open_deadline(ctl, rule.kind)
        if current is None:
            return f"没有正在计算的{rule.label}可以延长"
        if ctl.today > current:
            return _expired(rule, current)
        if new_due <= current:
            return f"new_due {new_due} 应晚于当前期限 {current}"
    return None


def _expired(rule: Any, due: date) -> str:
    """An extension is granted while the period runs; afterwards the overrun stands."""
    return f"{rule.label}已于 {due} 届满，期满后不能再延长（逾期记录不予消除）"


def _extended(ctl: Controller) -> list[Any]:
    """The deadline rules this firing's trigger extends."""
    return [r for r in ctl.rules.values() if ctl.trigger in r.extended_by]


@guard
def performance_deadline_is_date(ctl: Controller) -> str | None:
    if _parse_date(ctl.payload.get("performance_deadline")) is None:
        return "performance_deadline（履行期限）应为日期（YYYY-MM-DD）"
    return None


@guard
def has_parent_committee(ctl: Controller) -> str | None:
    parent = ctl.conn.execute(
        select(organisation_table.c.parent_id).where(
            organisation_table.c.id == ctl.proceeding["organisation_id"]
        )
    ).scalar()
    if parent is None:
        return "本调委会没有上级调委会，无法上报（用 `mediation org add --parent` 登记上级）"
    return None


@guard
def period_expired(ctl: Controller) -> str | None:
    """A consequence of expiry (``on_expiry``) only once its clock has run out, e.g.
    医调委 deemed failure (医疗纠纷预防和处理条例 art. 38)."""
    for rule in ctl.rules.values():
        if rule.on_expiry != ctl.trigger:
            continue
        row = _deadline_row(ctl, rule.kind)
        if row is None:
            return f"没有正在计算的{rule.label}"
        if rule.agreed_extension_lifts_limit and row.extensions:
            return f"双方已同意延长，{rule.label}不再适用（特邀调解规定 art. 27）"
        if ctl.today <= row.due:
            return f"{rule.label}至 {row.due} 才届满，期满前不能执行此操作"
    return None


#: Flows that exclude each other for one dispute (医疗纠纷预防和处理条例 arts. 38, 40: a medical
#: dispute is mediated by the 医调委 or by the health authority, not both at once).
EXCLUSIVE_FLOWS = {"medical_committee": "health_admin", "health_admin": "medical_committee"}


@guard
def not_mediated_elsewhere(ctl: Controller) -> str | None:
    from mediation.engine.disputes import group_of, root_of

    other = EXCLUSIVE_FLOWS.get(ctl.proceeding["flow"])
    if other is None:
        return None
    # Reports merged together are one dispute.
    group = group_of(ctl.conn, root_of(ctl.conn, ctl.proceeding["dispute_id"]))
    busy = ctl.conn.execute(
        select(proceeding_table.c.case_number).where(
            proceeding_table.c.dispute_id.in_(group),
            proceeding_table.c.flow == other,
            proceeding_table.c.closed_at.is_(None),
            # Still being mediated: no agreement, failure or withdrawal.
            proceeding_table.c.outcome.is_(None),
        )
    ).first()
    if busy is not None:
        return (
            f"该医疗纠纷已在 {busy.case_number} 中调解（医调委调解与卫生主管部门调解不得同时进行）"
        )
    return None


@guard
def agreement_in_effect(ctl: Controller) -> str | None:
    """司法确认 only of an agreement in effect (人民调解法 arts. 29-30, 33): an oral one from
    the day it was reached; a written one once every party, a mediator of the case and the
    committee have signed, sealed or fingerprinted it (the ``agreement_effective`` event
    recorded with the last signature, mediation.documents.signatures)."""
    from mediation.storage._tables import signature_table
    from mediation.workflows import AGREEMENT_EFFECTIVE, get_flow

    pid = ctl.proceeding["id"]
    reaching = {
        t.trigger
        for t in get_flow(ctl.proceeding["flow"]).transitions
        if "record_agreement" in t.effects
    }
    reached = ctl.conn.execute(
        select(event_table.c.seq, event_table.c.trigger, event_table.c.occurred_at)
        .where(event_table.c.proceeding_id == pid, event_table.c.trigger.in_(sorted(reaching)))
        .order_by(event_table.c.seq.desc())
        .limit(1)
    ).first()
    if reached is None:
        return "没有可申请司法确认的调解协议"
    if reached.trigger == "agree_oral":
        return None  # in effect the day it was reached (art. 30)
    effective = ctl.conn.execute(
        select(event_table.c.seq).where(
            event_table.c.proceeding_id == pid,
            event_table.c.trigger == AGREEMENT_EFFECTIVE,
            event_table.c.seq > reached.seq,
        )
    ).first()
    if effective is not None:
        return None
    signed = ctl.conn.execute(
        select(signature_table.c.signer_kind, signature_table.c.party_id).where(
            signature_table.c.proceeding_id == pid,
            signature_table.c.document_kind == "agreement",
            signature_table.c.recorded_at >= reached.occurred_at,
        )
    ).all()
    kinds = {s.signer_kind for s in signed}
    party_ids = {s.party_id for s in signed if s.signer_kind == "party"}
    parties = ctl.conn.execute(
        select(party_table.c.id, party_table.c.name)
        .where(party_table.c.dispute_id == ctl.proceeding["dispute_id"])
        .order_by(party_table.c.ordinal, party_table.c.id)
    ).all()
    missing = [f"当事人 {p.name}" for p in parties if p.id not in party_ids]
    if "mediator" not in kinds:
        names = list(ctl.proceeding.get("mediators") or [])
        lead = ctl.proceeding.get("mediator")
        if lead and lead not in names:
            names.insert(0, lead)
        missing.append("调解员 " + (" 或 ".join(names) or "（尚未指派调解员）"))
    if "committee" not in kinds:
        org = ctl.conn.execute(
            select(organisation_table.c.name).where(
                organisation_table.c.id == ctl.proceeding["organisation_id"]
            )
        ).scalar()
        missing.append(f"{org}（盖章）")
    return (
        "调解协议尚未生效，不能申请司法确认：协议书自各方当事人签名、盖章或者按指印，"
        "调解员签名并加盖调解委员会印章之日起生效（人民调解法 art. 29），尚缺 "
        + "、".join(missing)
        + "（用 `mediation doc record-signature` 登记）"
    )


@guard
def within_confirmation_window(ctl: Controller) -> str | None:
    due = _open_deadline(ctl, "confirmation_window")
    if due is None:
        return "没有找到申请司法确认的期限（协议是否为书面协议？）"
    if ctl.today > due:
        return f"申请司法确认须在协议生效之日起三十日内提出，已于 {due} 届满"
    return None


#: The reply whose service a trigger records (信访工作条例 arts. 35-36): the served day
#: may not come before the day the reply was issued.
SERVED_REPLY = {"record_service": "conclude", "record_review_service": "answer_review"}


@guard
def service_day_is_valid(ctl: Controller) -> str | None:
    """The day the party received the written reply (``served_on``, 收到书面答复之日) is a
    date, not in the future, not before the reply itself, and recorded once: it starts the
    window for asking a review (domain.md §3.5, §4)."""
    served = _parse_date(ctl.payload.get("served_on"))
    if served is None:
        return "served_on（收到书面答复之日）应为日期（YYYY-MM-DD）"
    if served > ctl.today:
        return f"送达日期 {served} 晚于今天 {ctl.today}，应填写当事人实际收到书面答复之日"
    reply = SERVED_REPLY.get(ctl.trigger)
    if reply is not None:
        issued = ctl.conn.execute(
            select(event_table.c.occurred_at)
            .where(
                event_table.c.proceeding_id == ctl.proceeding["id"],
                event_table.c.trigger == reply,
            )
            .order_by(event_table.c.seq.desc())
            .limit(1)
        ).scalar()
        if issued is not None:
            day = business_date(issued)
            if served < day:
                return f"送达日期 {served} 早于书面答复出具之日 {day}"
    for rule in ctl.rules.values():
        if ctl.trigger not in rule.starts_on:
            continue
        recorded = ctl.conn.execute(
            select(deadline_table.c.starts_on).where(
                deadline_table.c.proceeding_id == ctl.proceeding["id"],
                deadline_table.c.kind == rule.kind,
            )
        ).scalar()
        if recorded is not None:
            return f"送达日期已登记（{recorded}），{rule.label}自该日起算"
    return None


@guard
def within_request_window(ctl: Controller) -> str | None:
    """A party's request (复查, 复核) within its window: the party's clock (``duty=False``)
    that runs in the current state, counted from the day the reply was received. Before
    the service is recorded the window has not started, so a request is in time."""
    for rule in ctl.rules.values():
        if rule.duty or ctl.state not in rule.runs_in:
            continue
        due = _open_deadline(ctl, rule.kind)
        if due is not None and ctl.today > due:
            return f"{rule.label}已于 {due} 届满，不再受理（{rule.legal_basis}）"
    return None


@guard
def prevention_is_known(ctl: Controller) -> str | None:
    """What the case prevented is one of ``taxonomy.PREVENTIONS``, and ``people`` a count."""
    from mediation.domain.taxonomy import PREVENTIONS
    from mediation.workflows._common import people_value

    problem = _choice(ctl.payload.get("prevention"), PREVENTIONS, "prevention")
    if problem is None and people_value(ctl.payload.get("people")) is None:
        problem = f"people 为 {ctl.payload.get('people')!r}，应为涉及的人数（1 至 100000 的整数）"
    return problem


@guard
def amount_is_valid(ctl: Controller) -> str | None:
    """An agreement's optional ``amount`` (协议涉及金额) is a sum of money in yuan."""
    from mediation.workflows._common import amount_value

    amount = ctl.payload.get("amount")
    if amount in (None, "") or amount_value(amount) is not None:
        return None
    return f"amount 为 {amount!r}，应为协议涉及的金额（元，不为负，至多两位小数，如 12000.50）"


# -- effects --------------------------------------------------------------------------


@effect
def set_mediators(ctl: Controller) -> None:
    names = as_list(ctl.payload["mediators"])
    ctl.updates["mediators"] = names
    ctl.updates["mediator"] = names[0]


@effect
def record_agreement(ctl: Controller) -> None:
    ctl.facts["agreement"] = {
        "kind": "oral" if ctl.trigger == "agree_oral" else "written",
        "effective_on": ctl.today.isoformat(),
    }


@effect
def extend_deadline(ctl: Controller) -> None:
    """By the rule's statutory ``extension`` (+30 days, +10 days: once, counted from the
    period's own last day, before any roll-over to a working day), or else to the
    ``new_due`` the parties agreed."""
    from mediation.domain.periods import Period, compute_due, nominal_end

    for rule in _extended(ctl):
        new_due: date | None
        if rule.extension is not None:
            row = _deadline_row(ctl, rule.kind)
            if row is None:
                continue
            start = row.counted_from or row.starts_on
            count = row.period_count if row.period_count is not None else rule.period.count
            unit = row.period_unit or rule.period.unit
            nominal = nominal_end(start, Period(count, unit), ctl.cal)
            new_due = compute_due(nominal, rule.extension, ctl.cal).due
        else:
            new_due = _parse_date(ctl.payload.get("new_due"))
        if new_due is not None:
            ctl.deadline_changes.append((rule.kind, new_due))


def _deadline_row(ctl: Controller, kind: str) -> Any:
    return ctl.conn.execute(
        select(deadline_table).where(
            deadline_table.c.proceeding_id == ctl.proceeding["id"],
            deadline_table.c.kind == kind,
            deadline_table.c.status == "open",
        )
    ).first()


@guard
def extension_available(ctl: Controller) -> str | None:
    """A statutory extension (+30, +10) is granted once, with approval; an agreed one
    needs a later ``new_due``."""
    for rule in _extended(ctl):
        row = _deadline_row(ctl, rule.kind)
        if row is None:
            return f"没有正在计算的{rule.label}可以延长"
        if ctl.today > row.due:
            return _expired(rule, row.due)
        if rule.extension is not None and row.extensions:
            return f"{rule.label}已延长过（法定延长以{rule.extension.label}为限）"
    return None
