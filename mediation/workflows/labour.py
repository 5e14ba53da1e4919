"""劳动争议调解 — labour-dispute mediation (domain.md §3.6; 劳动争议调解仲裁法 2007).

A party may apply in writing or orally (art. 12). If no agreement is reached within 15 days
of the mediation organisation receiving the application, the party may apply for
arbitration (art. 14): the scheduler records that the period lapsed and the parties are
told of arbitration. Both parties may agree, while the 15 days run, to go on mediating to a
day they name (企业劳动争议协商调解规定 art. 26, to verify); the lapse then comes after that
day. A party that does not perform the agreement within its term may be taken to
arbitration by the other (art. 15); an agreement on unpaid wages or work-injury costs may
found a payment order (art. 16). The parties may jointly apply for judicial confirmation of
the agreement (民事诉讼法 art. 205: an agreement reached through a lawfully established
mediation organisation).

The steps cite this statute, not the 人民调解法: a labour-dispute mediation organisation is
not (only) a people's mediation committee.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, State, Transition

_WORKING = ("accepted", "assigned", "informed", "mediating")
_LAW = "劳动争议调解仲裁法"
_ART14 = f"{_LAW} art. 14"
_ART205 = "民事诉讼法 art. 205"

FLOW = Flow(
    name="labour",
    label="劳动争议调解",
    legal_basis=f"《中华人民共和国{_LAW}》",
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
        State("not_performed", "一方不履行调解协议，可申请仲裁"),
        State("confirmation_applied", "已申请司法确认"),
        State("confirmed", "司法确认有效"),
        State("confirmation_rejected", "司法确认被驳回"),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        common.accept(f"{_LAW} art. 12"),
        replace(
            common.REJECT,
            legal_basis=f"{_LAW} arts. 2, 10（不属于劳动争议或本调解组织调解范围的，告知其他途径）",
        ),
        common.refuse(legal_basis=f"{_LAW} art. 5（当事人不愿调解的，可以申请仲裁）"),
        replace(common.ASSIGN, legal_basis=f"{_LAW} arts. 10-11"),
        replace(common.INFORM, legal_basis=f"{_LAW} art. 13"),
        *common.sessions(f"{_LAW} art. 13"),
        replace(
            common.extend(
                "经双方同意超过十五日继续调解（约定继续调解至某日）",
                "企业劳动争议协商调解规定 art. 26；劳动争议调解仲裁法 art. 14",
                ("applied", *_WORKING),
            ),
            trigger="agree_to_continue",
        ),
        common.agree_written(legal_basis=_ART14),
        replace(common.TERMINATE, legal_basis=f"{_LAW} art. 5（调解不成的，可以申请仲裁）"),
        Transition(
            "lapse",
            ("applied", *_WORKING),
            "lapsed",
            "十五日内未达成调解协议，告知当事人可申请仲裁",
            guards=("period_expired",),
            outcome="terminated",
            legal_basis=f"{_ART14}（自收到调解申请之日起十五日内未达成调解协议的，当事人可以依法申请仲裁）",
        ),
        replace(common.withdraw(_WORKING), legal_basis=f"{_LAW} art. 5"),
        *(
            replace(t, legal_basis=f"{_ART14}（调解协议书对双方当事人具有约束力，当事人应当履行）")
            for t in common.follow_ups(("agreed_written",))
        ),
        Transition(
            "not_performed",
            ("agreed_written", "followed_up"),
            "not_performed",
            "一方在约定期限内不履行调解协议，告知对方可申请仲裁",
            requires=("party", "summary"),
            guards=("names_a_party",),
            legal_basis=f"{_LAW} art. 15（一方当事人在协议约定期限内不履行调解协议的，另一方当事人可以依法申请仲裁）",
        ),
        *(
            replace(t, legal_basis=_ART205) if t.trigger == "apply_confirmation" else t
            for t in common.CONFIRMATION
        ),
        replace(
            common.archive(
                (
                    "terminated",
                    "lapsed",
                    "withdrawn",
                    "followed_up",
                    "not_performed",
                    "confirmed",
                    "confirmation_rejected",
                )
            ),
            legal_basis=f"《{_LAW}》",
        ),
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
            extended_by=("agree_to_continue",),
            on_expiry="lapse",
        ),
        replace(
            common.CONFIRMATION_WINDOW,
            legal_basis=f"{_ART205}（自调解协议生效之日起三十日内）",
        ),
    ),
    documents=(
        DocumentSpec("agreement", "劳动争议调解协议书", _ART14, ("agreed_written",)),
        DocumentSpec(
            "confirmation_application",
            "司法确认申请书",
            "民事诉讼法 art. 205；民事诉讼法解释 art. 354",
            ("confirmation_applied",),
        ),
    ),
)
