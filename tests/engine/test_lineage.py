"""One dispute through 信访 → 访调 mediation (fails) → 委派调解 → agreement → 司法确认, keeping
its identity and whole history across every hand-off, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from mediation.cli import app
from mediation.demo.agreement import sign_in
from mediation.domain import intake
from mediation.engine import cases
from mediation.engine.organisations import add_organisation
from tests.conftest import T0, intake_record

AGREEMENT = {
    "facts": "被申请人拖欠装修款三万元。",
    "issues": "欠款数额与支付期限",
    "responsibility": "被申请人应支付欠款",
    "terms": "被申请人于2026年5月10日前一次性支付人民币三万元。",
    "performance_method": "银行转账",
    "performance_place": "城关镇人民调解委员会",
    "performance_deadline": "2026-05-10",
}


def test_petition_to_confirmed_agreement_is_one_dispute(store, db_url, runner):
    add_organisation(
        store, code="青信", name="青山县信访局", level="county", kind="petition_bureau", now=T0
    )
    add_organisation(
        store, code="青法", name="青山县人民法院", level="county", kind="court", now=T0
    )
    record = intake_record(
        organisation="青信",
        flow="petition",
        channel="petition",
        application_mode="referral",
        referring_organ="青山县信访局",
        referral_ref="青信〔2026〕17号",
    )
    day = lambda n: T0 + timedelta(days=n)  # noqa: E731
    petition = cases.open_case(store, intake.validate(record), actor="信访员", now=T0)
    go = lambda pid, trig, n, who="t", **data: cases.advance(  # noqa: E731
        store, pid, trig, actor=who, now=day(n), payload=data
    )
    go(petition.proceeding_id, "accept", 1)
    go(petition.proceeding_id, "assess_suitable", 2, summary="邻里民事纠纷，适宜调解")
    diverted = go(
        petition.proceeding_id,
        "divert",
        3,
        organisation="桥头",
        consented_by=["张三", "李四"],
        reason="双方同意人民调解",
    )
    assert diverted.to_state == "diverted"  # the petition stays open for the result
    mediation = diverted.handed_off_to
    assert mediation.state == "applied"

    m = mediation.proceeding_id
    go(m, "accept", 4, "调解员")
    go(m, "assign", 4, "调解员", mediators=["周明"], selection="designated")
    go(m, "inform", 5, "调解员")
    go(m, "record_session", 6, "调解员", kind="mediation", summary="双方分歧较大")
    go(m, "terminate", 10, "调解员", reason="双方分歧过大", other_routes="可向人民法院起诉")
    go(petition.proceeding_id, "record_result", 11, "信访员", result="failed", summary="调解不成")
    go(petition.proceeding_id, "conclude", 12, "信访员", opinion="已告知当事人诉讼途径")
    # The reply is served on day 12 (Sat 3/14): the 复查 window (信访工作条例 art. 35) runs
    # 30 days from the next day, to Mon 4/13; no request came, so on day 45 (4/16) it ends.
    go(petition.proceeding_id, "record_service", 12, "信访员", served_on="2026-03-14")
    go(petition.proceeding_id, "end_review_window", 45, "信访员")

    referred = go(
        m,
        "court_referral",
        20,
        "调解员",
        organisation="城关",
        court="青山县人民法院",
        court_ref="（2026）浙0681民诉前调88号",
    )
    court_mediation = referred.handed_off_to
    assert (court_mediation.state, court_mediation.deadlines[0]["kind"]) == (
        "received",
        "mediation_period",
    )
    c = court_mediation.proceeding_id
    # The court designates the mediator; the parties are told their rights (特邀调解规定
    # arts. 12, 16).
    go(
        c,
        "designate_mediator",
        22,
        "特邀调解员",
        mediators="吴桂英",
        designated_by="青山县人民法院",
    )
    go(c, "inform", 22, "特邀调解员")
    go(c, "record_session", 22, "特邀调解员", kind="mediation", summary="释法明理")
    go(c, "agree", 25, "特邀调解员", **AGREEMENT)
    # Signed by both parties and the mediator and sealed the same day, two hours later: in
    # effect, so the parties may apply for 司法确认 (人民调解法 arts. 29, 33).
    signed_at = day(25) + timedelta(hours=2)
    with store.write() as conn:
        sign_in(conn, c, actor="特邀调解员", now=signed_at)
    applied = go(
        c,
        "apply_confirmation",
        26,
        "特邀调解员",
        organisation="青法",
        consented_by=["张三", "李四"],
    )
    confirmation = applied.handed_off_to
    j = confirmation.proceeding_id
    go(j, "accept", 27, "法官")
    confirmed = go(j, "confirm", 35, "法官", ruling_ref="（2026）浙0681民特21号")
    assert confirmed.to_state == "confirmed"
    store.close()

    out = runner.invoke(
        app, ["--db", db_url, "dispute", "show", str(petition.dispute_id), "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    procs = {p["id"]: p for p in data["proceedings"]}
    chain = [petition.proceeding_id, m, c, j]
    assert set(procs) == set(chain)
    assert [procs[i]["flow"] for i in chain] == [
        "petition",
        "peoples",
        "court_referred",
        "judicial_confirmation",
    ]
    assert [procs[i]["state"] for i in chain] == [
        "closed",
        "referred_to_court",
        "confirmation_requested",
        "confirmed",
    ]
    assert [procs[i]["parent_id"] for i in chain] == [None, petition.proceeding_id, m, c]
    assert [procs[i]["organisation"] for i in chain] == ["青信", "桥头", "城关", "青法"]
    assert {procs[i]["outcome"] for i in chain} >= {"concluded", "transferred", "confirmed"}

    # The whole history, proceeding by proceeding, with who did what.
    history = {}
    for pid in chain:
        out = runner.invoke(app, ["--db", db_url, "case", "history", str(pid), "--json"])
        events = json.loads(out.output)["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert {e["dispute_id"] for e in events} == {petition.dispute_id}
        history[pid] = [e["trigger"] for e in events]
        if pid == c:  # signed after the agreement, before the application
            when = {e["trigger"]: e["occurred_at"] for e in events}
            assert when["agree"] < when["record_signature"] == when["agreement_effective"]
            assert signed_at.isoformat() == when["agreement_effective"]
            assert when["agreement_effective"] < when["apply_confirmation"]
    assert history == {
        petition.proceeding_id: [
            "open",
            "accept",
            "assess_suitable",
            "divert",
            "record_result",
            "conclude",
            "record_service",
            "end_review_window",
        ],
        m: [
            "receive_petition_referral",
            "accept",
            "assign",
            "inform",
            "record_session",
            "terminate",
            "court_referral",
        ],
        c: [
            "receive_court_referral",
            "designate_mediator",
            "inform",
            "record_session",
            "agree",
            *["record_signature"] * 4,  # 张三, 李四, the mediator, the committee's seal
            "agreement_effective",
            "apply_confirmation",
        ],
        j: ["receive_application", "accept", "confirm"],
    }


def test_court_referral_returns_to_court_on_expiry(store):
    from mediation.engine.scheduler import dispatch

    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    pid = opened.proceeding_id
    for trig, data in (
        ("accept", {}),
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("terminate", {"reason": "r", "other_routes": "诉讼"}),
        (
            "court_referral",
            {"organisation": "城关", "court": "青山县人民法院", "court_ref": "诉前调1号"},
        ),
    ):
        result = cases.advance(store, pid, trig, actor="t", now=T0, payload=data)
    referred = result.handed_off_to
    # Received 2026-03-02: 30 days end 2026-04-01. No extension: returned to the court.
    assert referred.deadlines[0]["due"].isoformat() == "2026-04-01"
    quiet = dispatch(store, now=T0 + timedelta(days=30), notifiers=[])
    assert quiet.consequences == []
    fired = dispatch(store, now=T0 + timedelta(days=31), notifiers=[])
    assert [(c["trigger"], c["to_state"]) for c in fired.consequences] == [("expire", "returned")]


def test_the_agreement_travels_with_the_hand_off(store):
    from mediation.engine.organisations import add_organisation as add
    from mediation.engine.queries import case_detail, history

    add(store, code="青法", name="青山县人民法院", level="county", kind="court", now=T0)
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    pid = opened.proceeding_id
    for trig, data in (
        ("accept", {}),
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("terminate", {"reason": "r", "other_routes": "诉讼"}),
        (
            "court_referral",
            {"organisation": "城关", "court": "青山县人民法院", "court_ref": "诉前调1号"},
        ),
    ):
        result = cases.advance(store, pid, trig, actor="t", now=T0, payload=data)
    c = result.handed_off_to.proceeding_id
    for trig, data in (
        ("designate_mediator", {"mediators": ["周明"], "designated_by": "青山县人民法院"}),
        ("inform", {}),
        ("record_session", {"kind": "mediation", "summary": "s"}),
    ):
        cases.advance(store, c, trig, actor="t", now=T0, payload=data)
    cases.advance(store, c, "agree", actor="t", now=T0, payload=AGREEMENT)
    # In effect (signed by every party and the mediator, sealed) before the parties apply.
    signed_at, applied_at = T0 + timedelta(minutes=30), T0 + timedelta(hours=1)
    with store.write() as conn:
        sign_in(conn, c, actor="t", now=signed_at)
    applied = cases.advance(
        store,
        c,
        "apply_confirmation",
        actor="t",
        now=applied_at,
        payload={"organisation": "青法", "consented_by": ["张三", "李四"]},
    )
    signed = [e for e in history(store, str(c))["events"] if e["trigger"] == "record_signature"]
    assert len(signed) == 4
    assert all(T0 < e["occurred_at"] < applied_at for e in signed)
    with store.read() as conn:
        detail = case_detail(conn, applied.handed_off_to.proceeding_id)
    carried = detail["proceeding"]["facts"]["carried_over"]
    assert carried["from_case"] == applied.case_number
    assert carried["agree"]["terms"] == AGREEMENT["terms"]
    assert carried["agreement"]["kind"] == "written"


def test_an_agreed_extension_lifts_the_court_referral_limit(store):
    from mediation.engine.scheduler import dispatch

    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    pid = opened.proceeding_id
    for trig, data in (
        ("accept", {}),
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("terminate", {"reason": "r", "other_routes": "诉讼"}),
        (
            "court_referral",
            {"organisation": "城关", "court": "青山县人民法院", "court_ref": "诉前调2号"},
        ),
    ):
        result = cases.advance(store, pid, trig, actor="t", now=T0, payload=data)
    c = result.handed_off_to.proceeding_id
    cases.advance(
        store,
        c,
        "extend",
        actor="t",
        now=T0 + timedelta(days=20),
        payload={
            "reason": "双方同意延长",
            "consented_by": ["张三", "李四"],
            "new_due": "2026-04-20",
        },
    )
    # Past the agreed date too: the 30-day limit no longer applies (特邀调解规定 art. 27).
    fired = dispatch(store, now=T0 + timedelta(days=60), notifiers=[])
    assert fired.consequences == []
