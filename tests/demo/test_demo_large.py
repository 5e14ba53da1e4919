"""The demo's fast path: many cases across every flow, written through the engine."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mediation import demo
from mediation.cli import app
from mediation.demo import bulk, records
from mediation.domain.calendar import default_calendar
from mediation.engine.machine import load
from mediation.reporting import stats
from mediation.storage._tables import event_table, proceeding_table
from mediation.storage.store import Store
from tests.conftest import T0

NOW = "2026-06-30T17:00:00+08:00"


def test_bulk_cases_cover_the_flows_and_add_up(db_url: str, monkeypatch) -> None:
    monkeypatch.setattr(demo, "BULK_FROM", 50)
    monkeypatch.setattr(bulk, "CHUNK", 40)
    store = Store(db_url)
    store.upgrade()
    now = T0 + timedelta(days=365)
    lines: list[str] = []
    made = demo.run_demo(
        store, cases=120, seed=3, now=now, actor="demo", say=lines.append, quiet=True
    )
    assert sum(made.values()) == 120
    assert len(made) >= 6, made  # people's mediation, court referrals, labour, traffic...
    assert lines[-1].startswith("已生成 121 件演示案件（全部流程）")
    p, e = proceeding_table, event_table
    with store.read() as conn:
        # Every proceeding's version is its number of events: the engine wrote them.
        mismatched = conn.execute(
            select(func.count())
            .select_from(p)
            .where(
                p.c.version
                != select(func.count()).where(e.c.proceeding_id == p.c.id).scalar_subquery()
            )
        ).scalar_one()
        total = conn.execute(
            select(func.count()).where(p.c.flow.not_in(stats.NOT_CASES))
        ).scalar_one()
    assert mismatched == 0
    report = stats.compute(
        store,
        stats.Selection(start=date(2026, 1, 1), end=now.date(), as_of=now.date(), by="level"),
    )
    assert report.total["received"] == total
    assert sum(figs["received"] for _, _, figs in report.rows) == total
    assert report.total["settled"] > report.total["failed"]
    store.close()


def test_the_small_demo_keeps_its_own_path() -> None:
    assert demo.BULK_FROM >= 100  # `mediation demo` (20 cases) narrates one case per state
    rng = random.Random(1)
    t = load("peoples").transition("follow_up", "agreed_written")
    assert t is not None
    payload = bulk.bulk_payload(
        t, rng, demo.demo_intake(rng, "桥头"), date(2026, 3, 2), default_calendar()
    )
    assert set(payload) == {"performance", "summary", "satisfaction"}


def test_the_two_sides_of_a_made_up_dispute_never_share_a_name() -> None:
    """Two parties of one name are one party to the guards that tell the sides apart (only
    the *other* party consents to 行政调解): ``demo --cases 20000`` stopped at exit 5,
    「李燕 是申请人，不能代替对方表示意见」."""
    rng = random.Random(0)
    records = [demo.demo_intake(rng, "桥头") for _ in range(20000)]
    same = [r["parties"][0]["name"] for r in records if len({p["name"] for p in r["parties"]}) < 2]
    assert same == []
    assert all(r["parties"][1]["name"] in r["summary"] for r in records)


#: Every flow and every script of the fast path equally likely, names from a village where
#: few surnames and given names repeat (the two sides often drew the same name).
_EVEN_MIX = [
    (1, flow, where, dispute_type, [(1, steps) for _, steps in scripts])
    for _, flow, where, dispute_type, scripts in bulk.FLOW_MIX
]


#: Three seeds' walks, each on one database: what differs between the databases (their
#: transactions, constraints and triggers) is met on the first case of every flow, what
#: differs between seeds (which steps, which names) is the engine's alone.
@pytest.mark.parametrize(
    ("db_url", "seed"),
    [("sqlite", 1), ("sqlite", 7), ("postgresql", 2026)],
    indirect=["db_url"],
)
def test_the_fast_path_walks_every_flow_through_the_cli(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """``mediation demo --cases 300`` on the fast path reaches every flow with the consents
    the law asks of the right parties (both sides; the other party for 行政调解), exits 0,
    and leaves an intact audit chain."""
    monkeypatch.setattr(demo, "BULK_FROM", 100)
    monkeypatch.setattr(bulk, "CHUNK", 60)
    monkeypatch.setattr(bulk, "FLOW_MIX", _EVEN_MIX)
    monkeypatch.setattr(records, "_SURNAMES", "王李")
    monkeypatch.setattr(records, "_GIVEN", "燕伟")
    runner = CliRunner()
    env = {"MEDIATION_NOW": NOW, "MEDIATION_KEY_DIR": str(tmp_path / "keys")}
    args = ["--db", db_url, "demo", "--cases", "300", "--seed", str(seed), "--quiet"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, (result.stdout[-2000:], result.stderr)
    assert "已生成 301 件演示案件（全部流程）" in result.stdout
    with Store(db_url) as store, store.read() as conn:
        flows = set(conn.execute(select(proceeding_table.c.flow).distinct()).scalars())
        admin_consented = conn.execute(
            select(func.count())
            .select_from(event_table)
            .where(event_table.c.trigger == "other_party_consents")
        ).scalar_one()
    assert {flow for _, flow, *_ in bulk.FLOW_MIX} <= flows
    assert admin_consented > 0
    verified = runner.invoke(app, ["--db", db_url, "audit", "verify"], env=env)
    assert verified.exit_code == 0, (verified.stdout, verified.stderr)
    assert "审计链完整" in verified.stdout
