"""Steps every people's-mediation flow shares (人民调解法), declared once.

A flow module composes its transitions from these and its own; where a flow's statute
words a step differently, it overrides the label or legal basis with
``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from mediation.domain.periods import Period
from mediation.workflows._spec import AGREEMENT_EFFECTIVE, DeadlineRule, Flow, Transition

#: 人民调解法 art. 29: the fields a written agreement "可以载明" (may state) — the law lists
#: them without requiring them; the product asks for them because centres require them
#: (the place of performance: 人民调解工作若干规定 art. 35).
AGREEMENT_FIELDS = (
    "facts",
    "issues",
    "responsibility",
    "terms",
    "performance_method",
    "performance_place",
    "performance_deadline",
)

#: What a session's record (调查记录, 人民调解记录; 人民调解文书格式) prints when the step
#: records it: the place, who took part, each side's account, the verification and the
#: risk warning (mediation.documents.forms).
SESSION_DETAILS = (
    "place",
    "investigators",
    "interviewees",
    "participants",
    "accounts",
    "verification",
    "risk_warning",
)
#: What a follow-up's record (回访记录) prints when the visit records it (domain.md §5:
#: satisfaction, any lawsuit, signs of renewed conflict, measures taken, the visitor).
FOLLOW_UP_DETAILS = ("satisfaction", "visitor", "lawsuit", "renewed_conflict", "measures")


def accept(legal_basis: str = "人民调解法 art. 17") -> Transition:
    return Transition("accept", ("applied",), "accepted", "受理", legal_basis=legal_basis)


REJECT = Transition(
    "reject",
    ("applied",),
    "rejected",
    "不予受理",
    requires=("reason", "redirect_to"),
    outcome="rejected",
    legal_basis="人民调解工作若干规定 art. 22",
)


def refuse(
    label: str = "一方当事人明确拒绝调解", legal_basis: str = "人民调解法 art. 17"
) -> Transition:
    return Transition(
        "refuse",
        ("applied", "accepted", "assigned", "informed"),
        "refused",
        label,
        requires=("party", "reason"),
        guards=("names_a_party",),
        outcome="refused",
        legal_basis=legal_basis,
    )


ASSIGN = Transition(
    "assign",
    ("accepted",),
    "assigned",
    "指派调解员",
    requires=("mediators", "selection"),
    guards=("selection_is_known",),
    effects=("set_mediators",),
    legal_basis="人民调解法 art. 19",
)
INFORM = Transition(
    "inform", ("assigned",), "informed", "告知权利义务", legal_basis="人民调解法 arts. 23-24"
)


def sessions(
    legal_basis: str = "人民调解法 arts. 21-22",
    *,
    first_from: str = "informed",
    label: str = "记录调查/调解",
) -> tuple[Transition, Transition]:
    """The first session (``first_from`` → 调解中) and each further one (no state change)."""
    first = Transition(
        "record_session",
        (first_from,),
        "mediating",
        label,
        requires=("kind", "summary"),
        guards=("session_kind_is_known",),
        legal_basis=legal_basis,
        optional=SESSION_DETAILS,
    )
    return first, Transition(
        "record_session",
        ("mediating",),
        None,
        first.label,
        requires=first.requires,
        guards=first.guards,
        legal_basis=legal_basis,
        optional=SESSION_DETAILS,
    )


def appraisal(legal_basis: str, *, paused: str = "（期限中止）") -> tuple[Transition, Transition]:
    """Appraisal (鉴定) stops the clock and its conclusion restarts it."""
    return (
        Transition(
            "start_appraisal",
            ("mediating",),
            "appraising",
            f"委托鉴定{paused}",
            requires=("appraisal_body", "matter"),
            legal_basis=f"{legal_basis}（鉴定时间不计入调解期限）",
        ),
        Transition(
            "finish_appraisal",
            ("appraising",),
            "mediating",
            "收到鉴定意见（期限恢复）",
            requires=("conclusion",),
            legal_basis=legal_basis,
        ),
    )


def extend(label: str, legal_basis: str, source: tuple[str, ...]) -> Transition:
    return Transition(
        "extend",
        source,
        None,
        label,
        requires=("reason", "consented_by", "new_due"),
        guards=("both_sides_consent", "new_due_is_later"),
        effects=("extend_deadline",),
        legal_basis=legal_basis,
    )


def approved_extension(
    trigger: str, source: tuple[str, ...], label: str, legal_basis: str
) -> Transition:
    """A statutory extension granted with approval (信访 +30, 司法确认 +10): the length is the
    deadline rule's ``extension``, and it is granted once."""
    return Transition(
        trigger,
        source,
        None,
        label,
        requires=("approved_by", "reason"),
        guards=("extension_available",),
        effects=("extend_deadline",),
        legal_basis=legal_basis,
        role="supervisor",
    )


