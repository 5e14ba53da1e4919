"""司法确认 — the court confirms a mediation agreement (domain.md §3.4; 人民调解法 art. 33;
民事诉讼法 arts. 205-206; 最高人民法院关于人民调解协议司法确认程序的若干规定 2011).

The joint application is accepted or refused within 3 days (2011 规定 art. 4); the ruling
comes within 15 days of acceptance, +10 with approval (art. 5). Confirmed: enforceable;
dismissed: the parties may re-mediate or sue (民事诉讼法 art. 206).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

#: Who signs the 民事裁定书 (the judge and the clerk), recorded with the ruling.
RULING_SIGNERS = ("judge", "clerk")

FLOW = Flow(
    name="judicial_confirmation",
    label="司法确认",
    legal_basis="《民事诉讼法》arts. 205-206；《关于人民调解协议司法确认程序的若干规定》（2011）",
    case_word="民特",
    court_case_type="民特",
    initial="applied",
    description="当事人共同申请人民法院确认调解协议效力。",
    states=(
        State("applied", "已收到司法确认申请"),
        State("accepted", "已受理"),
        State("not_accepted", "不予受理", final=True),
        State("confirmed", "裁定调解协议有效", final=True),
        State("dismissed", "裁定驳回申请", final=True),
    ),
    transitions=(
        Transition("accept", ("applied",), "accepted", "受理", legal_basis="司法确认规定 art. 4"),
        Transition(
            "refuse_application",
            ("applied",),
            "not_accepted",
            "不予受理",
            requires=("reason",),
            outcome="not_accepted",
            legal_basis="司法确认规定 art. 4；民事诉讼法解释 art. 355",
        ),
        common.approved_extension(
            "extend_ruling",
            ("accepted",),
            "经批准延长审查期限（不超过10日）",
            "司法确认规定 art. 5",
        ),
        Transition(
            "confirm",
            ("accepted",),
            "confirmed",
            "裁定调解协议有效（具有强制执行力）",
            requires=("ruling_ref",),
            optional=RULING_SIGNERS,
            outcome="confirmed",
            legal_basis="民事诉讼法 art. 206",
        ),
        Transition(
            "dismiss",
            ("accepted",),
            "dismissed",
            "裁定驳回申请（可重新调解或起诉）",
            requires=("ruling_ref", "reason"),
            optional=RULING_SIGNERS,
            outcome="dismissed",
            legal_basis="民事诉讼法 art. 206",
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="acceptance_period",
            label="决定是否受理期限",
            period=Period(3, "days"),
            legal_basis="司法确认规定 art. 4（收到申请后3日内决定是否受理）",
            starts_on=("open", "receive_application"),
            runs_in=frozenset({"applied"}),
            remind_before=1,
        ),
        DeadlineRule(
            kind="ruling_period",
            label="审查裁定期限",
            period=Period(15, "days"),
            legal_basis="司法确认规定 art. 5（受理之日起15日内作出裁定，经批准可延长10日）",
            starts_on=("accept",),
            runs_in=frozenset({"accepted"}),
            extended_by=("extend_ruling",),
            extension=Period(10, "days"),
        ),
    ),
    documents=(
        DocumentSpec(
            "confirmation_application", "司法确认申请书", "民事诉讼法解释 art. 354", ("applied",)
        ),
        DocumentSpec(
            "confirmation_ruling",
            "民事裁定书",
            "民事诉讼法 arts. 205-206",
            ("confirmed", "dismissed"),
        ),
    ),
)
