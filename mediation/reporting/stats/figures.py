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
    """One figure of the report: its key (the code in CSV and JSON), Chinese label, unit,
    definition, and the legal or statistical basis of an official category."""

    key: str
    label: str
    unit: str
    definition: str
    basis: str = ""


#: The basis of the official figures: the people's-mediation statistics the justice
#: administration collects (司法行政统计, 人民调解工作统计; the exact form and column numbers
#: vary by year and province and are not verified here).
OFFICIAL = "司法行政统计·人民调解工作统计"
#: What a case may prevent (人民调解法 art. 25), in the official returns' words: code →
#: (figure label, definition). The codes are taxonomy.PREVENTIONS'.
PREVENTION_FIGURES = {
    "escalation": ("预防纠纷", "防止民间纠纷激化"),
    "criminal": ("防止民转刑", "防止民间纠纷转化为刑事案件"),
    "group_petition": ("防止群体性上访", "防止因民间纠纷引起群体性上访"),
    "group_fight": ("防止群体性械斗", "防止因民间纠纷引起群体性械斗"),
    "suicide": ("防止自杀", "防止因民间纠纷引起自杀"),
}


def _prevention_figures() -> tuple[Figure, ...]:
    out: list[Figure] = []
    for code, (label, what) in PREVENTION_FIGURES.items():
        basis = f"人民调解法第二十五条；{OFFICIAL}（{what}，件、人）"
        out.append(
            Figure(
                f"prevented_{code}",
                f"{label}（件）",
                "件",
                f"期间内登记{what}的案件（case advance N record_prevention "
                f"--set prevention={taxonomy.PREVENTIONS[code]}），每案每类计一次，按登记日期计入期间",
                basis,
            )
        )
        out.append(
            Figure(
                f"prevented_{code}_people",
                f"{label}（人）",
                "人",
                "上述案件登记的涉及人数之和（同一案件同一类多次登记的，取期间内最后一次）",
                basis,
            )
        )
    return tuple(out)


#: Every figure, in report order. ``unit`` is 件 (a count), % (a share), 日 (days), 次
#: (sweeps), 人 (people) or 元 (yuan).
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
    Figure("rejected", "不予受理", "件", "不予受理（若干规定第二十二条）"),
    Figure("refused", "当事人拒绝调解", "件", "一方明确拒绝，不得调解（人民调解法第十七条）"),
    Figure("accepted", "受理", "件", "收案 − 待受理 − 不予受理 − 拒绝调解"),
    Figure("settled", "调解成功", "件", "达成书面或口头协议（含调解书、司法调解协议）"),
    Figure("written", "书面协议", "件", "达成书面调解协议（人民调解法第二十九条）"),
    Figure("oral", "口头协议", "件", "达成口头协议（人民调解法第二十八条）"),
    Figure("failed", "调解不成", "件", "终止调解、视为调解不成、逾期、退回法院、转入判决"),
    Figure("withdrawn", "撤回", "件", "当事人撤回申请或要求终止（人民调解法第二十三条）"),
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
    Figure("followed_up", "已回访", "件", "调解成功且有回访记录（人民调解法第三十一条）"),
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
    # The official categories: counted by the day a thing happened in the period (the
    # mediation ended, the sweep was held, the prevention recorded), not by the day the
    # case was opened like the figures above.
    Figure(
        "official_mediated",
        "调解纠纷数（报表口径）",
        "件",
        "期间内调解结束的案件：达成协议（书面或口头）、调解不成或撤回，按结束之日计入期间，"
        "不论何时收案；结束后又重新调解的，按最后一次结束之日计",
        f"{OFFICIAL}（调解纠纷数）",
    ),
    Figure(
        "official_settled",
        "调解成功数（报表口径）",
        "件",
        "其中达成书面或口头协议的",
        f"{OFFICIAL}（调解成功数）",
    ),
    Figure(
        "official_rate",
        "调解成功率（报表口径）",
        "%",
        "调解成功数 ÷ 调解纠纷数（报表口径）；上文的调解成功率按收案期间计，二者口径不同",
        f"{OFFICIAL}（调解成功率）",
    ),
    Figure(
        "agreement_amount",
        "涉及金额",
        "元",
        "调解成功数（报表口径）中各协议登记的涉及金额（amount）之和",
        f"{OFFICIAL}（协议涉及金额）；人民调解法第二十九条",
    ),
    Figure(
        "amount_recorded",
        "登记了金额的协议",
        "件",
        "调解成功数（报表口径）中登记了涉及金额的协议；未登记的不计入涉及金额",
    ),
    Figure(
        "people_involved",
        "涉及人数",
        "人",
        "调解纠纷数（报表口径）各案纠纷的当事人（申请人、被申请人、第三人）人数之和",
        f"{OFFICIAL}（涉及人数）",
    ),
    Figure(
        "sweeps_held",
        "排查次数",
        "次",
        "期间内开展的矛盾纠纷排查（mediation sweep add），按排查日期计",
        f"{OFFICIAL}（矛盾纠纷排查次数）",
    ),
    Figure(
        "sweep_found",
        "排查发现纠纷",
        "件",
        "上述排查发现的纠纷数之和",
        f"{OFFICIAL}（排查发现纠纷数）",
    ),
    Figure("sweep_opened", "排查后立案", "件", "其中登记为已立案调解的"),
    *_prevention_figures(),
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
