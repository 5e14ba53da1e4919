"""What the statistics count: every figure with its label and definition, the outcome
classes and how a case is classified, the dimensions a report is grouped by."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mediation.domain import taxonomy

#: Flows whose proceedings are not mediation cases (see the package docstring).
NOT_CASES = ("petition", "judicial_confirmation")
#: ``--by`` dimensions, and their labels.
DIMENSION_LABELS = taxonomy.STATS_DIMENSIONS
DIMENSIONS = tuple(DIMENSION_LABELS)
#: The statutory clock durations and overdue rates are measured on.
CLOCK = "mediation_period"
#: A dispute is a repeat when the same parties had one of the same type this long before.
REPEAT_WINDOW_MONTHS = 12

#: States in which a case waits for the decision to accept it (受理). Data, not derived:
#: which states come before acceptance is a fact of each flow's procedure.
AWAITING_ACCEPTANCE: Mapping[str, frozenset[str]] = {
    "peoples": frozenset({"applied"}),
    "medical_committee": frozenset({"applied"}),
    "labour": frozenset({"applied"}),
    "land_contract": frozenset({"applied"}),
    "traffic": frozenset({"applied"}),
    "administrative": frozenset({"applied", "approved", "consulting"}),
    "health_admin": frozenset({"applied"}),
    "traffic_police": frozenset({"applied"}),
    "online": frozenset({"applied"}),
}
#: States reached by handing an agreement on (the outcome then reads ``transferred``):
#: 委派调解's agreement goes to the court for confirmation (特邀调解规定 art. 19).
SETTLED_STATES: Mapping[tuple[str, str], str] = {
    ("court_referred", "confirmation_requested"): "written",
}

#: Outcome classes, in report order; a case is in exactly one.
CLASSES = (
    "awaiting",
    "rejected",
    "refused",
    "written",
    "oral",
    "failed",
    "withdrawn",
    "transferred",
    "in_progress",
)
_OUTCOME_CLASS = {
    "agreement_written": "written",
    "agreement_oral": "oral",
    "terminated": "failed",  # 终止调解, 视为调解不成, 逾期未达成, 转入判决, 治安处罚
    "returned": "failed",  # 委派/委托调解不成，退回法院
    "withdrawn": "withdrawn",
    "escalated": "transferred",
    "transferred": "transferred",
    "referred_police": "transferred",
    "rejected": "rejected",
    "not_accepted": "rejected",
    "refused": "refused",
}
#: 回访 performance and satisfaction codes (follow_up's ``performance`` is required;
#: ``satisfaction`` is optional: ``case advance N follow_up --set satisfaction=satisfied``;
#: the follow-up's guard accepts only these).
PERFORMANCE = tuple(taxonomy.PERFORMANCE)
SATISFACTION = taxonomy.SATISFACTION
SATISFACTION_CODE = {label: code for code, label in SATISFACTION.items()}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: its key, Chinese label, unit and definition."""

    key: str
    label: str
    unit: str
    definition: str


