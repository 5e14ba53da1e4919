"""司法调解 — the judge or panel mediates in litigation (domain.md §3.3; 民事诉讼法 2023
arts. 96-102; 最高人民法院关于人民法院民事调解工作若干问题的规定 art. 4).

Mediation before the answer period ends: 15 days from the parties' consent (普通程序; 7 for
简易程序, :mod:`mediation.workflows.judicial_simple`); a consented extension does not count
toward the trial limit. A 调解书 takes effect when both parties have signed for it (art. 100);
some agreements are only recorded (art. 101); failure, or a party reneging before service,
leads to judgment (art. 102); or the plaintiff withdraws the suit.

The trial limit (审理期限) runs beside it, a window the parties see in ``case show``: from the
day the case was filed (立案, the intake's ``received_at``), six months under 普通程序 (art.
152), extendable once by six months with the court president's approval; three months
under 简易程序 (art. 164), extendable once by one month with the president's approval.
``extend_trial_limit`` records the approval (who approved, why). An overrun is reported like
any other (``report overdue``); the law attaches no consequence to it here, so nothing is
fired. A further extension beyond art. 152's six months needs the higher court's approval
and is not modelled. The time of a consented extension of the mediation period, which does
not count toward the trial limit (民事调解规定 art. 4), is not deducted from it.

The 民事调解书 (art. 100) states the 诉讼请求, the facts of the case and the result of the
mediation, is signed by the judge and the clerk, sealed by the court and served on the
parties; it has no signature lines for the parties. ``agree`` records what it prints: the
claims, the facts, the agreed terms, the judge (审判员) and the clerk (书记员). The court's own
case number (（2026）浙0681民初123号) is built from its court code (``org set-court-code``).
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_CPL = "民事诉讼法"
_WORKING = ("consented", "mediating")
#: While the suit is pending in this flow: the trial limit runs.
_PENDING = ("consented", "mediating", "agreed")
#: The trial limit of each procedure: (period, approved extension, article).
TRIAL_LIMITS = {
    "普通程序": (Period(6, "months"), Period(6, "months"), "152"),
    "简易程序": (Period(3, "months"), Period(1, "months"), "164"),
}
#: What the 民事调解书 states (民事诉讼法 art. 100): the claims, the facts of the case, the
#: result (the agreed terms), and the judge and clerk who sign it.
MEDIATION_BOOK_FIELDS = ("claims", "facts", "terms", "judge", "clerk")
#: What it may state besides: who bears the court fees (案件受理费负担).
MEDIATION_BOOK_OPTIONAL = ("costs",)


def build(name: str, label: str, days: int, procedure: str) -> Flow:
    """The flow for one procedure (普通程序 15 days, 简易程序 7 days)."""
    limit, extension, article = TRIAL_LIMITS[procedure]
    trial_basis = (
        f"{_CPL} art. {article}（立案之日起{limit.label}审结；有特殊情况需要延长的，"
        f"经本院院长批准，可以延长{extension.label}）"
    )
    return Flow(
        name=name,
        label=label,
        legal_basis=f"《中华人民共和国民事诉讼法》arts. 96-102；民事调解规定 art. 4（{procedure}）",
        case_word="民初调",
        court_case_type="民初",
        initial="consented",
        description="人民法院审理民事案件中，根据当事人自愿原则进行调解。",
        states=(
            State("consented", "当事人同意调解"),
            State("mediating", "调解中"),
            State("agreed", "达成协议，制作调解书"),
            State("effective", "调解书经双方签收生效", final=True),
            State("recorded", "协议记入笔录生效", final=True),
            State("to_judgment", "调解不成或签收前反悔，及时判决", final=True),
            State("withdrawn", "原告撤诉", final=True),
        ),
        transitions=(
            *common.sessions(f"{_CPL} arts. 96-98", first_from="consented", label="记录调解"),
            common.extend("经双方同意延长调解期间（不计入审限）", "民事调解规定 art. 4", _WORKING),
            common.approved_extension(
                "extend_trial_limit",
                _PENDING,
                f"经本院院长批准延长审理期限（{extension.label}）",
                f"{_CPL} art. {article}",
            ),
            Transition(
                "agree",
                ("mediating",),
                "agreed",
                "达成调解协议，制作调解书",
                requires=MEDIATION_BOOK_FIELDS,
                optional=MEDIATION_BOOK_OPTIONAL,
                legal_basis=f"{_CPL} arts. 99-100",
            ),
            Transition(
                "record_only",
                ("mediating",),
                "recorded",
                "不需制作调解书的协议记入笔录",
                requires=("terms",),
                outcome="agreement_written",
                legal_basis=f"{_CPL} art. 101",
            ),
            Transition(
                "served",
                ("agreed",),
                "effective",
                "双方当事人签收调解书",
                requires=("served_on",),
                outcome="agreement_written",
                legal_basis=f"{_CPL} art. 100",
            ),
            Transition(
                "to_judgment",
                ("consented", "mediating", "agreed"),
                "to_judgment",
                "调解未达成协议或调解书送达前一方反悔，及时判决",
                requires=("reason",),
                outcome="terminated",
                legal_basis=f"{_CPL} art. 102",
            ),
            Transition(
                "withdraw_suit",
                ("consented", "mediating"),
                "withdrawn",
                "原告撤回起诉",
                requires=("reason",),
                outcome="withdrawn",
                legal_basis=f"{_CPL} art. 148",
            ),
        ),
        deadlines=(
            DeadlineRule(
                kind="mediation_period",
                label=f"审前调解期限（{procedure}）",
                period=Period(days, "days"),
                legal_basis=f"民事调解规定 art. 4（答辩期满前调解，{procedure}{days}日，经双方同意延长的不计入审限）",
                starts_on=("open",),
                runs_in=frozenset(_WORKING),
                extended_by=("extend",),
            ),
            DeadlineRule(
                kind="trial_limit",
                label=f"审理期限（{procedure}）",
                period=limit,
                legal_basis=trial_basis,
                starts_on=("open",),
                runs_in=frozenset(_PENDING),
                extended_by=("extend_trial_limit",),
                extension=extension,
                from_receipt=True,
                remind_before=15,
            ),
        ),
        documents=(DocumentSpec("civil_mediation", "民事调解书", f"{_CPL} art. 100", ("agreed",)),),
    )


FLOW = build("judicial", "司法调解（诉讼中，普通程序）", 15, "普通程序")
