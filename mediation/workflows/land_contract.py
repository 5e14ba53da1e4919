"""农村土地承包经营纠纷调解 (domain.md §3.6; 农村土地承包经营纠纷调解仲裁法 2009).

Mediated by the village committee or the township government (arts. 3, 7), on a written or
oral application (art. 8); every step cites this statute, not the 人民调解法. A party who
does not wish to mediate, or whose mediation fails, may apply for arbitration or sue
(art. 4). The law sets no period for mediation. If mediation fails the parties may apply
for arbitration, where the award is due within 60 days (+30) of acceptance (art. 47) — a
different proceeding.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.workflows import _common as common
from mediation.workflows._spec import DocumentSpec, Flow, State

_WORKING = ("accepted", "assigned", "informed", "mediating")
_LAW = "农村土地承包经营纠纷调解仲裁法"
#: Art. 4: a party who does not wish to settle or mediate, or whose settlement or mediation
#: fails, may apply for arbitration or sue (art. 3 only says who may be asked to mediate).
_ART4 = f"{_LAW} art. 4"

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
        common.accept(f"{_LAW} art. 8"),
        replace(
            common.REJECT,
            legal_basis=f"{_LAW} arts. 2-3（不属于农村土地承包经营纠纷的，告知其他途径）",
        ),
        common.refuse(legal_basis=f"{_ART4}（不愿调解的，可以申请仲裁或者起诉）"),
        replace(common.ASSIGN, legal_basis=f"{_LAW} art. 7"),
        replace(common.INFORM, legal_basis=f"{_LAW} art. 9"),
        *common.sessions(f"{_LAW} art. 9"),
        common.agree_written(legal_basis=f"{_LAW} art. 10"),
        replace(common.TERMINATE, legal_basis=f"{_ART4}（调解不成的，可以申请仲裁或者起诉）"),
        replace(common.withdraw(_WORKING), legal_basis=_ART4),
        *(
            replace(t, legal_basis=f"{_LAW} arts. 7, 10")
            for t in common.follow_ups(("agreed_written",))
        ),
        replace(
            common.archive(("terminated", "withdrawn", "followed_up")), legal_basis=f"《{_LAW}》"
        ),
    ),
    documents=(
        DocumentSpec(
            "agreement", "调解协议书", "农村土地承包经营纠纷调解仲裁法 art. 10", ("agreed_written",)
        ),
    ),
)
