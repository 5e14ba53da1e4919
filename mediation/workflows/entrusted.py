"""委托调解 — after filing, the court entrusts a listed mediation organisation or mediator
(domain.md §3.4; 特邀调解规定 2016 arts. 20, 21, 27).

The parties choose the mediator from the court's roster, or the court designates one (art.
12), and are told their rights and duties (art. 14) before mediation; suspected collusion
suspends it, reported to the court (art. 18). 15 days (普通程序; 7 for 简易程序,
:mod:`mediation.workflows.entrusted_simple`); an extension by agreement is not counted in
the trial limit (art. 27). An agreement goes to the court,
which reviews it and issues a 调解书 or allows the suit to be withdrawn (art. 20); failure
sends the case back to trial (art. 21), with a written report to the court (art. 26: the
result letter, ``court_letter``).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows import _court_steps as court
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_RULES = court.RULES
_WORKING = ("received", "assigned", "informed", "mediating", "suspended")


def build(name: str, label: str, days: int, procedure: str) -> Flow:
    return Flow(
        name=name,
        label=label,
        legal_basis=f"《最高人民法院关于人民法院特邀调解的规定》（2016）（{procedure}）",
        case_word="委托调",
        initial="received",
        description="人民法院立案后委托特邀调解组织或特邀调解员调解。",
        states=(
            State("received", "已接受委托"),
            *court.STATES,
            State("mediating", "调解中"),
            court.SUSPENDED,
            State("agreed", "达成调解协议，报送法院审查"),
            State("court_decided", "法院出具调解书或准许撤诉", final=True),
            State("back_to_trial", "调解不成，转入审判", final=True),
        ),
        transitions=(
            *court.mediator_steps(("received",)),
            *common.sessions(f"{_RULES} art. 17", first_from="informed", label="记录调解"),
            *court.suspension(("assigned", "informed", "mediating")),
            common.extend("双方同意延长调解期限（不计入审限）", f"{_RULES} art. 27", _WORKING),
            Transition(
                "agree",
                ("mediating",),
                "agreed",
                "达成调解协议，报送法院",
                requires=common.AGREEMENT_FIELDS,
                guards=("performance_deadline_is_date",),
                effects=("record_agreement",),
                legal_basis=f"{_RULES} art. 20",
            ),
            Transition(
                "court_decision",
                ("agreed",),
                "court_decided",
                "法院审查后出具调解书或准许撤诉",
                requires=("decision", "ruling_ref"),
                outcome="agreement_written",
                legal_basis=f"{_RULES} art. 20",
            ),
            Transition(
                "back_to_trial",
                _WORKING,
                "back_to_trial",
                "调解不成，书面报告法院并退回审理",
                requires=("reason", "report_ref"),
                outcome="returned",
                legal_basis=f"{_RULES} arts. 21, 26",
            ),
        ),
        deadlines=(
            DeadlineRule(
                kind="mediation_period",
                label=f"委托调解期限（{procedure}）",
                period=Period(days, "days"),
                legal_basis=(
                    f"{_RULES} art. 27（自签收法院移交材料之日起，{procedure}{days}日，"
                    "双方同意延长的不计入审限）"
                ),
                starts_on=("open",),
                runs_in=frozenset(_WORKING),
                extended_by=("extend",),
                from_receipt=True,
            ),
        ),
        documents=(
            DocumentSpec(
                "court_rights_notice", "当事人权利义务告知书", f"{_RULES} art. 14", ("informed",)
            ),
            DocumentSpec(
                "court_letter",
                "委托调解结果函",
                f"{_RULES} arts. 18, 20, 26",
                ("agreed", "back_to_trial", "suspended"),
            ),
        ),
    )


FLOW = build("entrusted", "委托调解（立案后，普通程序）", 15, "普通程序")
