"""司法确认 — the court confirms a mediation agreement (domain.md §3.4; 人民调解法 art. 33;
民事诉讼法 arts. 205-206; 最高人民法院关于人民调解协议司法确认程序的若干规定 2011).

The joint application is accepted or refused within 3 days (2011 规定 art. 4); the ruling
comes within 15 days of acceptance, +10 with approval (art. 5), and within the special
procedure's 30 days in any case (民事诉讼法 art. 187). Before the ruling the parties may
withdraw, and an application is treated as withdrawn when they do not supply what the
court asked for in time (民事诉讼法解释 art. 357).

Confirmed: enforceable. Dismissed, or not accepted: the parties may change the agreement or
reach a new one by mediation, or sue (民事诉讼法 art. 206) — the re-mediation is a hand-off
to a people's mediation committee. After the ruling a party may object within 15 days of
receiving it, a third party within 6 months of knowing its rights were harmed (民事诉讼法解释
art. 372): the service of the ruling is recorded and starts the party's window; the case is
closed when that window has run out (by hand or by the scheduler). A third party's
objection after that is a new case.
"""

from __future__ import annotations

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, HandOff, State, Transition

_ART206 = "民事诉讼法 art. 206"
_ART357 = "民事诉讼法解释 art. 357"
_ART372 = "民事诉讼法解释 art. 372"
#: Rulings a party may object to, waiting for the objection windows.
_RULED = ("confirmed", "dismissed")
#: Where the parties may go back to mediation or sue.
_REFUSED = ("dismissed", "not_accepted")

#: Who signs the 民事裁定书 (the judge and the clerk), recorded with the ruling.
RULING_SIGNERS = ("judge", "clerk")

