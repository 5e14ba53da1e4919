"""委派调解 — pre-filing mediation the court refers to a mediation organisation (domain.md
§3.4; 最高人民法院关于人民法院特邀调解的规定 2016).

The parties choose the mediator from the court's roster, or the court or the organisation
designates one (art. 12), and are told their rights and duties (art. 14) before mediation;
suspected collusion suspends the mediation, reported to the court (art. 18). 30 days from
the day the mediator signs for the court's materials (art. 27); if both parties agree to
extend, the 30-day limit no longer applies. An agreement is served and
filed with the court (art. 19) and may go to judicial confirmation; no agreement sends the
materials back to the court, which files the case (art. 21); every termination is reported
to the court in writing (art. 26). Expiry with no agreed extension returns it on its own.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows import _court_steps as court
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, HandOff, State, Transition

_BEFORE = ("received", "assigned", "informed")
_WORKING = (*_BEFORE, "mediating", "suspended")

FLOW = Flow(
    name="court_referred",
    label="诉前委派调解（诉调对接）",
    legal_basis="《最高人民法院关于人民法院特邀调解的规定》（2016）",
    case_word="委调",
    initial="received",
    description="人民法院立案前委派特邀调解组织或调解员调解，达成协议的可申请司法确认，未达成的退回法院立案。",
    states=(
        State("received", "已签收法院委派材料"),
        *court.STATES,
        State("mediating", "调解中"),
        court.SUSPENDED,
        State("agreed", "达成调解协议（送达并报法院备案）"),
        State("returned", "调解不成，材料退回法院", final=True),
        State("confirmation_requested", "已申请司法确认", final=True),
        State("archived", "结案归档", final=True),
    ),
    transitions=(
        *court.mediator_steps(("received",)),
        *common.sessions("特邀调解规定 art. 17", first_from="informed", label="记录调解"),
        *court.suspension(("assigned", "informed", "mediating")),
        common.extend("双方同意延长调解期限（不再受30日限制）", "特邀调解规定 art. 27", _WORKING),
        Transition(
            "agree",
            ("mediating",),
            "agreed",
            "达成调解协议，送达当事人并报法院备案",
            requires=common.AGREEMENT_FIELDS,
            guards=("performance_deadline_is_date",),
            effects=("record_agreement",),
            outcome="agreement_written",
            legal_basis="特邀调解规定 art. 19",
        ),
        Transition(
            "return_to_court",
            _WORKING,
            "returned",
            "调解不成，书面报告法院并退回材料",
            requires=("reason", "report_ref"),
            outcome="returned",
            legal_basis="特邀调解规定 arts. 21, 26",
        ),
        Transition(
            "expire",
            _WORKING,
            "returned",
            "30日期满未达成协议且未经双方同意延长，退回法院",
            guards=("period_expired",),
            outcome="returned",
            legal_basis="特邀调解规定 arts. 21, 27",
        ),
        Transition(
            "apply_confirmation",
            ("agreed",),
            "confirmation_requested",
            "双方共同向法院申请司法确认",
            requires=("organisation", "consented_by"),
            guards=("agreement_in_effect", "within_confirmation_window", "both_sides_consent"),
            outcome="transferred",
            handoff=HandOff(
                flow="judicial_confirmation",
                organisation="payload",
                entry_trigger="receive_application",
                entry_state="applied",
            ),
            legal_basis="人民调解法 art. 33；民事诉讼法 art. 205",
        ),
        common.archive(("agreed",)),
    ),
    deadlines=(
        DeadlineRule(
            kind="mediation_period",
            label="委派调解期限",
            period=Period(30, "days"),
            legal_basis="特邀调解规定 art. 27（自调解员签收法院移交材料之日起30日）",
            starts_on=("open", "receive_court_referral"),
            runs_in=frozenset(_WORKING),
            extended_by=("extend",),
            agreed_extension_lifts_limit=True,
            # 签收之日: the intake's received_at is the day the mediator signed for the
            # court's materials, whenever the case is typed in (domain.md §4).
            from_receipt=True,
            on_expiry="expire",
        ),
        replace(common.CONFIRMATION_WINDOW, runs_in=frozenset({"agreed"})),
    ),
    documents=(
        DocumentSpec("agreement", "人民调解协议书", "特邀调解规定 art. 19", ("agreed",)),
        DocumentSpec(
            "court_rights_notice", "当事人权利义务告知书", "特邀调解规定 art. 14", ("informed",)
        ),
        DocumentSpec(
            "court_letter",
            "委派调解结果函",
            "特邀调解规定 arts. 18, 19, 26",
            ("agreed", "returned", "suspended"),
        ),
    ),
)
