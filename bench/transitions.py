"""Durable transitions per second: the engine against plain sqlite3 doing the same writes.

Each case is opened (dispute, two parties, case serial, proceeding, first event) and taken
through six transitions (accept, assign, inform, record_session, agree_written,
follow_up), each committed with its event and its deadline changes. The baseline does the
same inserts and updates with the standard library's sqlite3 on a database with the same
schema and the same settings (WAL, synchronous=FULL, BEGIN IMMEDIATE).

The two run interleaved, --chunk cases at a time, so that both meet the same disk (an fsync
costs what the other processes' writes make it cost at that moment).

Usage: python bench/transitions.py [--cases N] [--chunk C]
The last line is ``ratio=<engine/baseline>`` (higher is better; target >= 0.25).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

# This file is named like the `transitions` package; keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import insert  # noqa: E402

from mediation.domain import intake  # noqa: E402
from mediation.domain.clock import BUSINESS_TZ, UTC  # noqa: E402
from mediation.engine import cases  # noqa: E402
from mediation.storage.models import Organisation  # noqa: E402
from mediation.storage.store import Store  # noqa: E402

STEPS = [
    ("accept", {}),
    ("assign", {"mediators": ["王调解"], "selection": "designated"}),
    ("inform", {}),
    ("record_session", {"kind": "mediation", "summary": "双方陈述并协商"}),
    (
        "agree_written",
        {
            "facts": "相邻通道堆放杂物引发争执",
            "issues": "通道使用",
            "responsibility": "双方均有责任",
            "terms": "三日内清理杂物",
            "performance_method": "自行清理",
            "performance_place": "纠纷现场",
            "performance_deadline": "2026-03-20",
        },
    ),
    ("follow_up", {"performance": "performed", "summary": "已履行"}),
]
INTAKE = {
    "organisation": "CG",
    "dispute_type": "neighbourhood",
    "channel": "walk_in",
    "title": "邻里通道纠纷",
    "parties": [
        {"role": "applicant", "name": "张三", "id_number": "11010519491231002X"},
        {"role": "respondent", "name": "李四", "phone": "13812345678"},
    ],
}
START = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)


def make_db(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    with store.write() as conn:
        conn.execute(
            insert(Organisation.__table__).values(
                code="CG",
                name="城关镇人民调解委员会",
                kind="people_committee",
                level="township",
                created_at=START,
            )
        )
    return store


def run_engine(store: Store, n: int, first: int = 0) -> float:
    record = intake.validate(INTAKE)
    t0 = time.perf_counter()
    for i in range(first, first + n):
        now = START + timedelta(minutes=i)
        opened = cases.open_case(store, record, actor="bench", now=now)
        for trigger, payload in STEPS:
            cases.advance(
                store, opened.proceeding_id, trigger, actor="bench", now=now, payload=payload
            )
    return time.perf_counter() - t0


def run_baseline(path: Path, n: int, first: int = 0) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    ts = lambda dt: dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731
    dumps = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)  # noqa: E731
    t0 = time.perf_counter()
    for i in range(first, first + n):
        now = ts(START + timedelta(minutes=i))
        db.execute("BEGIN IMMEDIATE")
        (did,) = db.execute(
            "INSERT INTO dispute (title, summary, claims, dispute_type, channel, risk_level,"
            " received_at, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
            ("邻里通道纠纷", "", "", "neighbourhood", "walk_in", "green", now, now, "bench"),
        ).fetchone()
        for k, p in enumerate(INTAKE["parties"]):
            db.execute(
                "INSERT INTO party (dispute_id, role, kind, ordinal, name, id_type, id_number,"
                " phone, birth_date) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    did,
                    p["role"],
                    "person",
                    k,
                    p["name"],
                    "resident_id",
                    p.get("id_number"),
                    p.get("phone"),
                    "1949-12-31",
                ),
            )
        (serial,) = db.execute(
            "INSERT INTO case_counter (organisation_id, year, word, last) VALUES (1, 2026, '人调', 1)"
            " ON CONFLICT (organisation_id, year, word) DO UPDATE SET last = case_counter.last + 1"
            " RETURNING last"
        ).fetchone()
        (pid,) = db.execute(
            "INSERT INTO proceeding (dispute_id, flow, state, organisation_id, level, case_year,"
            " case_word, case_serial, case_number, application_mode, mediators, facts,"
            " opened_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (
                did,
                "peoples",
                "applied",
                1,
                "township",
                2026,
                "人调",
                serial,
                f"（2026）CG人调字第{serial}号-b",
                "written",
                "[]",
                "{}",
                now,
                now,
                1,
            ),
        ).fetchone()
        db.execute(
            "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, from_state, to_state,"
            " actor, payload, occurred_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (did, pid, 1, "open", None, "applied", "bench", dumps({"channel": "walk_in"}), now),
        )
        db.execute("COMMIT")
        states = ["accepted", "assigned", "informed", "mediating", "agreed_written", "followed_up"]
        facts: dict[str, object] = {}
        for (trigger, payload), dest in zip(STEPS, states, strict=True):
            db.execute("BEGIN IMMEDIATE")
            state, version, _ = db.execute(
                "SELECT state, version, facts FROM proceeding WHERE id = ?", (pid,)
            ).fetchone()
            if payload:
                facts[trigger] = payload
            db.execute(
                "UPDATE proceeding SET state=?, version=?, updated_at=?, facts=?, mediator=?,"
                " mediators=?, outcome=?, closed_at=? WHERE id=? AND version=?",
                (
                    dest,
                    version + 1,
                    now,
                    dumps(facts),
                    "王调解",
                    '["王调解"]',
                    None,
                    None,
                    pid,
                    version,
                ),
            )
            if trigger == "agree_written":
                db.execute(
                    "SELECT due FROM deadline WHERE proceeding_id=? AND kind=? AND status='open'",
                    (pid, "mediation_period"),
                ).fetchone()
                db.execute(
                    "UPDATE deadline SET status=?, closed_at=? WHERE proceeding_id=? AND kind=?"
                    " AND status='open'",
                    ("met", now, pid, "mediation_period"),
                )
            db.execute(
                "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, from_state,"
                " to_state, actor, note, payload, occurred_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (did, pid, version + 1, trigger, state, dest, "bench", None, dumps(payload), now),
            )
            if trigger in ("accept", "agree_written"):
                db.execute(
                    "INSERT INTO deadline (proceeding_id, kind, label, period, legal_basis, duty,"
                    " starts_on, due, provisional, status, extensions)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        pid,
                        trigger,
                        "调解期限",
                        "1个月",
                        "若干规定 art. 33",
                        1,
                        "2026-03-02",
                        "2026-04-02",
                        0,
                        "open",
                        0,
                    ),
                )
            db.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=25)
    args = parser.parse_args()
    n, chunk = args.cases, args.chunk
    writes = n * (1 + len(STEPS))
    engine_s = baseline_s = engine_cpu = baseline_cpu = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = make_db(Path(tmp) / "engine.db")
        base_path = Path(tmp) / "baseline.db"
        make_db(base_path).close()
        run_engine(store, 20)  # warm-up: flow loading, statement compilation
        run_baseline(base_path, 20)
        # Interleaved in chunks: an fsync's cost swings with the other processes' disk
        # writes on a shared machine, so both sides must see the same moments.
        for first in range(20, 20 + n, chunk):
            size = min(chunk, 20 + n - first)
            cpu = time.process_time()
            engine_s += run_engine(store, size, first)
            engine_cpu += time.process_time() - cpu
            cpu = time.process_time()
            baseline_s += run_baseline(base_path, size, first)
            baseline_cpu += time.process_time() - cpu
        store.close()
    engine_tps = writes / engine_s
    baseline_tps = writes / baseline_s
    print(f"cases={n} transactions={writes} (open + {len(STEPS)} transitions each)")
    print("settings: SQLite WAL, synchronous=FULL, BEGIN IMMEDIATE, one commit per transaction")
    print(f"interleaved in chunks of {chunk} cases")
    print(
        f"engine:   {engine_s:.3f} s  {engine_tps:,.0f} durable transactions/s"
        f"  ({engine_cpu / writes * 1000:.2f} ms CPU a transaction)"
    )
    print(
        f"baseline: {baseline_s:.3f} s  {baseline_tps:,.0f} durable transactions/s (sqlite3)"
        f"  ({baseline_cpu / writes * 1000:.2f} ms CPU a transaction)"
    )
    print(f"ratio={engine_tps / baseline_tps:.3f}")


if __name__ == "__main__":
    main()
