"""Corrections of recorded steps (mediation.engine.corrections): which fields a correction
may change, how the corrected values are read, and that a sealed document is final."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediation.engine.corrections import ACTED_ON, VALUE_CHECKS, corrected, fixed_fields
from mediation.engine.guards import EFFECTS, GUARDS
from mediation.engine.machine import load
from mediation.errors import ExitCode
from tests.documents.test_signing import (  # noqa: F401  (fixtures)
    Cli,
    cli,
    db,
    env,
    font_cache,
    signed_agreement,
)


def test_every_guard_and_effect_says_what_a_correction_may_change() -> None:
    """A new guard or effect must be classified: does it only check its step's values (run
    again on a correction), or did the engine act on some fields (they stay)?"""
    assert set(GUARDS) | set(EFFECTS) == VALUE_CHECKS | set(ACTED_ON)
    assert not VALUE_CHECKS & set(ACTED_ON)


def test_fields_the_engine_acted_on_stay_as_recorded() -> None:
    peoples = load("peoples")
    by_trigger = {t.trigger: t for t in peoples.flow.transitions}
    assert set(fixed_fields(peoples, by_trigger["assign"])) == {"mediators"}
    assert set(fixed_fields(peoples, by_trigger["record_session"])) == {"kind"}
    assert fixed_fields(peoples, by_trigger["agree_written"]) == {}
    assert set(fixed_fields(peoples, by_trigger["court_referral"])) == {"organisation"}
    petition = load("petition")
    served = next(t for t in petition.flow.transitions if t.trigger == "record_service")
    assert "served_on" in fixed_fields(petition, served)


def test_the_latest_correction_of_a_field_wins() -> None:
    events = [
        {"seq": 1, "trigger": "open", "payload": {}},
        {"seq": 2, "trigger": "record_session", "payload": {"place": "a", "summary": "s"}},
        {
            "seq": 3,
            "trigger": "correct",
            "payload": {"seq": 2, "changed": {"place": {"before": "a", "after": "b"}}},
        },
        {
            "seq": 4,
            "trigger": "correct",
            "payload": {"seq": 2, "changed": {"place": {"before": "b", "after": "c"}}},
        },
    ]
    assert corrected(events) == [
        events[0],
        {"seq": 2, "trigger": "record_session", "payload": {"place": "c", "summary": "s"}},
    ]
    assert events[1]["payload"]["place"] == "a"  # the events themselves are left alone


@pytest.mark.usefixtures("font_cache")
def test_a_correction_that_would_change_a_sealed_document_is_refused(
    cli: Cli,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    number, _ = signed_agreement(cli, tmp_path)
    events = cli.events(number)
    agreed = next(e for e in events if e["trigger"] == "agree_written")
    session = next(e for e in events if e["trigger"] == "record_session")
    terms = ("case", "correct", number, str(agreed["seq"]), "--set", "terms=改过的协议内容")
    result = cli.fails(ExitCode.NOT_ALLOWED, *terms, "--reason", "笔误")
    assert "已签章" in result.stderr and "不能更正" in result.stderr
    assert len(cli.events(number)) == len(events)
    # What the sealed agreement does not print may still be corrected.
    cli.ok(
        *("case", "correct", number, str(session["seq"]), "--set", "place=调解室"),
        *("--reason", "笔误"),
    )
    assert cli.events(number)[-1]["trigger"] == "correct"
