"""Every other flow's graph, written out for review: a changed flow fails here until the
list below is changed with it."""

from __future__ import annotations

import pytest

from mediation.domain.periods import Period
from mediation.engine.machine import load

W = ("accepted", "assigned", "informed", "mediating")
#: 委派/委托 (特邀调解规定): the mediator is chosen or designated (art. 12) and the parties are
#: told their rights (art. 14) before mediation; collusion suspends it (art. 18).
COURT_WORKING = ("received", "assigned", "informed", "mediating", "suspended")
COURT_STEPS = {
    ("received", "choose_mediator", "assigned"),
    ("received", "designate_mediator", "assigned"),
    ("assigned", "inform", "informed"),
    ("informed", "record_session", "mediating"),
    ("mediating", "record_session", "mediating"),
    *((s, "suspend", "suspended") for s in ("assigned", "informed", "mediating")),
    ("suspended", "resume", "mediating"),
    *((s, "extend", s) for s in COURT_WORKING),
    ("mediating", "agree", "agreed"),
}

EDGES = {
    "petition": {
        # an organ finding the matter outside its remit objects (art. 23, 5 working days)
        ("registered", "object_remit", "remit_objected"),
        ("registered", "accept", "accepted"),
        ("registered", "forward", "forwarded"),
        ("accepted", "assess_suitable", "assessed"),
        ("accepted", "exclude", "handled_otherwise"),
        ("assessed", "exclude", "handled_otherwise"),
        ("assessed", "divert", "diverted"),
        ("diverted", "record_result", "result_received"),
        *(
            (s, "extend_handling", s)
            for s in ("accepted", "assessed", "diverted", "result_received", "handled_otherwise")
        ),
        ("result_received", "conclude", "concluded"),
        ("handled_otherwise", "conclude", "concluded"),
        # 复查 (art. 35) within 30 days of receiving the reply, the file closed or not.
        *((s, "record_service", s) for s in ("concluded", "closed_review_window")),
        ("concluded", "request_review", "review_requested"),
        ("closed_review_window", "request_review", "review_requested"),
        ("concluded", "close", "closed_review_window"),
        ("concluded", "end_review_window", "closed"),  # the window ran out
        ("closed_review_window", "end_review_window", "closed"),
        ("review_requested", "answer_review", "reviewed"),
        # 复核 (art. 36) likewise, from receiving the 复查意见.
        *((s, "record_review_service", s) for s in ("reviewed", "closed_recheck_window")),
        ("reviewed", "request_recheck", "recheck_requested"),
        ("closed_recheck_window", "request_recheck", "recheck_requested"),
        ("reviewed", "close", "closed_recheck_window"),
        ("reviewed", "end_recheck_window", "closed"),
        ("closed_recheck_window", "end_recheck_window", "closed"),
        ("recheck_requested", "close", "closed"),
    },
    "court_referred": {
        *COURT_STEPS,
        *((s, "return_to_court", "returned") for s in COURT_WORKING),
        *((s, "expire", "returned") for s in COURT_WORKING),
        ("agreed", "apply_confirmation", "confirmation_requested"),
        ("agreed", "archive", "archived"),
    },
    "judicial_confirmation": {
        # withdrawal before the ruling, or treated as withdrawn (解释 art. 357)
        ("applied", "withdraw", "withdrawn"),
        ("accepted", "withdraw", "withdrawn"),
        ("accepted", "deem_withdrawn", "withdrawn"),
        # after the ruling: its service starts the party's 15 days; objections (解释 art. 372)
        *((s, "record_ruling_service", s) for s in ("confirmed", "dismissed")),
        *((s, "file_objection", "objection_filed") for s in ("confirmed", "dismissed")),
        ("objection_filed", "reject_objection", "objection_rejected"),
        ("objection_filed", "revoke_ruling", "ruling_revoked"),
        # dismissed or not accepted: re-mediation or suit (民事诉讼法 art. 206)
        *((s, "return_to_mediation", "remediation") for s in ("dismissed", "not_accepted")),
        *((s, "sue", "litigation") for s in ("dismissed", "not_accepted")),
        *((s, "close", "closed") for s in ("confirmed", "dismissed", "not_accepted")),
        ("applied", "accept", "accepted"),
        ("applied", "refuse_application", "not_accepted"),
        ("accepted", "extend_ruling", "accepted"),
        ("accepted", "confirm", "confirmed"),
        ("accepted", "dismiss", "dismissed"),
    },
    "labour": {
        # both parties agree to go on past the 15 days (规定 art. 26)
        *((s, "agree_to_continue", s) for s in ("applied", *W)),
        # non-performance → arbitration (art. 15)
        *((s, "not_performed", "not_performed") for s in ("agreed_written", "followed_up")),
        ("not_performed", "archive", "archived"),
        # judicial confirmation (民事诉讼法 art. 205)
        *(
            (s, "apply_confirmation", "confirmation_applied")
            for s in ("agreed_written", "followed_up")
        ),
        ("confirmation_applied", "confirmation_granted", "confirmed"),
        ("confirmation_applied", "confirmation_denied", "confirmation_rejected"),
        ("confirmation_rejected", "remediate", "mediating"),
        ("confirmed", "archive", "archived"),
        ("confirmation_rejected", "archive", "archived"),
        ("applied", "accept", "accepted"),
        ("applied", "reject", "rejected"),
        *((s, "refuse", "refused") for s in ("applied", "accepted", "assigned", "informed")),
        ("accepted", "assign", "assigned"),
        ("assigned", "inform", "informed"),
        ("informed", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("mediating", "agree_written", "agreed_written"),
        *((s, "terminate", "terminated") for s in ("assigned", "informed", "mediating")),
        *((s, "lapse", "lapsed") for s in ("applied", *W)),
        *((s, "withdraw", "withdrawn") for s in W),
        ("agreed_written", "follow_up", "followed_up"),
        ("followed_up", "follow_up", "followed_up"),
        *((s, "archive", "archived") for s in ("terminated", "lapsed", "withdrawn", "followed_up")),
    },
    "land_contract": {
        ("applied", "accept", "accepted"),
        ("applied", "reject", "rejected"),
        *((s, "refuse", "refused") for s in ("applied", "accepted", "assigned", "informed")),
        ("accepted", "assign", "assigned"),
        ("assigned", "inform", "informed"),
        ("informed", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("mediating", "agree_written", "agreed_written"),
        *((s, "terminate", "terminated") for s in ("assigned", "informed", "mediating")),
        *((s, "withdraw", "withdrawn") for s in W),
        ("agreed_written", "follow_up", "followed_up"),
        ("followed_up", "follow_up", "followed_up"),
        *((s, "archive", "archived") for s in ("terminated", "withdrawn", "followed_up")),
    },
    "administrative": {
        ("applied", "approve_filing", "approved"),
        ("applied", "reject", "rejected"),
        ("approved", "reject", "rejected"),
        ("approved", "consult", "consulting"),
        ("consulting", "other_party_consents", "accepted"),  # the other party must consent
        ("consulting", "other_party_refuses", "refused"),
        ("accepted", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("accepted", "extend", "accepted"),
        ("mediating", "extend", "mediating"),
        ("mediating", "agree_written", "agreed"),
        ("accepted", "terminate", "terminated"),
        ("mediating", "terminate", "terminated"),
        ("agreed", "close", "closed"),
        ("terminated", "close", "closed"),
    },
    "health_admin": {
        # the 医调委 or a court accepted it: mediation ends, during an appraisal too (art. 40)
        *((s, "end_accepted_elsewhere", "failed") for s in ("accepted", "mediating", "appraising")),
        ("applied", "accept", "accepted"),
        ("applied", "reject", "rejected"),
        ("accepted", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("mediating", "start_appraisal", "appraising"),
        ("appraising", "finish_appraisal", "mediating"),
        ("mediating", "agree", "agreed"),
        ("accepted", "fail", "failed"),
        ("mediating", "fail", "failed"),
        ("accepted", "expire", "failed"),  # expiry = failure (条例 art. 40)
        ("mediating", "expire", "failed"),
        ("agreed", "close", "closed"),
        ("failed", "close", "closed"),
    },
    "traffic_police": {
        ("applied", "accept", "accepted"),
        ("applied", "reject", "rejected"),
        # the parties are notified 3 days ahead (art. 88), then mediation starts
        ("accepted", "notify_parties", "notified"),
        ("notified", "notify_parties", "notified"),
        ("notified", "start_mediation", "mediating"),
        # no agreement: people's mediation (art. 86) or suit
        ("ended", "refer_peoples", "referred_peoples"),
        ("ended", "close", "closed"),
        ("mediating", "record_session", "mediating"),
        ("mediating", "agree", "agreed"),  # 调解书
        ("mediating", "end", "ended"),  # 调解终结书
    },
    "public_order": {
        ("accepted", "refuse", "refused"),  # before the first session (arts. 178-179)
        ("accepted", "first_session", "first_held"),
        ("first_held", "second_session", "mediating"),  # completed in 7 working days (183)
        ("first_held", "agree", "agreed"),
        ("mediating", "agree", "agreed"),
        ("agreed", "performed", "no_penalty"),
        ("agreed", "not_performed", "penalised"),
        ("first_held", "not_agreed", "penalised"),
        ("mediating", "not_agreed", "penalised"),
        # settled by the parties or through 人民调解, performed, approved (处罚法 art. 9)
        *((s, "settlement_approved", "settled") for s in ("accepted", "first_held", "mediating")),
    },
    **{
        name: {
            ("consented", "record_session", "mediating"),
            ("mediating", "record_session", "mediating"),
            ("consented", "extend", "consented"),
            ("mediating", "extend", "mediating"),
            ("mediating", "agree", "agreed"),
            ("mediating", "record_only", "recorded"),  # art. 101
            ("agreed", "served", "effective"),  # art. 100
            *((s, "to_judgment", "to_judgment") for s in ("consented", "mediating", "agreed")),
            ("consented", "withdraw_suit", "withdrawn"),
            ("mediating", "withdraw_suit", "withdrawn"),
            # the trial limit, extended once with approval (民事诉讼法 arts. 152, 164)
            *((s, "extend_trial_limit", s) for s in ("consented", "mediating", "agreed")),
        }
        for name in ("judicial", "judicial_simple")
    },
    **{
        name: {
            *COURT_STEPS,
            ("agreed", "court_decision", "court_decided"),  # art. 20
            *((s, "back_to_trial", "back_to_trial") for s in COURT_WORKING),  # arts. 21, 26
        }
        for name in ("entrusted", "entrusted_simple")
    },
    "traffic": {
        # a report to the police keeps the mediation going; the police taking over ends it
        *((s, "report_police", s) for s in W),
        *((s, "refer_police", "referred_police") for s in W),
        ("referred_police", "archive", "archived"),
        # failed: police mediation within 3 days (道路交通事故处理程序规定 art. 85)
        ("terminated", "apply_police_mediation", "referred_police_mediation"),
        ("applied", "accept", "accepted"),
        ("applied", "reject", "rejected"),
        *((s, "refuse", "refused") for s in ("applied", "accepted", "assigned", "informed")),
        ("accepted", "assign", "assigned"),
        ("assigned", "inform", "informed"),
        *((s, "notify_insurer", s) for s in ("assigned", "informed", "mediating")),
        ("informed", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        *((s, "extend", s) for s in W),
        ("mediating", "agree_written", "agreed_written"),
        *((s, "terminate", "terminated") for s in ("assigned", "informed", "mediating")),
        *((s, "withdraw", "withdrawn") for s in W),
        ("agreed_written", "follow_up", "followed_up"),
        ("followed_up", "follow_up", "followed_up"),
        ("agreed_written", "apply_confirmation", "confirmation_applied"),
        ("followed_up", "apply_confirmation", "confirmation_applied"),
        ("confirmation_applied", "confirmation_granted", "confirmed"),
        ("confirmation_applied", "confirmation_denied", "confirmation_rejected"),
        ("confirmation_rejected", "remediate", "mediating"),  # re-mediate (民事诉讼法 art. 206)
        *(
            (s, "archive", "archived")
            for s in (
                "terminated",
                "withdrawn",
                "followed_up",
                "confirmed",
                "confirmation_rejected",
            )
        ),
    },
    "online": {
        ("applied", "choose_mediator", "assigned"),
        ("applied", "designate_mediator", "assigned"),
        ("assigned", "confirm", "confirmed"),
        ("confirmed", "notify_other_party", "notified"),
        ("notified", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("mediating", "start_appraisal", "appraising"),
        ("appraising", "finish_appraisal", "mediating"),
        ("notified", "extend", "notified"),
        ("mediating", "extend", "mediating"),
        ("mediating", "agree", "agreed"),
        ("notified", "fail", "failed"),
        ("mediating", "fail", "failed"),
        *(
            (s, "withdraw", "withdrawn")
            for s in ("applied", "assigned", "confirmed", "notified", "mediating")
        ),
        # An online agreement in effect may go on to 司法确认 (人民调解法 art. 33).
        ("agreed", "apply_confirmation", "confirmation_requested"),
        ("agreed", "archive", "archived"),
    },
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edges(name: str) -> None:
    machine = load(name)
    spec = {(src, t.trigger, t.dest or src) for t in machine.flow.transitions for src in t.source}
    expected = EDGES[name] | _prevention_edges(machine.flow)
    assert spec == expected
    lib = {
        (src, trig, tr[0].dest or src)
        for trig, event in machine.machine.events.items()
        for src, tr in event.transitions.items()
    }
    assert lib == expected


@pytest.mark.parametrize(
    ("name", "kind", "period", "basis"),
    [
        ("petition", "disposal_period", Period(15, "days"), "信访工作条例 arts. 22-23"),
        ("petition", "remit_objection_window", Period(5, "working_days"), "信访工作条例 art. 23"),
        ("petition", "handling_period", Period(60, "days"), "信访工作条例 art. 34"),
        ("petition", "review_window", Period(30, "days"), "信访工作条例 art. 35"),
        ("petition", "review_period", Period(30, "days"), "信访工作条例 art. 35"),
        ("petition", "recheck_window", Period(30, "days"), "信访工作条例 art. 36"),
        ("petition", "recheck_period", Period(30, "days"), "信访工作条例 art. 36"),
        ("court_referred", "mediation_period", Period(30, "days"), "特邀调解规定 art. 27"),
        ("judicial_confirmation", "acceptance_period", Period(3, "days"), "司法确认规定 art. 4"),
        ("judicial_confirmation", "ruling_period", Period(15, "days"), "司法确认规定 art. 5"),
        (
            "judicial_confirmation",
            "special_procedure_limit",
            Period(30, "days"),
            "民事诉讼法 art. 187",
        ),
        (
            "judicial_confirmation",
            "objection_window",
            Period(15, "days"),
            "民事诉讼法解释 art. 372",
        ),
        ("labour", "mediation_period", Period(15, "days"), "劳动争议调解仲裁法 art. 14"),
        ("administrative", "mediation_period", Period(20, "working_days"), "北京市行政调解办法"),
        (
            "health_admin",
            "acceptance_period",
            Period(5, "working_days"),
            "医疗纠纷预防和处理条例 art. 40",
        ),
        (
            "health_admin",
            "mediation_period",
            Period(30, "working_days"),
            "医疗纠纷预防和处理条例 art. 40",
        ),
        (
            "traffic_police",
            "mediation_period",
            Period(10, "working_days"),
            "道路交通事故处理程序规定 arts. 90, 112",
        ),
        (
            "public_order",
            "second_session",
            Period(7, "working_days"),
            "公安机关办理行政案件程序规定 art. 183",
        ),
        ("judicial", "mediation_period", Period(15, "days"), "民事调解规定 art. 4"),
        ("judicial_simple", "mediation_period", Period(7, "days"), "民事调解规定 art. 4"),
        ("entrusted", "mediation_period", Period(15, "days"), "特邀调解规定 art. 27"),
        ("entrusted_simple", "mediation_period", Period(7, "days"), "特邀调解规定 art. 27"),
        ("traffic", "mediation_period", Period(1, "months"), "人民调解工作若干规定 art. 33"),
        ("online", "selection_period", Period(2, "working_days"), "人民法院在线调解规则 art. 10"),
        (
            "online",
            "confirmation_period",
            Period(3, "working_days"),
            "人民法院在线调解规则 art. 12",
        ),
        ("online", "notice_period", Period(3, "working_days"), "人民法院在线调解规则 art. 15"),
        ("online", "mediation_period", Period(30, "days"), "人民法院在线调解规则 art. 24"),
    ],
)
def test_statutory_periods(name: str, kind: str, period: Period, basis: str) -> None:
    rule = load(name).rules[kind]
    assert rule.period == period
    assert rule.legal_basis.startswith(basis)


def test_fixed_extensions_and_consequences() -> None:
    assert load("petition").rules["handling_period"].extension == Period(30, "days")
    assert load("judicial_confirmation").rules["ruling_period"].extension == Period(10, "days")
    assert load("court_referred").rules["mediation_period"].on_expiry == "expire"
    assert load("labour").rules["mediation_period"].on_expiry == "lapse"
    # 信访 复查/复核: the windows run from the recorded day of service (art. 35-36).
    for kind, ends in (
        ("review_window", "end_review_window"),
        ("recheck_window", "end_recheck_window"),
    ):
        rule = load("petition").rules[kind]
        assert (rule.on_expiry, rule.starts_from, rule.duty) == (ends, "served_on", False)
    assert load("land_contract").flow.deadlines == ()  # the law sets no mediation period


def test_petition_handling_extends_by_thirty_days_with_approval(store) -> None:
    from datetime import timedelta

    from mediation.domain import intake
    from mediation.engine import cases
    from mediation.engine.organisations import add_organisation
    from tests.conftest import T0, intake_record

    add_organisation(
        store, code="青信", name="青山县信访局", level="county", kind="petition_bureau", now=T0
    )
    record = intake_record(
        organisation="青信",
        flow="petition",
        channel="petition",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕1号",
    )
    opened = cases.open_case(store, intake.validate(record), actor="t", now=T0)
    accepted = cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0)
    (handling,) = accepted.deadlines_started
    # 60 days from 3/2 end on 5/1, inside the Labour Day break (5/1-5/5): rolls to 5/6.
    assert handling["due"].isoformat() == "2026-05-06"
    cases.advance(
        store,
        opened.proceeding_id,
        "extend_handling",
        actor="主任",
        now=T0 + timedelta(days=50),
        payload={"approved_by": "主任", "reason": "情况复杂"},
    )
    from sqlalchemy import select

    from mediation.storage._tables import deadline_table as d

    with store.read() as conn:
        due, extensions = conn.execute(
            select(d.c.due, d.c.extensions).where(
                d.c.proceeding_id == opened.proceeding_id, d.c.kind == "handling_period"
            )
        ).one()
    # The 60 days end on 5/1 (only the last day rolls to 5/6); 30 more days from 5/1 end on
    # Sunday 5/31, so 6/1 (信访工作条例 art. 34: at most +30).
    assert (due.isoformat(), extensions) == ("2026-06-01", 1)
    from mediation.errors import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed, match="已延长过"):
        cases.advance(
            store,
            opened.proceeding_id,
            "extend_handling",
            actor="主任",
            now=T0 + timedelta(days=55),
            payload={"approved_by": "主任", "reason": "再延"},
        )


def test_every_declared_flow_has_its_graph_here() -> None:
    from mediation.workflows import flow_names

    tested = set(EDGES) | {"peoples", "medical_committee"}  # those two have files of their own
    assert set(flow_names()) == tested


def _open(store, flow: str, org: str = "青山"):
    from mediation.domain import intake
    from mediation.engine import cases
    from tests.conftest import T0, intake_record

    record = intake_record(organisation=org, flow=flow, dispute_type="traffic")
    return cases.open_case(store, intake.validate(record), actor="t", now=T0)


def test_traffic_police_application_within_ten_working_days(store) -> None:
    from mediation.engine import cases
    from mediation.errors import TransitionNotAllowed
    from tests.conftest import T0

    opened = _open(store, "traffic_police")
    late = {
        "determination_received_on": "2026-02-10",
        "applied_on": "2026-03-02",
        "consented_by": "张三、李四",
    }
    # 10 working days from 2/10 run over the Spring Festival break and end on 3/2:
    # 2/11, 2/12, 2/13, 2/14 (调休), 2/24, 2/25, 2/26, 2/27, 2/28 (调休), 3/2.
    done = cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0, payload=late)
    assert done.to_state == "accepted"
    other = _open(store, "traffic_police")
    too_late = {**late, "determination_received_on": "2026-02-09"}
    with pytest.raises(TransitionNotAllowed, match="10个工作日"):
        cases.advance(store, other.proceeding_id, "accept", actor="t", now=T0, payload=too_late)


def test_insurers_are_told_three_days_ahead(store) -> None:
    from mediation.engine import cases
    from mediation.errors import TransitionNotAllowed
    from tests.conftest import T0

    opened = _open(store, "traffic", org="桥头")
    for trig, data in (
        ("accept", {}),
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
    ):
        cases.advance(store, opened.proceeding_id, trig, actor="t", now=T0, payload=data)
    with pytest.raises(TransitionNotAllowed, match="至少提前3日"):
        cases.advance(
            store,
            opened.proceeding_id,
            "notify_insurer",
            actor="t",
            now=T0,
            payload={"insurer": "某财产保险公司", "session_on": "2026-03-04"},
        )
    ok = cases.advance(
        store,
        opened.proceeding_id,
        "notify_insurer",
        actor="t",
        now=T0,
        payload={"insurer": "某财产保险公司", "session_on": "2026-03-05"},
    )
    assert ok.to_state == "assigned"


def test_an_organ_sets_its_own_administrative_period(store, db_url, runner) -> None:
    from mediation.cli import app
    from mediation.engine import cases
    from mediation.engine.organisations import add_organisation
    from tests.conftest import T0

    add_organisation(
        store, code="青司", name="青山县司法局", level="county", kind="admin_organ", now=T0
    )
    opened = _open(store, "administrative", org="青司")
    store.close()
    base = ["--db", db_url, "org", "set-period", "青司", "administrative", "mediation_period"]
    out = runner.invoke(app, [*base, "--working-days", "30"])
    assert out.exit_code == 0, out.output
    fixed = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "org",
            "set-period",
            "青司",
            "peoples",
            "mediation_period",
            "--months",
            "2",
        ],
    )
    assert fixed.exit_code == 3 and "法律规定" in fixed.output  # the people's month is the law's
    from mediation.storage.store import Store

    s = Store(db_url)
    steps = [
        ("approve_filing", {"approved_by": "局长"}),
        ("consult", {}),
        ("other_party_consents", {"party": "李四"}),
    ]
    for trig, data in steps:
        result = cases.advance(s, opened.proceeding_id, trig, actor="t", now=T0, payload=data)
    (started,) = result.deadlines_started
    # 30 working days from 2026-03-02 (not the default 20): 2026-04-14.
    assert (started["period"], started["due"].isoformat()) == ("30个工作日", "2026-04-14")
    s.close()


def test_workflow_list_json_lists_every_flow_with_its_states(runner, tmp_path) -> None:
    import json

    from mediation.cli import app
    from mediation.workflows import flow_names, get_flow

    out = runner.invoke(app, ["--db", str(tmp_path / "none.db"), "workflow", "list", "--json"])
    assert out.exit_code == 0, out.output
    listed = {f["name"]: [s["name"] for s in f["states"]] for f in json.loads(out.output)}
    assert listed == {n: [s.name for s in get_flow(n).states] for n in flow_names()}
    assert len(listed) == 17


def _prevention_edges(flow) -> set[tuple[str, str, str]]:
    """What every mediation flow adds (workflows._common.with_common_actions): recording
    what the case prevented, in place, from each state that is not final."""
    if flow.name in ("petition", "judicial_confirmation"):  # not mediation cases
        return set()
    return {(s.name, "record_prevention", s.name) for s in flow.states if not s.final}
