"""道路交通事故人民调解 — a traffic-accident committee (交调委) (domain.md §3.6).

"一般一个月内调结" (人民调解工作若干规定 art. 33); the insurers are notified at least 3 days
before a session (domain.md §3.6; local 交调委 rules — configuration, not national law).
A case may come from a failed traffic police mediation (道路交通事故处理程序规定 art. 86);
after a failed mediation here the parties may jointly apply for police mediation within 3
days (art. 85), a hand-off that enters the police flow accepted. A report to the police
(人民调解法 art. 25) does not end the mediation; the police taking the matter over does.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, HandOff, State, Transition

_WORKING = ("accepted", "assigned", "informed", "mediating")

FLOW = Flow(
    name="traffic",
    label="道路交通事故人民调解（交调委）",
    legal_basis="《中华人民共和国人民调解法》；《人民调解工作若干规定》",
    case_word="交人调",
    initial="applied",
    description="道路交通事故人民调解委员会调解交通事故损害赔偿纠纷，保险机构参与。",
    states=(
        State("applied", "申请登记"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("refused", "当事人拒绝调解", final=True),
        State("assigned", "已指派调解员"),
        State("informed", "已告知权利义务"),
        State("mediating", "调解中"),
        State("agreed_written", "达成调解协议"),
        State("terminated", "调解终止"),
        State("referred_police_mediation", "已转公安机关交通管理部门调解", final=True),
        State("referred_police", "公安机关已受理，调解终止"),
        State("withdrawn", "当事人撤回"),
        State("followed_up", "已回访"),
        State("confirmation_applied", "已申请司法确认"),
        State("confirmed", "司法确认有效"),
        State("confirmation_rejected", "司法确认被驳回"),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        common.accept(),
        common.REJECT,
        common.refuse(),
        common.ASSIGN,
        common.INFORM,
        Transition(
            "notify_insurer",
            ("assigned", "informed", "mediating"),
            None,
            "提前3日通知保险机构参加调解",
            requires=("insurer", "session_on"),
            guards=("session_at_least_three_days_ahead",),
            legal_basis="地方道路交通事故人民调解工作规则（保险机构提前3日通知，各地不一）",
        ),
        *common.sessions(),
        common.extend(
            "经双方同意延长调解期限", "地方人民调解条例（如宁波市人民调解条例 art. 27）", _WORKING
        ),
        # The insurer is printed when one takes part (an uninsured vehicle has none).
        replace(common.agree_written(), optional=("insurer",)),
        common.TERMINATE,
        common.withdraw(_WORKING),
        common.police_report(_WORKING),
        common.police_take_over(_WORKING),
        Transition(
            "apply_police_mediation",
            ("terminated",),
            "referred_police_mediation",
            "人民调解不成，三日内共同申请公安机关交通管理部门调解",
            requires=("organisation", "consented_by"),
            guards=("within_three_days_of_failure", "both_sides_consent"),
            handoff=HandOff(
                flow="traffic_police",
                organisation="payload",
                entry_trigger="receive_after_peoples",
                entry_state="accepted",
            ),
            legal_basis="道路交通事故处理程序规定 art. 85",
        ),
        *common.follow_ups(("agreed_written",)),
        *common.CONFIRMATION,
        common.archive(
            (
                "terminated",
                "withdrawn",
                "referred_police",
                "followed_up",
                "confirmed",
                "confirmation_rejected",
            )
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="交通事故调解期限",
            period=Period(1, "months"),
            legal_basis="人民调解工作若干规定 art. 33（一般在一个月内调结）",
            starts_on=("accept", "remediate"),
            runs_in=frozenset(_WORKING),
            extended_by=("extend",),
        ),
        common.CONFIRMATION_WINDOW,
    ),
    documents=(
        DocumentSpec("agreement", "人民调解协议书", "人民调解法 art. 29", ("agreed_written",)),
    ),
)
