"""访调对接 — a petition (信访) diverted to people's mediation (domain.md §3.5; 信访工作条例
2022; 司法部、国家信访局 2025 意见).

登记 → 受理 → 初核引导 (suitable for mediation, or one of the exclusions) → 对接移送 to a
people's mediation committee with both parties' consent (the petition stays open) → 结果反馈
from the committee → 办结. Disposal within 15 days of receipt, the petitioner told of it
(arts. 22-23); an organ that finds the matter outside its remit objects within 5 working
days of receipt (art. 23); the whole handling within 60 days of acceptance, +30 at most with
approval (art. 34).

复查 and 复核 (arts. 35-36): the petitioner may ask within 30 days of *receiving* the written
reply (自收到书面答复之日起). The day of service is recorded (``record_service``,
``record_review_service`` with ``served_on``) and starts that window from the recorded
day (domain.md §4). Closing the file while the window may still run does not end the
matter: the case waits in a review-window state where a request is still accepted until
the window has run out; then it ends (终结), by hand or by the scheduler.
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, HandOff, State, Transition

_OPEN = ("accepted", "assessed", "diverted", "result_received", "handled_otherwise")
#: Where a 复查 (复核) may still be asked: after the reply, the file closed or not.
_REVIEW = ("concluded", "closed_review_window")
_RECHECK = ("reviewed", "closed_recheck_window")

FLOW = Flow(
    name="petition",
    label="访调对接（信访事项）",
    legal_basis="《信访工作条例》（2022）",
    case_word="信调",
    initial="registered",
    description="信访工作机构登记受理、初核引导，适宜调解的民事纠纷经双方同意移送人民调解，并跟踪结果反馈。",
    states=(
        State("registered", "信访事项登记"),
        State("accepted", "已受理"),
        State("forwarded", "已转送其他机关", final=True),
        State("remit_objected", "不属于本机关职权范围，已提出异议", final=True),
        State("assessed", "初核：适宜调解"),
        State("handled_otherwise", "不适宜调解，依其他途径办理"),
        State("diverted", "已移送人民调解"),
        State("result_received", "已收到调解结果反馈"),
        State("concluded", "已出具处理意见"),
        State("closed_review_window", "已办结归档（申请复查期限内）"),
        State("review_requested", "已申请复查"),
        State("reviewed", "已出具复查意见"),
        State("closed_recheck_window", "已办结归档（申请复核期限内）"),
        State("recheck_requested", "已申请复核"),
        State("closed", "终结", final=True),
    ),
    transitions=(
        Transition(
            "accept",
            ("registered",),
            "accepted",
            "受理并告知信访人",
            legal_basis="信访工作条例 arts. 22-23（收到之日起15日内告知信访人）",
        ),
        Transition(
            "object_remit",
            ("registered",),
            "remit_objected",
            "认为不属于本机关职权范围，向转送、交办机关提出异议",
            requires=("organ", "reason"),
            guards=("within_request_window",),
            outcome="transferred",
            legal_basis="信访工作条例 art. 23（收到之日起5个工作日内提出异议）",
        ),
        Transition(
            "forward",
            ("registered",),
            "forwarded",
            "转送有权处理的机关",
            requires=("organ", "reason"),
            outcome="transferred",
            legal_basis="信访工作条例 art. 22",
        ),
        Transition(
            "assess_suitable",
            ("accepted",),
            "assessed",
            "初核引导：属适宜调解的民事纠纷",
            requires=("summary",),
            legal_basis="信访工作条例 art. 33",
        ),
        Transition(
            "exclude",
            ("accepted", "assessed"),
            "handled_otherwise",
            "不适宜调解（法定途径、涉诉、行政争议或当事人拒绝）",
            requires=("exclusion", "reason"),
            guards=("exclusion_is_known",),
            legal_basis="信访工作条例 art. 33；司法部、国家信访局 2025 意见",
        ),
        Transition(
            "divert",
            ("assessed",),
            "diverted",
            "经双方同意移送人民调解委员会",
            requires=("organisation", "consented_by", "reason"),
            guards=("both_sides_consent",),
            handoff=HandOff(
                flow="peoples",
                organisation="payload",
                entry_trigger="receive_petition_referral",
                entry_state="applied",
                closes=False,
            ),
            legal_basis="信访工作条例 art. 33；司法部、国家信访局 2025 意见（对接移送）",
        ),
        Transition(
            "record_result",
            ("diverted",),
            "result_received",
            "调解结果反馈信访工作机构",
            requires=("result", "summary"),
            guards=("mediation_result_is_known",),
            legal_basis="司法部、国家信访局 2025 意见（结果反馈）",
        ),
        common.approved_extension(
            "extend_handling",
            _OPEN,
            "经批准延长办理期限（不超过30日）并告知理由",
            "信访工作条例 art. 34",
        ),
        Transition(
            "conclude",
            ("result_received", "handled_otherwise"),
            "concluded",
            "出具处理意见，办结",
            requires=("opinion",),
            outcome="concluded",
            legal_basis="信访工作条例 art. 34",
        ),
        Transition(
            "record_service",
            _REVIEW,
            None,
            "登记处理意见送达（信访人收到书面答复之日）",
            requires=("served_on",),
            guards=("service_day_is_valid",),
            legal_basis="信访工作条例 art. 35（自收到书面答复之日起30日内可请求复查）",
        ),
        Transition(
            "request_review",
            _REVIEW,
            "review_requested",
            "信访人申请复查",
            requires=("party", "reason"),
            guards=("names_a_party", "within_request_window"),
            legal_basis="信访工作条例 art. 35（自收到书面答复之日起30日内）",
        ),
        Transition(
            "close",
            ("concluded",),
            "closed_review_window",
            "办结归档（申请复查期限届满前仍可申请复查）",
            requires=("summary",),
            legal_basis="信访工作条例 art. 35",
        ),
        Transition(
            "end_review_window",
            _REVIEW,
            "closed",
            "申请复查期限届满未申请复查，终结",
            guards=("period_expired",),
            legal_basis="信访工作条例 art. 35",
        ),
        Transition(
            "answer_review",
            ("review_requested",),
            "reviewed",
            "出具复查意见",
            requires=("opinion",),
            legal_basis="信访工作条例 art. 35（收到复查请求之日起30日内）",
        ),
        Transition(
            "record_review_service",
            _RECHECK,
            None,
            "登记复查意见送达（信访人收到复查意见之日）",
            requires=("served_on",),
            guards=("service_day_is_valid",),
            legal_basis="信访工作条例 art. 36（自收到复查意见之日起30日内可请求复核）",
        ),
        Transition(
            "request_recheck",
            _RECHECK,
            "recheck_requested",
            "信访人申请复核",
            requires=("party", "reason"),
            guards=("names_a_party", "within_request_window"),
            legal_basis="信访工作条例 art. 36（自收到复查意见之日起30日内）",
        ),
        Transition(
            "close",
            ("reviewed",),
            "closed_recheck_window",
            "办结归档（申请复核期限届满前仍可申请复核）",
            requires=("summary",),
            legal_basis="信访工作条例 art. 36",
        ),
        Transition(
            "end_recheck_window",
            _RECHECK,
            "closed",
            "申请复核期限届满未申请复核，终结",
            guards=("period_expired",),
            legal_basis="信访工作条例 art. 36",
        ),
        Transition(
            "close",
            ("recheck_requested",),
            "closed",
            "终结（已出具复核意见）",
            requires=("summary",),
            legal_basis="信访工作条例 art. 36",
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="disposal_period",
            label="信访事项处理（转送、交办）期限",
            period=Period(15, "days"),
            legal_basis="信访工作条例 arts. 22-23（收到信访事项之日起15日内处理并告知信访人）",
            starts_on=("open",),
            from_receipt=True,
            runs_in=frozenset({"registered"}),
        ),
        DeadlineRule(
            kind="remit_objection_window",
            label="职权异议期限",
            period=Period(5, "working_days"),
            legal_basis="信访工作条例 art. 23（不属于本机关职权范围的，收到之日起5个工作日内提出异议）",
            starts_on=("open",),
            from_receipt=True,
            runs_in=frozenset({"registered"}),
            duty=False,
        ),
        DeadlineRule(
            kind="handling_period",
            label="信访事项办理期限",
            period=Period(60, "days"),
            legal_basis="信访工作条例 art. 34（受理之日起60日内办结，经批准可延长不超过30日）",
            starts_on=("accept",),
            runs_in=frozenset(_OPEN),
            extended_by=("extend_handling",),
            extension=Period(30, "days"),
            remind_before=10,
        ),
        DeadlineRule(
            kind="review_window",
            label="申请复查期限",
            period=Period(30, "days"),
            legal_basis="信访工作条例 art. 35（自收到书面答复之日起30日内请求复查）",
            starts_on=("record_service",),
            starts_from="served_on",
            runs_in=frozenset(_REVIEW),
            duty=False,
            on_expiry="end_review_window",
        ),
        DeadlineRule(
            kind="review_period",
            label="复查办理期限",
            period=Period(30, "days"),
            legal_basis="信访工作条例 art. 35（收到复查请求之日起30日内提出复查意见）",
            starts_on=("request_review",),
            runs_in=frozenset({"review_requested"}),
        ),
        DeadlineRule(
            kind="recheck_window",
            label="申请复核期限",
            period=Period(30, "days"),
            legal_basis="信访工作条例 art. 36（自收到复查意见之日起30日内请求复核）",
            starts_on=("record_review_service",),
            starts_from="served_on",
            runs_in=frozenset(_RECHECK),
            duty=False,
            on_expiry="end_recheck_window",
        ),
        DeadlineRule(
            kind="recheck_period",
            label="复核办理期限",
            period=Period(30, "days"),
            legal_basis="信访工作条例 art. 36（收到复核请求之日起30日内提出复核意见）",
            starts_on=("request_recheck",),
            runs_in=frozenset({"recheck_requested"}),
        ),
    ),
    documents=(
        DocumentSpec(
            "petition_feedback",
            "调解结果反馈函",
            "司法部、国家信访局 2025 意见",
            ("result_received",),
        ),
    ),
)
