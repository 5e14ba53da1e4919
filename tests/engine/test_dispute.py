"""`dispute show`: one dispute identity across escalations, drawn as a tree."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text as text_

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.storage import audit
from mediation.storage.store import Store
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


def test_merge_two_reports_of_one_dispute_then_split_a_wrong_merge(store, db_url, runner):
    hotline = cases.open_case(
        store,
        intake.validate(intake_record(channel="hotline", title="12345：楼道堆物")),
        actor="t",
        now=T0,
    )
    grid = cases.open_case(
        store,
        intake.validate(intake_record(channel="grid", title="网格上报：楼道堆物")),
        actor="t",
        now=T0,
    )
    store.close()
    env = {"MEDIATION_NOW": "2026-03-03T10:00:00+08:00"}
    merge = ["--db", db_url, "dispute", "merge"]
    out = runner.invoke(
        app,
        [*merge, str(hotline.dispute_id), str(grid.dispute_id), "--reason", "同一纠纷"],
        env=env,
    )
    assert out.exit_code == 0, out.output

    shown = json.loads(
        runner.invoke(
            app, ["--db", db_url, "dispute", "show", str(hotline.dispute_id), "--json"]
        ).output
    )
    assert {p["id"] for p in shown["proceedings"]} == {hotline.proceeding_id, grid.proceeding_id}
    assert [d["channel"] for d in shown["merged_disputes"]] == ["grid"]  # both intakes kept
    assert shown["dispute"]["channel"] == "hotline"
    (m,) = shown["merges"]
    assert (m["kept_id"], m["merged_id"], m["merged_by"], m["split_at"]) == (
        hotline.dispute_id,
        grid.dispute_id,
        Store(db_url).login(),
        None,
    )

    # Merging again, merging the other way round, or into itself is refused.
    for a, b in ((hotline, grid), (grid, hotline), (hotline, hotline)):
        again = runner.invoke(
            app, [*merge, str(a.dispute_id), str(b.dispute_id), "--reason", "x"], env=env
        )
        assert again.exit_code == 3, again.output

    split = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "dispute",
            "split",
            str(grid.dispute_id),
            "--reason",
            "误合并",
        ],
        env=env,
    )
    assert split.exit_code == 0, split.output
    shown = json.loads(
        runner.invoke(
            app, ["--db", db_url, "dispute", "show", str(hotline.dispute_id), "--json"]
        ).output
    )
    assert {p["id"] for p in shown["proceedings"]} == {hotline.proceeding_id}
    (m,) = shown["merges"]  # the merge stays on record, split
    assert m["split_by"] == Store(db_url).login() and m["split_reason"] == "误合并"
    text = runner.invoke(app, ["--db", db_url, "dispute", "show", str(hotline.dispute_id)]).output
    assert "拆分：误合并" in text
    # Both decisions are in the audit chain (the refused ones are not).
    again = Store(db_url)
    with again.read() as conn:
        actions = conn.execute(
            text_(
                "SELECT action, actor, chain_seq FROM access_event WHERE action LIKE 'dispute%' ORDER BY id"
            )
        ).all()
        report = audit.verify(conn)
    again.close()
    assert [(a, b) for a, b, _ in actions] == [
        ("dispute_merge", Store(db_url).login()),
        ("dispute_split", Store(db_url).login()),
    ]
    assert all(seq is not None for _, _, seq in actions) and report.ok, report
    assert (
        runner.invoke(
            app, ["--db", db_url, "dispute", "split", str(grid.dispute_id), "--reason", "x"]
        ).exit_code
        == 3
    )


def test_medical_committee_and_health_authority_exclude_each_other(store):
    import pytest

    from mediation.engine.disputes import merge
    from mediation.engine.organisations import add_organisation
    from mediation.errors import TransitionNotAllowed

    add_organisation(
        store, code="青卫", name="青山县卫生健康局", level="county", kind="admin_organ", now=T0
    )
    committee = cases.open_case(
        store,
        intake.validate(intake_record(flow="medical_committee", dispute_type="medical")),
        actor="t",
        now=T0,
    )
    cases.advance(store, committee.proceeding_id, "accept", actor="t", now=T0)
    authority = cases.open_case(
        store,
        intake.validate(
            intake_record(organisation="青卫", flow="health_admin", dispute_type="medical")
        ),
        actor="t",
        now=T0,
    )
    merge(
        store, committee.dispute_id, authority.dispute_id, reason="同一医疗纠纷", actor="t", now=T0
    )
    with pytest.raises(TransitionNotAllowed, match="不得同时进行"):
        cases.advance(store, authority.proceeding_id, "accept", actor="t", now=T0)
    cases.advance(
        store,
        committee.proceeding_id,
        "withdraw",
        actor="t",
        now=T0,
        payload={"party": "张三", "reason": "改向卫生主管部门申请"},
    )
    accepted = cases.advance(store, authority.proceeding_id, "accept", actor="t", now=T0)
    assert accepted.to_state == "accepted"
