"""`dispute show`: one dispute identity across escalations, drawn as a tree."""

from __future__ import annotations

import json
from datetime import timedelta

from mediation import cases, intake
from mediation.cli import app
from tests.conftest import T0, intake_record


def test_escalation_chain_keeps_one_dispute(store, db_url, runner):
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0)
    up = cases.advance(
        store,
        opened.proceeding_id,
        "escalate",
        actor="t",
        now=T0 + timedelta(days=2),
        payload={"reason": "涉及两村，村调委会难以协调"},
    )
    to_county = cases.advance(
        store,
        up.handed_off_to.proceeding_id,
        "escalate",
        actor="t",
        now=T0 + timedelta(days=5),
        payload={"reason": "涉及征地，需县级协调"},
    )
    store.close()

    out = runner.invoke(
        app, ["--db", db_url, "dispute", "show", f"case:{opened.case_number}", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    procs = data["proceedings"]
    assert {p["id"] for p in procs} == {
        opened.proceeding_id,
        up.handed_off_to.proceeding_id,
        to_county.handed_off_to.proceeding_id,
    }
    chain = [(p["organisation"], p["level"], p["state"], p["parent_id"]) for p in procs]
    assert chain == [
        ("桥头", "village", "escalated", None),
        ("城关", "township", "escalated", opened.proceeding_id),
        ("青山", "county", "accepted", up.handed_off_to.proceeding_id),
    ]
    assert data["dispute"]["id"] == opened.dispute_id
    assert data["parties"][0]["id_number"] == "110105********002X"

    text = runner.invoke(app, ["--db", db_url, "dispute", "show", str(opened.dispute_id)])
    lines = text.output.splitlines()
    assert lines[0].startswith(f"纠纷 #{opened.dispute_id}")
    assert lines[2].startswith(opened.case_number)
    assert lines[3].startswith("└─ （2026）城关人调字第1号")
    assert lines[4].startswith("   └─ （2026）青山人调字第1号") and "需县级协调" in lines[4]


def test_unknown_dispute_exits_4(store, db_url, runner):
    store.close()
    assert runner.invoke(app, ["--db", db_url, "dispute", "show", "42"]).exit_code == 4
    assert runner.invoke(app, ["--db", db_url, "dispute", "show", "abc"]).exit_code == 4
