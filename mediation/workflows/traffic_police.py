"""道路交通事故损害赔偿调解 by the traffic police (domain.md §3.2; 道路交通事故处理程序规定
2017 arts. 85, 86, 90, 112).

The parties apply within 10 days of receiving the accident determination; the police issue
a 调解书 (agreement) or 调解终结书 (no agreement) within 10 days of the start of mediation;
these days are working days (art. 112).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_RULES = "道路交通事故处理程序规定"

FLOW = Flow(
    name="traffic_police",
    label="道路交通事故损害赔偿调解（公安交管）",
    legal_basis=f"《{_RULES}》（2017）",
    case_word="交调",
    initial="applied",
    description="公安机关交通管理部门应当事人共同申请调解交通事故损害赔偿。",
    states=(
        State("applied", "申请"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("mediating", "调解中"),
        State("agreed", "已制作调解书", final=True),
        State("ended", "已制作调解终结书", final=True),
    ),
    transitions=(
        Transition(
            "accept",
            ("applied",),
            "accepted",
            "受理（申请在收到事故认定书之日起10日内）",
            requires=("determination_received_on", "applied_on"),
            guards=("applied_within_ten_working_days",),
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
            "start_mediation",
            ("accepted",),
            "mediating",
            "开始调解",
            requires=("kind", "summary"),
            guards=("session_kind_is_known",),
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
            legal_basis=f"{_RULES} art. 90",
        ),
        Transition(
            "agree",
            ("mediating",),
            "agreed",
            "达成协议，制作调解书",
            requires=(*common.AGREEMENT_FIELDS, "insurer"),
            guards=("performance_deadline_is_date",),
            effects=("record_agreement",),
            outcome="agreement_written",
            legal_basis=f"{_RULES} art. 90",
        ),
        Transition(
            "end",
            ("mediating",),
            "ended",
            "未达成协议，制作调解终结书",
            requires=("reason", "other_routes"),
            outcome="terminated",
            legal_basis=f"{_RULES} art. 90",
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
        DocumentSpec("agreement", "道路交通事故损害赔偿调解书", f"{_RULES} art. 90", ("agreed",)),
        DocumentSpec(
            "termination", "道路交通事故损害赔偿调解终结书", f"{_RULES} art. 90", ("ended",)
        ),
    ),
)
