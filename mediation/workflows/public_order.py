"""治安调解 — police mediation of a minor public-order case arising from a civil dispute
(domain.md §3.2; 治安管理处罚法 art. 9; 公安机关办理行政案件程序规定 arts. 178-179, 183-185).

Mediation needs both parties' consent: a party who refuses before the first session means
no mediation, and the case is dealt with by a penalty (arts. 178-179). Mediation is
normally one session; a second one, where needed, must be *completed* within 7 working
days of the first (art. 183): the clock runs from the first session until mediation ends
(agreement or failure), not until the second session starts, and an agreement reached
after it is recorded as late. An agreement is written in a 调解协议书 signed by both
parties (art. 184). An agreement that is performed means no penalty; no
agreement, or an agreement not performed, means the penalty and a notice that the parties
may sue (art. 185). Before the police decide, the parties may settle by themselves or through
a people's mediation committee; once that agreement is performed and the police approve the
parties' written application, there is no penalty either (治安管理处罚法 art. 9, 2025 text,
third paragraph). The police did not mediate that settlement, so the statistics count it as
the parties ending police mediation (withdrawn), not as the police's success.
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_RULES = "公安机关办理行政案件程序规定"
_ART9 = "治安管理处罚法 art. 9"

FLOW = Flow(
    name="public_order",
    label="治安调解",
    legal_basis=f"《治安管理处罚法》art. 9；《{_RULES}》arts. 178-179, 183-185",
    case_word="治调",
    initial="accepted",
    description="公安机关对因民间纠纷引起的情节较轻的治安案件进行调解。",
    states=(
        State("accepted", "决定调解"),
        State("refused", "当事人拒绝调解，不予调解（依法处罚）", final=True),
        State("first_held", "已进行第一次调解"),
        State("mediating", "调解中（第二次及以后）"),
        State("agreed", "达成调解协议"),
        State("no_penalty", "协议已履行，不予处罚", final=True),
        State("settled", "当事人和解（或经人民调解）并履行，经公安机关认可不予处罚", final=True),
        State("penalised", "依法处罚并告知可提起民事诉讼", final=True),
    ),
    transitions=(
        Transition(
            "refuse",
            ("accepted",),
            "refused",
            "当事人拒绝调解，不予调解，依法处罚",
            requires=("party", "reason"),
            guards=("names_a_party",),
            outcome="refused",
            legal_basis=f"{_RULES} arts. 178-179（经双方当事人同意方可调解）",
        ),
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
            legal_basis=f"{_RULES} art. 183（第一次调解后7个工作日内完成）",
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
            legal_basis=f"{_RULES} arts. 183-185",
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
            "settlement_approved",
            ("accepted", "first_held", "mediating"),
            "settled",
            "当事人自行和解或经人民调解委员会调解达成协议并履行，书面申请经公安机关认可，不予处罚",
            requires=("settled_by", "summary"),
            guards=("settlement_is_known",),
            outcome="withdrawn",
            legal_basis=(
                f"{_ART9}（2025年修订）第三款（公安机关作出处理决定前，当事人自行和解或者经人民"
                "调解委员会调解达成协议并履行，书面申请经公安机关认可的，不予处罚）"
            ),
            role="supervisor",
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
            # The kind keeps its name (stored rows carry it); the clock is the completion
            # of mediation, second session included.
            kind="second_session",
            label="调解完成期限（含第二次调解）",
            period=Period(7, "working_days"),
            legal_basis=(
                f"{_RULES} art. 183（调解一般为一次；一次调解不成、有必要再次调解的，"
                "应当在第一次调解后的7个工作日内完成）"
            ),
            starts_on=("first_session",),
            runs_in=frozenset({"first_held", "mediating"}),
            remind_before=2,
        ),
    ),
    documents=(DocumentSpec("agreement", "治安调解协议书", f"{_RULES} art. 184", ("agreed",)),),
)
