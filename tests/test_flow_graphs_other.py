"""Every other flow's graph, written out for review: a changed flow fails here until the
list below is changed with it."""

from __future__ import annotations

import pytest

from mediation.machine import load
from mediation.periods import Period

W = ("accepted", "assigned", "informed", "mediating")

EDGES = {
    "petition": {
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
    },
    "court_referred": {
        ("received", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("received", "extend", "received"),
        ("mediating", "extend", "mediating"),
        ("mediating", "agree", "agreed"),
        ("received", "return_to_court", "returned"),
        ("mediating", "return_to_court", "returned"),
        ("received", "expire", "returned"),
        ("mediating", "expire", "returned"),
        ("agreed", "apply_confirmation", "confirmation_requested"),
        ("agreed", "archive", "archived"),
    },
    "judicial_confirmation": {
        ("applied", "accept", "accepted"),
        ("applied", "refuse_application", "not_accepted"),
        ("accepted", "extend_ruling", "accepted"),
        ("accepted", "confirm", "confirmed"),
        ("accepted", "dismiss", "dismissed"),
    },
    "labour": {
        ("applied", "accept", "accepted"),
        ("applied", "reject", "rejected"),
        *((s, "refuse", "refused") for s in ("applied", "accepted", "assigned", "informed")),
        ("accepted", "assign", "assigned"),
        ("assigned", "inform", "informed"),
        ("informed", "record_session", "mediating"),
        ("mediating", "record_session", "mediating"),
        ("mediating", "agree_written", "agreed_written"),
        *((s, "terminate", "terminated") for s in ("assigned", "informed", "mediating")),
        *((s, "lapse", "lapsed") for s in W),
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
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edges(name: str) -> None:
    machine = load(name)
    spec = {(src, t.trigger, t.dest or src) for t in machine.flow.transitions for src in t.source}
    assert spec == EDGES[name]
    lib = {
        (src, trig, tr[0].dest or src)
        for trig, event in machine.machine.events.items()
        for src, tr in event.transitions.items()
    }
    assert lib == EDGES[name]


@pytest.mark.parametrize(
    ("name", "kind", "period", "basis"),
    [
        ("petition", "disposal_period", Period(15, "days"), "信访工作条例 art. 22"),
        ("petition", "handling_period", Period(60, "days"), "信访工作条例 art. 34"),
        ("court_referred", "mediation_period", Period(30, "days"), "特邀调解规定 art. 27"),
        ("judicial_confirmation", "acceptance_period", Period(3, "days"), "司法确认规定 art. 4"),
        ("judicial_confirmation", "ruling_period", Period(15, "days"), "司法确认规定 art. 5"),
        ("labour", "mediation_period", Period(15, "days"), "劳动争议调解仲裁法 art. 14"),
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
    assert load("land_contract").flow.deadlines == ()  # the law sets no mediation period


def test_petition_handling_extends_by_thirty_days_with_approval(store) -> None:
    from datetime import timedelta

    from mediation import cases, intake
    from mediation.organisations import add_organisation
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

    from mediation._tables import deadline_table as d

    with store.read() as conn:
        due, extensions = conn.execute(
            select(d.c.due, d.c.extensions).where(
                d.c.proceeding_id == opened.proceeding_id, d.c.kind == "handling_period"
            )
        ).one()
    # +30 days from 5/6 is Friday 6/5 (信访工作条例 art. 34).
    assert (due.isoformat(), extensions) == ("2026-06-05", 1)
