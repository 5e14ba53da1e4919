"""The overdue report over 1,000,000 proceedings, against a hand-written sqlite3 query.

Builds a SQLite database with the project's schema (Alembic head) holding N proceedings
(default 1,000,000) across 200 committees, about 20% still open, each with its statutory
deadline (open ones partly past due), then times in the same run:

- the report: ``mediation.reporting.reports.write_csv`` (what ``mediation report overdue --format
  csv`` runs), writing CSV;
- the baseline: one hand-written sqlite3 query producing the same rows, written with the
  csv module.

Both outputs are compared row for row. Usage: python bench/overdue.py [--proceedings N]
The last line is ``ratio=<report/baseline>`` (targets: report <= 2 s, ratio <= 2).
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

# bench/transitions.py would shadow the `transitions` package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from mediation.domain import taxonomy  # noqa: E402
from mediation.reporting.reports import write_csv  # noqa: E402
from mediation.storage.store import Store  # noqa: E402

AS_OF = date(2026, 11, 23)
LEVELS = ["village", "township", "county", "city"]
STATES_OPEN = ["accepted", "assigned", "informed", "mediating"]
BASIS = "人民调解工作若干规定 art. 33（一般在一个月内调结）"


def build(path: Path, n: int, seed: int = 1) -> None:
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.close()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.executemany(
        "INSERT INTO organisation (id, code, name, kind, level, created_at) VALUES (?,?,?,?,?,?)",
        [
            (
                i,
                f"ORG{i:03d}",
                f"第{i}人民调解委员会",
                "people_committee",
                LEVELS[i % 4],
                "2026-01-01 00:00:00.000000",
            )
            for i in range(1, 201)
        ],
    )
    types = list(taxonomy.DISPUTE_TYPES)
    ts = "2026-01-01 01:00:00.000000"
    batch = 50_000
    for lo in range(1, n + 1, batch):
        ids = range(lo, min(lo + batch, n + 1))
        db.executemany(
            "INSERT INTO dispute (id, title, summary, claims, dispute_type, channel, risk_level,"
            " received_at, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (i, "邻里纠纷", "", "", types[i % len(types)], "walk_in", "green", ts, ts, "bench")
                for i in ids
            ],
        )
        procs, deadlines = [], []
        for i in ids:
            org = 1 + i % 200
            is_open = rng.random() < 0.2
            # Open cases were mostly accepted recently (a one-month clock: about a third
            # are overdue); closed ones spread over the past year and more.
            started = AS_OF - timedelta(days=rng.randrange(1, 45 if is_open else 400))
            due = started + timedelta(days=30)
            state = rng.choice(STATES_OPEN) if is_open else "archived"
            procs.append(
                (
                    i,
                    i,
                    "peoples",
                    state,
                    org,
                    LEVELS[org % 4],
                    2026,
                    i,
                    f"（2026）ORG{org:03d}人调字第{i}号",
                    "written",
                    f"调解员{i % 500}",
                    "[]",
                    "{}",
                    ts,
                    None if is_open else ts,
                    ts,
                    3,
                )
            )
            status = "open" if is_open else ("met" if rng.random() < 0.9 else "late")
            deadlines.append(
                (
                    i,
                    "mediation_period",
                    "调解期限",
                    "1个月",
                    BASIS,
                    1,
                    started.isoformat(),
                    due.isoformat(),
                    0,
                    status,
                    0,
                )
            )
        db.executemany(
            "INSERT INTO proceeding (id, dispute_id, flow, state, organisation_id, level,"
            " case_year, case_serial, case_number, application_mode, mediator, mediators, facts,"
            " opened_at, closed_at, updated_at, version, case_word)"
            f" VALUES ({','.join('?' * 18)})",
            [(*p, _case_word(p[2])) for p in procs],
        )
        db.executemany(
            "INSERT INTO deadline (proceeding_id, kind, label, period, legal_basis, duty,"
            " starts_on, due, provisional, status, extensions) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            deadlines,
        )
    db.commit()
    db.execute("ANALYZE")
    db.close()


_FLOW = {
    "peoples": (
        "人民调解",
        {
            "accepted": "已受理",
            "assigned": "已指派调解员",
            "informed": "已告知权利义务",
            "mediating": "调查调解中",
        },
    )
}


def baseline(path: Path, out: io.StringIO) -> int:
    """The same rows with one hand-written query and the csv module."""
    db = sqlite3.connect(path)
    writer = csv.writer(out)
    count = 0
    ordinal = AS_OF.toordinal()
    levels = taxonomy.LEVELS
    cursor = db.execute(
        "SELECT o.code, o.name, p.level, p.case_number, p.flow, p.state, d.label, d.period,"
        " d.due, d.provisional, d.legal_basis, p.mediator"
        " FROM deadline d JOIN proceeding p ON p.id = d.proceeding_id"
        " JOIN organisation o ON o.id = p.organisation_id"
        " WHERE d.status = 'open' AND d.duty = 1 AND d.due < ?"
        " ORDER BY o.code, d.due, p.case_number",
        (AS_OF.isoformat(),),
    )
    header = [
        "调委会代码",
        "调委会",
        "层级",
        "案号",
        "流程",
        "状态",
        "期限",
        "期间",
        "届满日",
        "逾期天数",
        "暂定",
        "法律依据",
        "承办调解员",
    ]
    for code, name, level, number, flow, state, label, period, due, prov, basis, med in cursor:
        if count == 0:
            writer.writerow(header)
        flow_label, states = _FLOW[flow]
        d = date.fromisoformat(due)
        writer.writerow(
            (
                code,
                name,
                levels[level],
                number,
                flow_label,
                states[state],
                label,
                period,
                d,
                ordinal - d.toordinal(),
                "是" if prov else "否",
                basis,
                med or "",
            )
        )
        count += 1
    db.close()
    return count


@functools.cache
def _case_word(flow: str) -> str:
    """The register a case of ``flow`` is numbered in (revision 0018: 人调, 民诉前调 ...)."""
    from mediation.workflows import get_flow

    return get_flow(flow).case_word


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proceedings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "overdue.db"
        t0 = time.perf_counter()
        build(path, args.proceedings)
        print(f"built {args.proceedings:,} proceedings in {time.perf_counter() - t0:.1f} s")
        store = Store(f"sqlite:///{path}")
        ours, base = [], []
        for _ in range(args.repeat):
            out_ours = io.StringIO()
            t = time.perf_counter()
            rows = write_csv(store, out_ours, as_of=AS_OF)
            ours.append(time.perf_counter() - t)
            out_base = io.StringIO()
            t = time.perf_counter()
            base_rows = baseline(path, out_base)
            base.append(time.perf_counter() - t)
        store.close()
        if out_ours.getvalue() != out_base.getvalue() or rows != base_rows:
            raise SystemExit("the report and the baseline produced different rows")
    report_s, base_s = statistics.median(ours), statistics.median(base)
    print(f"overdue rows: {rows:,} (identical CSV from both)")
    print(
        f"report:   {report_s:.3f} s (median of {args.repeat}; target <= 2 s"
        f" {'ok' if report_s <= 2 else 'FAIL'})"
    )
    print(f"baseline: {base_s:.3f} s (hand-written sqlite3 query + csv)")
    print(f"ratio={report_s / base_s:.3f}")


if __name__ == "__main__":
    main()
