"""The demo's fast path: many cases across every flow, written through the engine."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from mediation import demo
from mediation.demo import bulk
from mediation.engine.machine import load
from mediation.reporting import stats
from mediation.storage._tables import event_table, proceeding_table
from mediation.storage.store import Store
from tests.conftest import T0


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
    payload = bulk.bulk_payload(t, rng, demo.demo_intake(rng, "桥头"), date(2026, 3, 2))
    assert set(payload) == {"performance", "summary", "satisfaction"}
