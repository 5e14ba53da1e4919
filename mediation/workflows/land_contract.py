"""农村土地承包经营纠纷调解 (domain.md §3.6; 农村土地承包经营纠纷调解仲裁法 2009).

Mediated by the village committee or the township government (art. 8); the law sets no
period for mediation. If mediation fails the parties may apply for arbitration, where the
award is due within 60 days (+30) of acceptance (art. 47) — a different proceeding.
"""

from __future__ import annotations

from mediation.workflows import _common as common
from mediation.workflows._spec import DocumentSpec, Flow, State

_WORKING = ("accepted", "assigned", "informed", "mediating")

FLOW = Flow(
    name="land_contract",
    label="农村土地承包经营纠纷调解",
    legal_basis="《中华人民共和国农村土地承包经营纠纷调解仲裁法》",
    case_word="土调",
    initial="applied",
    description="村民委员会、乡（镇）人民政府调解农村土地承包经营纠纷；调解不设期限。",
    states=(
        State("applied", "申请登记"),
        State("accepted", "已受理"),
        State("rejected", "不予受理", final=True),
        State("refused", "当事人拒绝调解", final=True),
        State("assigned", "已指派调解员"),
        State("informed", "已告知权利义务"),
        State("mediating", "调解中"),
        State("agreed_written", "达成调解协议"),
        State("terminated", "调解不成（可申请仲裁或起诉）"),
        State("withdrawn", "当事人撤回"),
        State("followed_up", "已回访"),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        common.accept("农村土地承包经营纠纷调解仲裁法 art. 8"),
        common.REJECT,
        common.refuse(),
        common.ASSIGN,
        common.INFORM,
        *common.sessions("农村土地承包经营纠纷调解仲裁法 art. 9"),
        common.agree_written(legal_basis="农村土地承包经营纠纷调解仲裁法 art. 10"),
        common.TERMINATE,
        common.withdraw(_WORKING),
        *common.follow_ups(("agreed_written",)),
        common.archive(("terminated", "withdrawn", "followed_up")),
    ),
    documents=(
        DocumentSpec(
            "agreement", "调解协议书", "农村土地承包经营纠纷调解仲裁法 art. 10", ("agreed_written",)
        ),
    ),
)
