"""道路交通事故人民调解 — a traffic-accident committee (交调委) (domain.md §3.6).

"一般一个月内调结" (人民调解工作若干规定 art. 33); the insurers are notified at least 3 days
before a session (domain.md §3.6; local 交调委 rules — configuration, not national law).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

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
        common.agree_written(extra=("insurer",)),
        common.TERMINATE,
        common.withdraw(_WORKING),
        *common.follow_ups(("agreed_written",)),
        *common.CONFIRMATION,
        common.archive(
            ("terminated", "withdrawn", "followed_up", "confirmed", "confirmation_rejected")
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