FLOW = Flow(
    name="judicial_confirmation",
    label="司法确认",
    legal_basis="《民事诉讼法》arts. 187, 205-206；《关于人民调解协议司法确认程序的若干规定》（2011）",
    case_word="民特",
    court_case_type="民特",
    initial="applied",
    description="当事人共同申请人民法院确认调解协议效力。",
    states=(
        State("applied", "已收到司法确认申请"),
        State("accepted", "已受理"),
        State("not_accepted", "不予受理（可重新调解或起诉）"),
        State("confirmed", "裁定调解协议有效（异议期内）"),
        State("dismissed", "裁定驳回申请（可重新调解或起诉）"),
        State("withdrawn", "撤回申请（含按撤回处理）", final=True),
        State("objection_filed", "已对裁定提出异议"),
        State("objection_rejected", "异议不成立，驳回异议", final=True),
        State("ruling_revoked", "异议成立，撤销原裁定", final=True),
        State("remediation", "已转人民调解重新调解", final=True),
        State("litigation", "当事人已向人民法院起诉", final=True),
        State("closed", "结案", final=True),
    ),
    transitions=(
        Transition("accept", ("applied",), "accepted", "受理", legal_basis="司法确认规定 art. 4"),
        Transition(
            "refuse_application",
            ("applied",),
            "not_accepted",
            "不予受理",
            requires=("reason",),
            outcome="not_accepted",
            legal_basis="司法确认规定 art. 4；民事诉讼法解释 art. 355",
        ),
        common.approved_extension(
            "extend_ruling",
            ("accepted",),
            "经批准延长审查期限（不超过10日）",
            "司法确认规定 art. 5",
        ),
        Transition(
            "withdraw",
            ("applied", "accepted"),
            "withdrawn",
            "裁定作出前当事人撤回申请",
            requires=("party", "reason"),
            guards=("names_a_party",),
            outcome="withdrawn",
            legal_basis=_ART357,
        ),
        Transition(
            "deem_withdrawn",
            ("accepted",),
            "withdrawn",
            "无正当理由未在限期内补充陈述、证明材料或拒不接受询问，按撤回申请处理",
            requires=("reason",),
            outcome="withdrawn",
            legal_basis=_ART357,
        ),
        Transition(
            "confirm",
            ("accepted",),
            "confirmed",
            "裁定调解协议有效（具有强制执行力）",
            requires=("ruling_ref",),
            optional=RULING_SIGNERS,
            outcome="confirmed",
            legal_basis=_ART206,
        ),
        Transition(
            "dismiss",
            ("accepted",),
            "dismissed",
            "裁定驳回申请（可重新调解或起诉）",
            requires=("ruling_ref", "reason"),
            optional=RULING_SIGNERS,
            outcome="dismissed",
            legal_basis=_ART206,
        ),
        Transition(
            "record_ruling_service",
            _RULED,
            None,
            "登记裁定送达（当事人收到裁定之日）",
            requires=("served_on",),
            guards=("service_day_is_valid",),
            legal_basis=f"{_ART372}（当事人自收到裁定之日起十五日内提出异议）",
        ),
        Transition(
            "file_objection",
            _RULED,
            "objection_filed",
            "当事人或利害关系人对裁定提出异议",
            requires=("objector", "objector_role", "reason"),
            optional=("known_on",),
            guards=("objection_in_time",),
            legal_basis=_ART372,
        ),
        Transition(
            "reject_objection",
            ("objection_filed",),
            "objection_rejected",
            "异议不成立，裁定驳回",
            requires=("ruling_ref", "reason"),
            legal_basis=_ART372,
        ),
        Transition(
            "revoke_ruling",
            ("objection_filed",),
            "ruling_revoked",
            "异议成立，裁定撤销原裁定",
            requires=("ruling_ref", "reason"),
            outcome="revoked",
            legal_basis=_ART372,
        ),
        Transition(
            "return_to_mediation",
            _REFUSED,
            "remediation",
            "当事人通过调解变更原协议或达成新协议（转人民调解委员会）",
            requires=("organisation", "consented_by", "reason"),
            guards=("both_sides_consent",),
            handoff=HandOff(
                flow="peoples",
                organisation="payload",
                # The committee's own "re-mediation after a rejected confirmation".
                entry_trigger="remediate",
                entry_state="accepted",
            ),
            legal_basis=_ART206,
        ),
        Transition(
            "sue",
            _REFUSED,
            "litigation",
            "当事人向人民法院提起诉讼",
            requires=("party", "court"),
            optional=("court_ref",),
            guards=("names_a_party",),
            legal_basis=_ART206,
        ),
        Transition(
            "close",
            _RULED,
            "closed",
            "当事人异议期限届满，结案",
            guards=("period_expired",),
            legal_basis=_ART372,
        ),
        Transition(
            "close",
            ("not_accepted",),
            "closed",
            "结案（已告知当事人可重新调解或起诉）",
            legal_basis=_ART206,
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="acceptance_period",
            label="决定是否受理期限",
            period=Period(3, "days"),
            legal_basis="司法确认规定 art. 4（收到申请后3日内决定是否受理）",
            starts_on=("open", "receive_application"),
            runs_in=frozenset({"applied"}),
            remind_before=1,
            # 收到申请后: from the day the court received it (the intake's received_at).
            from_receipt=True,
        ),
        DeadlineRule(
            kind="ruling_period",
            label="审查裁定期限",
            period=Period(15, "days"),
            legal_basis="司法确认规定 art. 5（受理之日起15日内作出裁定，经批准可延长10日）",
            starts_on=("accept",),
            runs_in=frozenset({"accepted"}),
            extended_by=("extend_ruling",),
            extension=Period(10, "days"),
        ),
        DeadlineRule(
            kind="special_procedure_limit",
            label="特别程序审结期限",
            period=Period(30, "days"),
            legal_basis="民事诉讼法 art. 187（适用特别程序审理的案件，应当在立案之日起三十日内审结）",
            starts_on=("accept",),
            runs_in=frozenset({"accepted"}),
            remind_before=5,
        ),
        DeadlineRule(
            kind="objection_window",
            label="当事人提出异议期限",
            period=Period(15, "days"),
            legal_basis=f"{_ART372}（当事人自收到裁定之日起十五日内提出异议）",
            starts_on=("record_ruling_service",),
            starts_from="served_on",
            runs_in=frozenset(_RULED),
            duty=False,
            on_expiry="close",
        ),
    ),
    documents=(
        DocumentSpec(
            "confirmation_application", "司法确认申请书", "民事诉讼法解释 art. 354", ("applied",)
        ),
        DocumentSpec(
            "confirmation_ruling",
            "民事裁定书",
            "民事诉讼法 arts. 205-206",
            ("confirmed", "dismissed"),
        ),
    ),
)
