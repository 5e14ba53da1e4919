from mediation.domain import intake
from mediation.engine import cases
from tests.conftest import T0, intake_record


def test_open_and_accept(store):
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    result = cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0)
    assert result.to_state == "accepted"
    assert result.deadlines_started[0]["due"].isoformat() == "2026-04-02"