#: Every figure, in report order. ``unit`` is 件 (a count), % (a share) or 日 (days).
FIGURES = (
    Figure(
        "received", "收案", "件", "期间内登记或经移交收到的调解案件（不含信访事项和司法确认案件）"
    ),
    Figure(
        "disputes",
        "新收纠纷",
        "件",
        "其中首次登记的纠纷（不含上报/移交而来的案件和已合并的重复登记）",
    ),
    Figure("awaiting", "待受理", "件", "尚未决定是否受理"),
    Figure("rejected", "不予受理", "件", "不予受理（若干规定 art. 22）"),
    Figure("refused", "当事人拒绝调解", "件", "一方明确拒绝，不得调解（人民调解法 art. 17）"),
    Figure("accepted", "受理", "件", "收案 − 待受理 − 不予受理 − 拒绝调解"),
    Figure("settled", "调解成功", "件", "达成书面或口头协议（含调解书、司法调解协议）"),
    Figure("written", "书面协议", "件", "达成书面调解协议（人民调解法 art. 29）"),
    Figure("oral", "口头协议", "件", "达成口头协议（人民调解法 art. 28）"),
    Figure("failed", "调解不成", "件", "终止调解、视为调解不成、逾期、退回法院、转入判决"),
    Figure("withdrawn", "撤回", "件", "当事人撤回申请或要求终止（人民调解法 art. 23）"),
    Figure(
        "transferred", "移交", "件", "上报上级调委会、移交其他程序、移送公安；在其后的案件中计结果"
    ),
    Figure("in_progress", "在办", "件", "已受理，尚未办结"),
    Figure(
        "settlement_rate", "调解成功率（化解率）", "%", "调解成功 ÷（调解成功 + 调解不成 + 撤回）"
    ),
    Figure("at_village", "村级化解占比", "%", "调解成功中由村/社区调委会化解的比例（小事不出村）"),
    Figure("at_township", "镇级化解占比", "%", "调解成功中由乡镇/街道化解的比例（大事不出镇）"),
    Figure("above_township", "县级以上化解占比", "%", "调解成功中由县/区、市化解的比例"),
    Figure(
        "duration_median",
        "办理天数中位数",
        "日",
        "调解期限起算（受理/签收）至停止（协议、终止、撤回、移交）的日历天数",
    ),
    Figure("duration_mean", "办理天数平均", "日", "同上，平均"),
    Figure(
        "working_median", "办理工作日中位数", "日", "同上，按项目工作日历计算的工作日（起算日不计）"
    ),
    Figure("working_mean", "办理工作日平均", "日", "同上，平均"),
    Figure("overdue", "超期", "件", "调解期限届满后才办结，或截至报表日仍在计算且已届满"),
    Figure("overdue_rate", "超期率", "%", "超期 ÷ 案件的调解期限（重新调解的另计一次）"),
    Figure("confirmation_applied", "申请司法确认", "件", "书面协议中双方共同申请司法确认的"),
    Figure(
        "confirmation_rate", "司法确认申请率", "%", "申请司法确认 ÷ 可申请司法确认流程中的书面协议"
    ),
    Figure("confirmed", "确认有效", "件", "法院裁定协议有效"),
    Figure("dismissed", "驳回", "件", "法院裁定驳回申请"),
    Figure("confirmation_refused", "法院不予受理", "件", "法院不予受理司法确认申请"),
    Figure("confirmation_pending", "司法确认审查中", "件", "已申请，尚无裁定"),
    Figure("confirmed_rate", "确认有效率", "%", "确认有效 ÷（确认有效 + 驳回 + 不予受理）"),
    Figure("followed_up", "已回访", "件", "调解成功且有回访记录（人民调解法 art. 31）"),
    Figure("follow_up_rate", "回访率", "%", "已回访 ÷ 有回访环节的流程中的调解成功案件"),
    Figure("performed", "已履行", "件", "最近一次回访：已履行"),
    Figure("performance_rate", "履行率", "%", "已履行 ÷ 已回访"),
    Figure("satisfied", "满意（含基本满意）", "件", "最近一次回访记录的满意度为满意或基本满意"),
    Figure("satisfaction_rate", "满意率", "%", "（满意 + 基本满意）÷ 记录了满意度的回访"),
    Figure(
        "repeats",
        "重复纠纷",
        "件",
        "新收纠纷中，相同当事人、相同类型的纠纷在此前12个月内已登记过的",
    ),
    Figure("repeat_rate", "重复纠纷率", "%", "重复纠纷 ÷ 新收纠纷"),
)
FIGURE_BY_KEY = {f.key: f for f in FIGURES}


def flows_with(trigger: str) -> frozenset[str]:
    from mediation.workflows import FLOW_MODULES, get_flow

    return frozenset(
        n for n in FLOW_MODULES if any(t.trigger == trigger for t in get_flow(n).transitions)
    )


def classify(flow: str, state: str, outcome: str | None) -> str:
    """The outcome class (:data:`CLASSES`) of a case in ``state`` with ``outcome``.

    The stored outcome is the last one a transition set; a case back in mediation after
    its agreement was refused confirmation (``remediate``), or whose agreement still
    awaits service (司法调解 ``agreed``), is in progress again: its state can still lead
    to an agreement.
    """
    if state in AWAITING_ACCEPTANCE.get(flow, ()):
        return "awaiting"
    settled = SETTLED_STATES.get((flow, state))
    if settled:
        return settled
    if outcome is None or state in _can_still_agree(flow):
        return "in_progress"
    return _OUTCOME_CLASS.get(outcome, "in_progress")


_AGREEING: dict[str, frozenset[str]] = {}


def _can_still_agree(flow: str) -> frozenset[str]:
    """States of ``flow`` from which a transition still reaches an agreement."""
    found = _AGREEING.get(flow)
    if found is None:
        from mediation.workflows import get_flow

        found = _AGREEING[flow] = frozenset(
            s
            for t in get_flow(flow).transitions
            if t.outcome in ("agreement_written", "agreement_oral")
            for s in t.source
        )
    return found


def key_label(by: str | None, code: str) -> str:
    """The Chinese label of a group."""
    if by == "level":
        return taxonomy.label(taxonomy.LEVELS, code)
    if by == "type":
        return taxonomy.label(taxonomy.DISPUTE_TYPES, code)
    if by == "channel":
        group = taxonomy.CHANNEL_GROUPS.get(code)
        name = taxonomy.label(taxonomy.CHANNELS, code)
        return f"{name}（{group}）" if group else name
    if by == "mediator":
        return code or "（未指派）"
    return code


def order_keys(by: str | None, keys: Iterable[str]) -> list[str]:
    table = {
        "level": taxonomy.LEVELS,
        "type": taxonomy.DISPUTE_TYPES,
        "channel": taxonomy.CHANNELS,
    }.get(by or "")
    if table is None:
        return sorted(keys)
    known = list(table)
    return sorted(keys, key=lambda k: (known.index(k) if k in known else len(known), k))
