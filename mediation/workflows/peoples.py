"""人民调解 — people's mediation under the 人民调解法 (2010) (domain.md §3.1).

申请/登记 → 受理 or 不予受理 → 指派调解员 → 告知权利义务 → 调查/调解 → 书面协议, 口头协议,
终止, 撤回 or 公安机关接手 → 履行回访 (→ 再次调解变更协议) → (司法确认) → 结案归档.
A report to the police (人民调解法 art. 25) is recorded without ending the mediation;
escalation to the next level's committee keeps the dispute and restarts the one-month
clock.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import (
    DeadlineRule,
    DocumentSpec,
    Flow,
    HandOff,
    State,
    Transition,
)

#: States in which the committee is still working the case (the one-month clock runs).
_WORKING = ("accepted", "assigned", "informed", "mediating")

FLOW = Flow(
    name="peoples",
    label="人民调解",
    legal_basis="《中华人民共和国人民调解法》；《人民调解工作若干规定》",
    case_word="人调",
    initial="applied",
    description="人民调解委员会依当事人申请或主动调解民间纠纷。",
    states=(
        State("applied", "申请登记"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("refused", "当事人拒绝调解", final=True),
        State("assigned", "已指派调解员"),
        State("informed", "已告知权利义务"),
        State("mediating", "调查调解中"),
        State("agreed_written", "达成书面协议"),
        State("agreed_oral", "达成口头协议"),
        State("terminated", "调解终止"),
        State("withdrawn", "当事人撤回"),
        State("referred_police", "公安机关已受理，调解终止"),
        State("followed_up", "已回访"),
        State("confirmation_applied", "已申请司法确认"),
        State("confirmed", "司法确认有效"),
        State("confirmation_rejected", "司法确认被驳回"),
        State("escalated", "已上报上级调委会", final=True),
        State("referred_to_court", "法院诉前委派调解", final=True),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        common.accept(),
        common.REJECT,
        common.refuse(),
        common.ASSIGN,
        common.INFORM,
        *common.sessions(),
        common.extend(
            "经双方同意延长调解期限",
            "人民调解工作若干规定 art. 33；地方条例（如宁波市人民调解条例 art. 27）",
            _WORKING,
        ),
        common.agree_written(),
        Transition(
            "agree_oral",
            ("mediating",),
            "agreed_oral",
            "达成口头调解协议",
            requires=("terms",),
            effects=("record_agreement",),
            outcome="agreement_oral",
            legal_basis="人民调解法 arts. 28, 30",
            # 口头协议登记表 prints the same particulars as a written agreement.
            optional=common.AGREEMENT_FIELDS,
        ),
        common.TERMINATE,
        common.withdraw(_WORKING),
        common.police_report(_WORKING),
        common.police_take_over(_WORKING),
        Transition(
            "escalate",
            _WORKING,
            "escalated",
            "上报上一级调委会",
            requires=("reason",),
            guards=("has_parent_committee",),
            outcome="escalated",
            handoff=HandOff(
                flow="peoples",
                organisation="parent",
                entry_trigger="receive_escalation",
                entry_state="accepted",
            ),
            legal_basis="人民调解工作若干规定 art. 21",
        ),
        Transition(
            "court_referral",
            ("terminated",),
            "referred_to_court",
            "当事人起诉后法院诉前委派调解",
            requires=("organisation", "court", "court_ref"),
            outcome="transferred",
            handoff=HandOff(
                flow="court_referred",
                organisation="payload",
                entry_trigger="receive_court_referral",
                entry_state="received",
            ),
            legal_basis="特邀调解规定 arts. 11-12",
        ),
        *common.follow_ups(("agreed_written", "agreed_oral")),
        common.remediate_agreement(),
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
            label="调解期限",
            period=Period(1, "months"),
            legal_basis="人民调解工作若干规定 art. 33（一般在一个月内调结）",
            # Re-mediation after a rejected confirmation (here, or handed back from the
            # court's 司法确认 case), or to change an agreement after a follow-up, is a
            # fresh attempt: a new month.
            starts_on=("accept", "receive_escalation", "remediate", "remediate_agreement"),
            runs_in=frozenset(_WORKING),
            extended_by=("extend",),
        ),
        # An oral agreement is in effect the day it is reached (人民调解法 art. 30).
        replace(
            common.CONFIRMATION_WINDOW,
            starts_on=(*common.CONFIRMATION_WINDOW.starts_on, "agree_oral"),
            runs_in=common.CONFIRMATION_WINDOW.runs_in | {"agreed_oral"},
        ),
    ),
    documents=(
        DocumentSpec(
            "application", "人民调解申请书", "人民调解文书格式（司法部 2010）", ("applied",)
        ),
        DocumentSpec("registration", "人民调解受理登记表", "人民调解法 art. 17", ("accepted",)),
        DocumentSpec(
            "rights_notice", "当事人权利义务告知书", "人民调解法 arts. 23-24", ("informed",)
        ),
        DocumentSpec("investigation", "调查记录", "人民调解文书格式", ("mediating",)),
        DocumentSpec("record", "人民调解记录", "人民调解法 art. 27", ("mediating",)),
        DocumentSpec("agreement", "人民调解协议书", "人民调解法 art. 29", ("agreed_written",)),
        DocumentSpec("oral_agreement", "口头协议登记表", "人民调解法 art. 28", ("agreed_oral",)),
        DocumentSpec("termination", "终止调解告知书", "人民调解法 art. 26", ("terminated",)),
        DocumentSpec("follow_up", "回访记录", "人民调解法 art. 31", ("followed_up",)),
        DocumentSpec(
            "confirmation_application",
            "司法确认申请书",
            "人民调解法 art. 33；民事诉讼法解释 art. 354",
            ("confirmation_applied",),
        ),
        DocumentSpec("cover", "卷宗封面及目录", "人民调解法 art. 27", ("archived",)),
    ),
)