def agree_written(
    label: str = "达成书面调解协议",
    legal_basis: str = "人民调解法 art. 29",
    extra: tuple[str, ...] = (),
) -> Transition:
    return Transition(
        "agree_written",
        ("mediating",),
        "agreed_written",
        label,
        requires=(*AGREEMENT_FIELDS, *extra),
        guards=("performance_deadline_is_date",),
        effects=("record_agreement",),
        outcome="agreement_written",
        legal_basis=legal_basis,
    )


TERMINATE = Transition(
    "terminate",
    ("assigned", "informed", "mediating"),
    "terminated",
    "调解不成，终止调解",
    requires=("reason", "other_routes"),
    outcome="terminated",
    legal_basis="人民调解法 art. 26",
)


def withdraw(source: tuple[str, ...]) -> Transition:
    return Transition(
        "withdraw",
        source,
        "withdrawn",
        "当事人撤回申请或要求终止调解",
        requires=("party", "reason"),
        guards=("names_a_party",),
        outcome="withdrawn",
        legal_basis="人民调解法 art. 23",
    )


def follow_ups(source: tuple[str, ...]) -> tuple[Transition, Transition]:
    """The first follow-up visit (回访) after an agreement, and each further one."""
    first = Transition(
        "follow_up",
        source,
        "followed_up",
        "履行情况回访",
        requires=("performance", "summary"),
        guards=("performance_is_known",),
        legal_basis="人民调解法 art. 31",
        optional=FOLLOW_UP_DETAILS,
    )
    again = Transition(
        "follow_up",
        ("followed_up",),
        None,
        first.label,
        requires=first.requires,
        guards=first.guards,
        legal_basis=first.legal_basis,
        optional=FOLLOW_UP_DETAILS,
    )
    return first, again


#: 司法确认 of a people's-mediation agreement (人民调解法 art. 33; 民事诉讼法 arts. 205-206).
CONFIRMATION = (
    Transition(
        "apply_confirmation",
        ("agreed_written", "followed_up"),
        "confirmation_applied",
        "双方共同申请司法确认",
        requires=("court", "consented_by"),
        guards=("agreement_in_effect", "within_confirmation_window", "both_sides_consent"),
        legal_basis="人民调解法 art. 33；民事诉讼法 art. 205",
    ),
    Transition(
        "confirmation_granted",
        ("confirmation_applied",),
        "confirmed",
        "法院裁定调解协议有效",
        requires=("ruling_ref",),
        legal_basis="民事诉讼法 art. 206",
    ),
    Transition(
        "confirmation_denied",
        ("confirmation_applied",),
        "confirmation_rejected",
        "法院裁定驳回申请",
        requires=("ruling_ref", "reason"),
        legal_basis="民事诉讼法 art. 206",
    ),
    Transition(
        "remediate",
        ("confirmation_rejected",),
        "mediating",
        "驳回后重新调解",
        legal_basis="民事诉讼法 art. 206",
    ),
)

#: The parties' 30 days to apply jointly for judicial confirmation, from the day the
#: agreement takes effect: a written one when the last signature, fingerprint or seal is
#: recorded (人民调解法 art. 29), not the day it was reached; a flow with oral agreements adds
#: ``agree_oral`` (effective when reached, art. 30).
CONFIRMATION_WINDOW = DeadlineRule(
    kind="confirmation_window",
    label="申请司法确认期限",
    period=Period(30, "days"),
    legal_basis="人民调解法 art. 33；民事诉讼法 art. 205（协议生效之日起三十日内）",
    starts_on=(AGREEMENT_EFFECTIVE,),
    runs_in=frozenset({"agreed_written", "followed_up"}),
    duty=False,
)


def police_report(source: tuple[str, ...]) -> Transition:
    """人民调解法 art. 25: a dispute that may turn into a public-order or criminal case is
    reported to the police and preventive measures are taken. A duty recorded on the case,
    not an outcome: the mediation goes on (no state change)."""
    return Transition(
        "report_police",
        source,
        None,
        "可能激化，采取预防措施并报告公安机关（调解继续）",
        requires=("reason", "police_organ", "measures"),
        legal_basis="人民调解法 art. 25",
    )


