"""医疗纠纷行政调解 — mediation by the county health authority (domain.md §3.2;
医疗纠纷预防和处理条例 2018 arts. 40-41).

Acceptance decided within 5 working days of the application; mediation completed within 30
working days of acceptance; appraisal (鉴定) time is not counted; expiry without agreement is
failure, which the scheduler records (art. 40); an agreement is a signed 调解协议书
(art. 41). Mutually exclusive with 医调委 mediation: not accepted
once the committee or a court has accepted the dispute (a mere application does not bar
it), and ended when one of them accepts it later, an appraisal under way included.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_ART40 = "医疗纠纷预防和处理条例 art. 40"
#: Art. 41: an agreement reached before the health authority is a signed 调解协议书.
_ART41 = "医疗纠纷预防和处理条例 art. 41"
_WORKING = ("accepted", "mediating")

FLOW = Flow(
    name="health_admin",
    label="医疗纠纷行政调解（卫生主管部门）",
    legal_basis="《医疗纠纷预防和处理条例》art. 40",
    case_word="卫调",
    initial="applied",
    description="县级卫生主管部门调解医疗纠纷；医调委或人民法院已受理的不予受理。",
    states=(
        State("applied", "申请"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("mediating", "调解中"),
        State("appraising", "鉴定中（期限中止）"),
        State("agreed", "达成调解协议"),
        State("failed", "调解不成（含期满未达成）"),
        State("closed", "结案", final=True),
    ),
    transitions=(
        Transition(
            "accept",
            ("applied",),
            "accepted",
            "决定受理",
            guards=("not_mediated_elsewhere",),
            legal_basis=_ART40,
        ),
        replace(
            common.REJECT,
            legal_basis=f"{_ART40}（已经申请医调委调解并且已被受理，或者已经起诉并且已被受理的，不予受理）",
        ),
        *common.sessions(_ART40, first_from="accepted", label="记录调解"),
        *common.appraisal(_ART40),
        replace(common.agree_written(legal_basis=_ART41), dest="agreed", trigger="agree"),
        Transition(
            "fail",
            _WORKING,
            "failed",
            "调解不成",
            requires=("reason", "other_routes"),
            outcome="terminated",
            legal_basis=_ART40,
        ),
        Transition(
            "expire",
            _WORKING,
            "failed",
            "超过调解期限未达成协议，视为调解不成",
            guards=("period_expired",),
            outcome="terminated",
            legal_basis=f"{_ART40}（超过调解期限未达成调解协议的，视为调解不成）",
        ),
        Transition(
            "end_accepted_elsewhere",
            (*_WORKING, "appraising"),
            "failed",
            "纠纷已被人民法院或医调委受理，终止调解",
            requires=("accepted_by", "accepted_on", "reason"),
            guards=("accepted_elsewhere_already",),
            outcome="terminated",
            legal_basis=(
                f"{_ART40}（已经向人民法院提起诉讼并且已被受理，或者已经申请医疗纠纷人民调解"
                "委员会调解并且已被受理的，卫生主管部门已经受理的，终止调解）"
            ),
        ),
        Transition("close", ("agreed", "failed"), "closed", "结案", legal_basis=_ART40),
    ),
    deadlines=(
        DeadlineRule(
            kind="acceptance_period",
            label="决定是否受理期限",
            period=Period(5, "working_days"),
            legal_basis=f"{_ART40}（收到申请之日起5个工作日内作出是否受理的决定）",
            starts_on=("open",),
            from_receipt=True,
            runs_in=frozenset({"applied"}),
            remind_before=2,
        ),
        DeadlineRule(
            kind="mediation_period",
            label="医疗纠纷行政调解期限",
            period=Period(30, "working_days"),
            legal_basis=f"{_ART40}（受理之日起30个工作日内完成调解）",
            starts_on=("accept",),
            runs_in=frozenset({*_WORKING, "appraising"}),
            paused_by=("start_appraisal",),
            resumed_by=("finish_appraisal",),
            remind_before=5,
            on_expiry="expire",
        ),
    ),
    documents=(DocumentSpec("agreement", "医疗纠纷行政调解协议书", _ART41, ("agreed",)),),
)
