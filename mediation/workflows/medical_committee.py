"""医调委 — people's mediation of medical disputes by a 医疗纠纷人民调解委员会
(domain.md §3.6; 医疗纠纷预防和处理条例 2018).

Thirty working days from acceptance (art. 38); appraisal (鉴定) time does not count; the
committee and both sides may agree to extend; expiry without agreement is deemed failure,
which the scheduler records on its own. Once a court or the health authority has *accepted*
the dispute (a mere application is not enough), the committee ends its mediation, an
appraisal under way included (art. 31). Parties are told they may seek judicial
confirmation (art. 39), which they may then apply for like any people's-mediation agreement
(人民调解法 art. 33).
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_WORKING = ("accepted", "assigned", "informed", "mediating")
_ART38 = "医疗纠纷预防和处理条例 art. 38"

FLOW = Flow(
    name="medical_committee",
    label="医疗纠纷人民调解（医调委）",
    legal_basis="《医疗纠纷预防和处理条例》；《中华人民共和国人民调解法》",
    case_word="医调",
    initial="applied",
    description="医疗纠纷人民调解委员会受理的医疗纠纷；与卫生主管部门的行政调解互斥。",
    states=(
        State("applied", "申请登记"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("refused", "当事人拒绝调解", final=True),
        State("assigned", "已指派调解员"),
        State("informed", "已告知权利义务"),
        State("mediating", "调查调解中"),
        State("appraising", "鉴定中（期限中止）"),
        State("agreed_written", "达成调解协议"),
        State("terminated", "调解终止"),
        State("deemed_failed", "期满视为调解不成"),
        State("withdrawn", "当事人撤回"),
        State("followed_up", "已回访"),
        State("confirmation_applied", "已申请司法确认"),
        State("confirmed", "司法确认有效"),
        State("confirmation_rejected", "司法确认被驳回"),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        replace(
            common.accept("医疗纠纷预防和处理条例 art. 31"), guards=("not_mediated_elsewhere",)
        ),
        common.REJECT,
        common.refuse("一方当事人不同意调解", "医疗纠纷预防和处理条例 art. 31；人民调解法 art. 17"),
        common.ASSIGN,
        common.INFORM,
        *common.sessions("医疗纠纷预防和处理条例 art. 33"),
        *common.appraisal(_ART38, paused="（医疗损害鉴定，期限中止）"),
        common.extend("医调委与医患双方约定延长调解期限", _ART38, _WORKING),
        # Parties must be told they may seek judicial confirmation (条例 art. 39).
        common.agree_written(
            "达成调解协议并告知可申请司法确认",
            "医疗纠纷预防和处理条例 art. 39；人民调解法 art. 29",
            extra=("confirmation_notice",),
        ),
        common.TERMINATE,
        Transition(
            "deem_failed",
            _WORKING,
            "deemed_failed",
            "超过调解期限未达成协议，视为调解不成",
            guards=("period_expired",),
            outcome="terminated",
            legal_basis=f"{_ART38}（超过调解期限未达成调解协议的，视为调解不成）",
        ),
        common.withdraw((*_WORKING, "appraising")),
        Transition(
            "end_accepted_elsewhere",
            (*_WORKING, "appraising"),
            "terminated",
            "纠纷已被人民法院或卫生主管部门受理，终止调解",
            requires=("accepted_by", "accepted_on", "reason"),
            guards=("accepted_elsewhere_already",),
            outcome="terminated",
            legal_basis=(
                "医疗纠纷预防和处理条例 art. 31（已经向人民法院提起诉讼并且已被受理，或者已经"
                "申请卫生主管部门调解并且已被受理的，医疗纠纷人民调解委员会已经受理的，终止调解）"
            ),
        ),
        common.police_report(_WORKING),
        *common.follow_ups(("agreed_written",)),
        *common.CONFIRMATION,
        common.archive(
            (
                "terminated",
                "deemed_failed",
                "withdrawn",
                "followed_up",
                "confirmed",
                "confirmation_rejected",
            )
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="医疗纠纷调解期限",
            period=Period(30, "working_days"),
            legal_basis=f"{_ART38}（自受理之日起30个工作日内完成调解）",
            # Re-mediation after a rejected confirmation is a fresh attempt.
            starts_on=("accept", "remediate"),
            runs_in=frozenset({*_WORKING, "appraising"}),
            extended_by=("extend",),
            paused_by=("start_appraisal",),
            resumed_by=("finish_appraisal",),
            remind_before=5,
            on_expiry="deem_failed",
        ),
        common.CONFIRMATION_WINDOW,
    ),
    documents=(
        DocumentSpec("registration", "人民调解受理登记表", "人民调解法 art. 17", ("accepted",)),
        DocumentSpec("record", "人民调解记录", "人民调解法 art. 27", ("mediating",)),
        DocumentSpec(
            "agreement", "人民调解协议书", "医疗纠纷预防和处理条例 art. 39", ("agreed_written",)
        ),
        DocumentSpec(
            "termination", "终止调解告知书", "人民调解法 art. 26", ("terminated", "deemed_failed")
        ),
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
