"""行政调解 — mediation by an administrative organ (domain.md §3.2).

No national statute; local rules govern (e.g. 北京市行政调解办法 2015): 申请 → 立案审批 →
征求对方意见 (the other party must consent) → 受理/不予受理通知 → 调解 → 协议书 or 终止通知 →
结案审批. The periods are local: the default here is one local scheme, 20 working days from
acceptance, +10 with the chief's approval (unverified nationally: configuration, not law).
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

LOCAL = "北京市行政调解办法（2015）等地方规定"

FLOW = Flow(
    name="administrative",
    label="行政调解",
    legal_basis=f"{LOCAL}（无全国统一立法）",
    case_word="行调",
    initial="applied",
    description="行政机关在职权范围内调解民事纠纷；须征得对方当事人同意。",
    states=(
        State("applied", "申请"),
        State("approved", "立案审批通过"),
        State("consulting", "征求对方当事人意见"),
        State("accepted", "已受理（已通知）"),
        State("rejected", "不予受理（已通知）", final=True),
        State("refused", "对方当事人不同意调解", final=True),
        State("mediating", "调解中"),
        State("agreed", "达成调解协议"),
        State("terminated", "终止调解（已通知）"),
        State("closed", "结案审批", final=True),
    ),
    transitions=(
        Transition(
            "approve_filing",
            ("applied",),
            "approved",
            "立案审批",
            requires=("approved_by",),
            legal_basis=LOCAL,
        ),
        replace(common.REJECT, source=("applied", "approved"), legal_basis=LOCAL),
        Transition("consult", ("approved",), "consulting", "征求对方当事人意见", legal_basis=LOCAL),
        Transition(
            "other_party_consents",
            ("consulting",),
            "accepted",
            "对方同意调解，发出受理通知",
            requires=("party",),
            guards=("names_the_other_party",),
            legal_basis=LOCAL,
        ),
        Transition(
            "other_party_refuses",
            ("consulting",),
            "refused",
            "对方不同意调解，不予调解",
            requires=("party", "reason"),
            guards=("names_the_other_party",),
            outcome="refused",
            legal_basis=LOCAL,
        ),
        *common.sessions(LOCAL, first_from="accepted", label="记录调解"),
        common.approved_extension(
            "extend", ("accepted", "mediating"), "经机关负责人批准延长（不超过10个工作日）", LOCAL
        ),
        replace(common.agree_written("达成调解协议，制作行政调解协议书", LOCAL), dest="agreed"),
        Transition(
            "terminate",
            ("accepted", "mediating"),
            "terminated",
            "调解不成，发出终止调解通知",
            requires=("reason", "other_routes"),
            outcome="terminated",
            legal_basis=LOCAL,
        ),
        Transition(
            "close",
            ("agreed", "terminated"),
            "closed",
            "结案审批",
            requires=("approved_by",),
            legal_basis=LOCAL,
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="行政调解期限",
            period=Period(20, "working_days"),
            legal_basis=f"{LOCAL}（受理之日起20个工作日，经批准可延长10个工作日；各地不一）",
            starts_on=("other_party_consents",),
            runs_in=frozenset({"accepted", "mediating"}),
            extended_by=("extend",),
            extension=Period(10, "working_days"),
            configurable=True,
        ),
    ),
    documents=(DocumentSpec("agreement", "行政调解协议书", LOCAL, ("agreed",)),),
)
