"""道路交通事故损害赔偿调解 by the traffic police (domain.md §3.2; 道路交通事故处理程序规定
2017 arts. 85-86, 88, 90-91, 93, 112).

The parties apply jointly and in writing within 10 days of receiving the accident
determination (art. 86); the police agree the time and place with them and notify them at
least 3 days before the mediation (art. 88); the police issue a 调解书 (agreement) or
调解终结书 (no agreement) (art. 93) within 10 days of the start of mediation (art. 90);
these days are working days (art. 112), and so are the 3 days of the notice and of art.
85. After a failed police mediation the parties may sue or apply to a people's mediation
committee (art. 86): the latter is a hand-off to the 交调委. After a failed
people's mediation the parties may jointly apply for police mediation within 3 days
(art. 85): the hand-off from the 交调委 enters this flow accepted.
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, HandOff, State, Transition

_RULES = "道路交通事故处理程序规定"

FLOW = Flow(
    name="traffic_police",
    label="道路交通事故损害赔偿调解（公安交管）",
    legal_basis=f"《{_RULES}》（2017）",
    case_word="交调",
    initial="applied",
    description="公安机关交通管理部门应当事人共同书面申请调解交通事故损害赔偿。",
    states=(
        State("applied", "申请"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("notified", "已通知当事人调解时间、地点"),
        State("mediating", "调解中"),
        State("agreed", "已制作调解书", final=True),
        State("ended", "已制作调解终结书（可起诉或申请人民调解）"),
        State("referred_peoples", "已转人民调解委员会调解", final=True),
        State("closed", "结案", final=True),
    ),
    transitions=(
        Transition(
            "accept",
            ("applied",),
            "accepted",
            "受理（各方在收到事故认定书之日起10日内一致书面申请）",
            requires=("determination_received_on", "applied_on", "consented_by"),
            guards=("applied_within_ten_working_days", "both_sides_consent"),
            legal_basis=f"{_RULES} arts. 86, 112",
        ),
        Transition(
            "reject",
            ("applied",),
            "rejected",
            "不予受理",
            requires=("reason", "redirect_to"),
            outcome="rejected",
            legal_basis=f"{_RULES} arts. 85-86",
        ),
        Transition(
            "notify_parties",
            ("accepted", "notified"),
            "notified",
            "约定调解时间、地点，并于调解三日前通知当事人",
            requires=("session_on", "place"),
            guards=("parties_notified_three_days_ahead",),
            legal_basis=f"{_RULES} art. 88",
        ),
        Transition(
            "start_mediation",
            ("notified",),
            "mediating",
            "开始调解",
            requires=("kind", "summary"),
            guards=("notified_session_reached", "session_kind_is_known"),
            optional=common.SESSION_DETAILS,
            legal_basis=f"{_RULES} art. 90",
        ),
        Transition(
            "record_session",
            ("mediating",),
            None,
            "记录调解",
            requires=("kind", "summary"),
            guards=("session_kind_is_known",),
            optional=common.SESSION_DETAILS,
            legal_basis=f"{_RULES} art. 91",
        ),
        Transition(
            "agree",
            ("mediating",),
            "agreed",
            "达成协议，制作调解书",
            requires=common.AGREEMENT_FIELDS,
            # Only where an insurer takes part (an uninsured vehicle has none).
            optional=("insurer",),
            guards=("performance_deadline_is_date",),
            effects=("record_agreement",),
            outcome="agreement_written",
            legal_basis=f"{_RULES} art. 93",
        ),
        Transition(
            "end",
            ("mediating",),
            "ended",
            "未达成协议，制作调解终结书",
            requires=("reason", "other_routes"),
            outcome="terminated",
            legal_basis=f"{_RULES} art. 93",
        ),
        Transition(
            "refer_peoples",
            ("ended",),
            "referred_peoples",
            "调解未达成协议，当事人申请人民调解委员会调解",
            requires=("organisation", "consented_by", "reason"),
            guards=("both_sides_consent",),
            handoff=HandOff(
                flow="traffic",
                organisation="payload",
                entry_trigger="receive_police_referral",
                entry_state="applied",
            ),
            legal_basis=f"{_RULES} art. 86（调解未达成协议的，可以申请人民调解委员会调解）",
        ),
        Transition(
            "close",
            ("ended",),
            "closed",
            "结案（已告知当事人可以向人民法院提起民事诉讼）",
            legal_basis=f"{_RULES} art. 86",
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="交通事故调解期限",
            period=Period(10, "working_days"),
            legal_basis=f"{_RULES} arts. 90, 112（调解开始之日起10日内制作调解书或调解终结书，以工作日计）",
            starts_on=("start_mediation",),
            runs_in=frozenset({"mediating"}),
            remind_before=3,
        ),
    ),
    documents=(
        DocumentSpec("agreement", "道路交通事故损害赔偿调解书", f"{_RULES} art. 93", ("agreed",)),
        DocumentSpec(
            "termination", "道路交通事故损害赔偿调解终结书", f"{_RULES} art. 93", ("ended",)
        ),
    ),
)
