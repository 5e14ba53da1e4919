"""劳动争议调解 — labour-dispute mediation (domain.md §3.6; 劳动争议调解仲裁法 2007).

A party may apply in writing or orally (art. 12). If no agreement is reached within 15 days
of the mediation organisation receiving the application, the party may apply for
arbitration (art. 14): the scheduler records that the period lapsed and the parties are
told of arbitration. An agreement on unpaid wages or work-injury costs may found a payment
order (art. 16).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_WORKING = ("accepted", "assigned", "informed", "mediating")
_ART14 = "劳动争议调解仲裁法 art. 14"

FLOW = Flow(
    name="labour",
    label="劳动争议调解",
    legal_basis="《中华人民共和国劳动争议调解仲裁法》",
    case_word="劳调",
    initial="applied",
    description="劳动争议调解组织调解劳动争议；十五日内未达成协议的，当事人可以申请仲裁。",
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
        State("lapsed", "十五日内未达成协议，可申请仲裁"),
        State("withdrawn", "当事人撤回"),
        State("followed_up", "已回访"),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        common.accept("劳动争议调解仲裁法 art. 12"),
        common.REJECT,
        common.refuse(),
        common.ASSIGN,
        common.INFORM,
        *common.sessions("劳动争议调解仲裁法 art. 13"),
        common.agree_written(legal_basis="劳动争议调解仲裁法 art. 14；人民调解法 art. 29"),
        common.TERMINATE,
        Transition(
            "lapse",
            ("applied", *_WORKING),
            "lapsed",
            "十五日内未达成调解协议，告知当事人可申请仲裁",
            guards=("period_expired",),
            outcome="terminated",
            legal_basis=f"{_ART14}（自收到调解申请之日起十五日内未达成调解协议的，当事人可以依法申请仲裁）",
        ),
        common.withdraw(_WORKING),
        *common.follow_ups(("agreed_written",)),
        common.archive(("terminated", "lapsed", "withdrawn", "followed_up")),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="劳动争议调解期限",
            period=Period(15, "days"),
            legal_basis=f"{_ART14}（自劳动争议调解组织收到调解申请之日起十五日）",
            starts_on=("open",),
            from_receipt=True,
            runs_in=frozenset({"applied", *_WORKING}),
            on_expiry="lapse",
        ),
    ),
    documents=(
        DocumentSpec(
            "agreement", "劳动争议调解协议书", "劳动争议调解仲裁法 art. 14", ("agreed_written",)
        ),
    ),
)
