"""在线调解 — online pre-filing mediation through the court's platform (domain.md §3.4;
人民法院在线调解规则 2021 arts. 10, 12, 15, 19-26).

The parties choose a mediator within 2 working days, else the court designates one within 3
working days after those (art. 10; ``designation_period``: working day 5 from the
application); the mediator confirms within 3 working days (art. 12); the other party is
notified within 3 working days (art. 15); the mediation period is 30 days before filing
(15/7 after filing, art. 24); appraisal time is excluded (art. 26). An agreement, once
signed by the parties and the mediator (in effect, art. 19), may go on to judicial
confirmation within 30 days (art. 20; 民事诉讼法 art. 205), handed to the court's own case;
the mediating organisation need not be a people's mediation committee (art. 5), so the
人民调解法 is not cited.
"""

from __future__ import annotations

from dataclasses import replace

from mediation.domain.periods import Period
from mediation.workflows import _common as common
from mediation.workflows._spec import DeadlineRule, DocumentSpec, Flow, HandOff, State, Transition

_RULES = "人民法院在线调解规则"
_WORKING = ("notified", "mediating")

FLOW = Flow(
    name="online",
    label="在线调解（诉前）",
    legal_basis=f"《{_RULES}》（2021）",
    case_word="在线调",
    initial="applied",
    description="通过人民法院在线调解平台进行的诉前调解。",
    states=(
        State("applied", "在线申请"),
        State("assigned", "已选定或指定调解员"),
        State("confirmed", "调解员已确认接受"),
        State("notified", "已通知对方当事人"),
        State("mediating", "在线调解中"),
        State("appraising", "鉴定中（期限中止）"),
        State("agreed", "达成调解协议"),
        State("confirmation_requested", "已申请司法确认", final=True),
        State("archived", "结案归档", final=True),
        State("failed", "调解不成", final=True),
        State("withdrawn", "撤回申请", final=True),
    ),
    transitions=(
        Transition(
            "choose_mediator",
            ("applied",),
            "assigned",
            "当事人选定调解员",
            requires=("mediators",),
            guards=("mediators_are_people",),
            effects=("designate_mediators",),
            legal_basis=f"{_RULES} art. 10",
        ),
        Transition(
            "designate_mediator",
            ("applied",),
            "assigned",
            "法院指定调解员",
            requires=("mediators", "selection"),
            guards=("selection_is_known", "mediators_are_people"),
            effects=("designate_mediators",),
            legal_basis=f"{_RULES} art. 10",
        ),
        Transition(
            "confirm", ("assigned",), "confirmed", "调解员确认接受", legal_basis=f"{_RULES} art. 12"
        ),
        Transition(
            "notify_other_party",
            ("confirmed",),
            "notified",
            "通知对方当事人",
            requires=("party",),
            guards=("names_a_party",),
            legal_basis=f"{_RULES} art. 15",
        ),
        *common.sessions(f"{_RULES} art. 22", first_from="notified", label="记录在线调解"),
        *common.appraisal(f"{_RULES} art. 26", paused=""),
        common.extend("双方同意延长调解期限", f"{_RULES} art. 24", _WORKING),
        Transition(
            "agree",
            ("mediating",),
            "agreed",
            "达成调解协议",
            requires=common.AGREEMENT_FIELDS,
            guards=("performance_deadline_is_date",),
            effects=("record_agreement",),
            outcome="agreement_written",
            legal_basis=f"{_RULES} art. 19",
        ),
        Transition(
            "fail",
            _WORKING,
            "failed",
            "调解不成",
            requires=("reason", "other_routes"),
            outcome="terminated",
            legal_basis=f"{_RULES} art. 21",
        ),
        Transition(
            "withdraw",
            ("applied", "assigned", "confirmed", *_WORKING),
            "withdrawn",
            "撤回申请",
            requires=("party", "reason"),
            guards=("names_a_party",),
            outcome="withdrawn",
            legal_basis=f"{_RULES} art. 25",
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
            legal_basis=f"{_RULES} art. 20；民事诉讼法 art. 205",
        ),
        replace(
            common.archive(("agreed",)),
            legal_basis=f"{_RULES} art. 20（立案前达成调解协议的，按诉讼外调解结案）",
        ),
    ),
    deadlines=(
        DeadlineRule(
            kind="selection_period",
            label="选定调解员期限",
            period=Period(2, "working_days"),
            legal_basis=f"{_RULES} art. 10（2个工作日内选定，逾期由法院3个工作日内指定）",
            starts_on=("open",),
            runs_in=frozenset({"applied"}),
            remind_before=1,
            # The parties' window: when it passes the court designates (designation_period,
            # the court's duty); nobody overran anything.
            duty=False,
        ),
        # The court's 3 working days run from the end of the parties' 2 (art. 10): working
        # day 5 from the application, counted the way domain.md §4 counts working days.
        DeadlineRule(
            kind="designation_period",
            label="法院指定调解员期限",
            period=Period(5, "working_days"),
            legal_basis=f"{_RULES} art. 10（当事人2个工作日内未选定的，法院在其后3个工作日内指定）",
            starts_on=("open",),
            runs_in=frozenset({"applied"}),
            remind_before=1,
        ),
        DeadlineRule(
            kind="confirmation_period",
            label="调解员确认期限",
            period=Period(3, "working_days"),
            legal_basis=f"{_RULES} art. 12（调解员3个工作日内确认）",
            starts_on=("choose_mediator", "designate_mediator"),
            runs_in=frozenset({"assigned"}),
            remind_before=1,
        ),
        DeadlineRule(
            kind="notice_period",
            label="通知对方当事人期限",
            period=Period(3, "working_days"),
            legal_basis=f"{_RULES} art. 15（3个工作日内通知对方当事人）",
            starts_on=("confirm",),
            runs_in=frozenset({"confirmed"}),
            remind_before=1,
        ),
        DeadlineRule(
            kind="mediation_period",
            label="在线调解期限（诉前）",
            period=Period(30, "days"),
            legal_basis=f"{_RULES} art. 24（诉前调解30日）；art. 26（鉴定期间不计入）",
            starts_on=("notify_other_party",),
            runs_in=frozenset({*_WORKING, "appraising"}),
            extended_by=("extend",),
            paused_by=("start_appraisal",),
            resumed_by=("finish_appraisal",),
        ),
        replace(
            common.CONFIRMATION_WINDOW,
            runs_in=frozenset({"agreed"}),
            legal_basis="民事诉讼法 art. 205（协议生效之日起三十日内）",
        ),
    ),
    documents=(DocumentSpec("agreement", "调解协议", f"{_RULES} art. 19", ("agreed",)),),
)
