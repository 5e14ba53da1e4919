"""治安调解 — police mediation of a minor public-order case arising from a civil dispute
(domain.md §3.2; 公安机关办理行政案件程序规定 arts. 183, 185).

A second session is held within 7 working days of the first (art. 183). An agreement that is
performed means no penalty; no agreement, or an agreement not performed, means the penalty
and a notice that the parties may sue (art. 185).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_RULES = "公安机关办理行政案件程序规定"

FLOW = Flow(
    name="public_order",
    label="治安调解",
    legal_basis=f"《{_RULES}》arts. 183, 185",
    case_word="治调",
    initial="accepted",
    description="公安机关对因民间纠纷引起的情节较轻的治安案件进行调解。",
    states=(
        State("accepted", "决定调解"),
        State("first_held", "已进行第一次调解"),
        State("mediating", "调解中（第二次及以后）"),
        State("agreed", "达成调解协议"),
        State("no_penalty", "协议已履行，不予处罚", final=True),
        State("penalised", "依法处罚并告知可提起民事诉讼", final=True),
    ),
    transitions=(
        Transition(
            "first_session",
            ("accepted",),
            "first_held",
            "第一次调解",
            requires=("kind", "summary"),
            guards=("session_kind_is_known",),
            legal_basis=f"{_RULES} art. 183",
        ),
        Transition(
            "second_session",
            ("first_held",),
            "mediating",
            "第二次调解",
            requires=("kind", "summary"),
            guards=("session_kind_is_known",),
            legal_basis=f"{_RULES} art. 183",
        ),
        Transition(
            "agree",
            ("first_held", "mediating"),
            "agreed",
            "达成调解协议",
            requires=common.AGREEMENT_FIELDS,
            guards=("performance_deadline_is_date",),
            effects=("record_agreement",),
            outcome="agreement_written",
            legal_basis=f"{_RULES} arts. 183, 185",
        ),
        Transition(
            "performed",
            ("agreed",),
            "no_penalty",
            "协议履行完毕，不予处罚",
            requires=("summary",),
            legal_basis=f"{_RULES} art. 185",
        ),
        Transition(
            "not_performed",
            ("agreed",),
            "penalised",
            "不履行协议，依法处罚并告知可起诉",
            requires=("reason", "penalty"),
            outcome="terminated",
            legal_basis=f"{_RULES} art. 185",
        ),
        Transition(
            "not_agreed",
            ("first_held", "mediating"),
            "penalised",
            "未达成协议，依法处罚并告知可起诉",
            requires=("reason", "penalty"),
            outcome="terminated",
            legal_basis=f"{_RULES} art. 185",
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="second_session",
            label="第二次调解期限",
            period=Period(7, "working_days"),
            legal_basis=f"{_RULES} art. 183（第一次调解未达成协议的，7个工作日内进行第二次调解）",
            starts_on=("first_session",),
            runs_in=frozenset({"first_held"}),
            remind_before=2,
        ),
    ),
    documents=(DocumentSpec("agreement", "治安调解协议书", f"{_RULES} art. 185", ("agreed",)),),
)