def police_take_over(source: tuple[str, ...]) -> Transition:
    """The police take the matter over (立案/受理): only then does the mediation end."""
    return Transition(
        "refer_police",
        source,
        "referred_police",
        "公安机关已受理（接手处理），终止调解",
        requires=("reason", "police_organ"),
        optional=("police_ref",),
        outcome="referred_police",
        legal_basis="人民调解法 art. 25",
    )


def remediate_agreement(source: tuple[str, ...] = ("followed_up",)) -> Transition:
    """人民调解工作若干规定 art. 37, item 2: found at a follow-up that the agreement is unsuitable, the
    committee mediates again with both parties' consent to change it (or replace it with a
    new one); a new agreement must then be signed and takes effect anew."""
    return Transition(
        "remediate_agreement",
        source,
        "mediating",
        "经双方同意再次调解，变更原调解协议",
        requires=("reason", "consented_by"),
        guards=("both_sides_consent",),
        legal_basis="人民调解工作若干规定 art. 37（二）（协议内容不当，征得双方同意后再次调解变更）",
    )


def archive(source: tuple[str, ...]) -> Transition:
    return Transition("archive", source, "archived", "立卷归档", legal_basis="人民调解法 art. 27")


# -- what every mediation case may record for the official statistics --------------------

#: The flows whose proceedings are not mediation cases (the petition bureau's handling, the
#: court's review of an agreement): they record neither prevention nor agreement amounts.
NOT_MEDIATION = frozenset({"petition", "judicial_confirmation"})
#: The outcomes of an agreement; the steps that set one (or record it) accept ``amount``.
AGREEMENT_OUTCOMES = frozenset({"agreement_written", "agreement_oral"})
#: 协议涉及金额: the money at stake in the agreement, in yuan, optional on every step that
#: reaches or records an agreement (the official returns sum it).
AMOUNT_FIELD = "amount"
#: The in-place actions :func:`with_common_actions` adds to every mediation flow.
COMMON_ACTIONS = frozenset({"record_prevention"})


#: Flows run by people's mediation committees: 人民调解法 art. 25 (a mediator who finds a
#: dispute may escalate takes preventive measures) is their basis for recording a
#: prevention; the other bodies (labour, land, administrative organs) record it for the
#: statistics, under no article of that law.
PEOPLES_MEDIATION_FLOWS = frozenset({"peoples", "medical_committee", "traffic"})


def record_prevention(source: tuple[str, ...], *, peoples: bool = True) -> Transition:
    """What the case prevented (预防纠纷激化, 防止民转刑, 防止群体性上访, 防止群体性械斗,
    防止自杀: ``taxonomy.PREVENTIONS``) and how many people it concerned, recorded in place
    from any state of a case still open; recorded again, the same kind is corrected."""
    return Transition(
        "record_prevention",
        source,
        None,
        "登记防止纠纷激化情况",
        requires=("prevention", "people", "summary"),
        guards=("prevention_is_known",),
        legal_basis="人民调解法 art. 25" if peoples else "矛盾纠纷预防化解统计（本机构登记）",
    )


def with_common_actions(flow: Flow) -> Flow:
    """``flow`` with what every mediation case may record for the statistics: the
    in-place ``record_prevention`` from each state that is not final, and ``amount`` on each
    step that reaches or records an agreement (``record_agreement``)."""
    if flow.name in NOT_MEDIATION:
        return flow
    transitions = tuple(
        replace(
            t,
            optional=(*t.optional, AMOUNT_FIELD),
            guards=(*t.guards, "amount_is_valid"),
        )
        if (t.outcome in AGREEMENT_OUTCOMES or "record_agreement" in t.effects)
        and AMOUNT_FIELD not in t.fields
        else t
        for t in flow.transitions
    )
    open_states = tuple(s.name for s in flow.states if not s.final)
    prevention = record_prevention(open_states, peoples=flow.name in PEOPLES_MEDIATION_FLOWS)
    return replace(flow, transitions=(*transitions, prevention))


def amount_value(value: object) -> Decimal | None:
    """An agreement's ``amount`` in yuan (``12000``, ``12,000.50``, a TOML number), or None
    when it is not a non-negative amount with at most two decimals."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().replace(",", "").replace("，", "")
    text = text.removesuffix("元")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= 10**12:
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def people_value(value: object) -> int | None:
    """A prevention's ``people``: a whole number from 1 to 100 000, or None."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().removesuffix("人")
    if not text.isascii() or not text.isdigit():
        return None
    people = int(text)
    return people if 1 <= people <= 100_000 else None
