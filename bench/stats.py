"""The statistics report over 1,000,000 proceedings on SQLite.

Builds a SQLite database with the project's schema (Alembic head) holding N proceedings
(default 1,000,000) opened over one year across 200 committees on every level, shaped as
the engine writes them: people's mediation (most), 委派调解 with judicial-confirmation
hand-offs, labour, 交调委, 医调委, land, administrative, 治安 and judicial mediation; each
case with its dispute, two parties (a few per cent repeating an earlier dispute's parties
and type), its statutory mediation clock and facts of the size the engine stores
(agreement terms, follow-up with performance and satisfaction, confirmation rulings), a
few per cent escalated to the next level. The case history (events) is not built: no
figure reads it.

Then times ``mediation.reporting.stats.compute`` for the whole year (what ``mediation report stats
--from 2025-11-24 --to 2026-11-23`` computes before rendering), also grouped by level,
and checks the totals against what was built. Usage:
python bench/stats.py [--proceedings N] [--keep PATH]. ``--keep`` builds the database at PATH
once and reuses it on later runs (rebuilt when the count or the schema revision differs).
The last line is ``seconds=<x>`` (target <= 5).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

# bench/transitions.py would shadow the `transitions` package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from mediation.domain import personal  # noqa: E402
from mediation.reporting import stats  # noqa: E402
from mediation.storage.secret import installation_secret  # noqa: E402
from mediation.storage.store import Store  # noqa: E402

START, END = date(2025, 11, 24), date(2026, 11, 23)
LEVELS = ["city", "county", "township", "village"]
TYPES = {
    "neighbourhood": 24,
    "marriage_family": 20,
    "housing_homestead": 9,
    "contract": 10,
    "damages": 9,
    "labour": 7,
    "land_forest": 5,
    "consumer": 5,
    "property_management": 5,
    "traffic": 3,
    "other": 3,
}
CHANNELS = {"walk_in": 40, "grid": 18, "hotline": 12, "initiative": 10, "online": 8, "court": 12}
#: flow → (share of cases, [(weight, state, outcome, clock status)]).
SCENARIOS: dict[str, tuple[int, list[tuple[int, str, str | None, str]]]] = {
    "peoples": (
        75,
        [
            (52, "archived", "agreement_written", "met"),
            (6, "confirmed", "agreement_written", "met"),
            (10, "followed_up", "agreement_oral", "met"),
            (4, "agreed_written", "agreement_written", "late"),
            (2, "archived", "terminated", "met"),
            (1, "withdrawn", "withdrawn", "met"),
            (2, "escalated", "escalated", "met"),
            (1, "rejected", "rejected", ""),
            (6, "mediating", None, "open"),
            (2, "assigned", None, "open"),
        ],
    ),
    "court_referred": (
        12,
        [
            (30, "archived", "agreement_written", "met"),
            (25, "confirmation_requested", "transferred", "met"),
            (35, "returned", "returned", "late"),
            (10, "mediating", None, "open"),
        ],
    ),
    "labour": (
        4,
        [(70, "archived", "agreement_written", "met"), (30, "lapsed", "terminated", "late")],
    ),
    "traffic": (
        3,
        [(85, "followed_up", "agreement_written", "met"), (15, "terminated", "terminated", "met")],
    ),
    "medical_committee": (
        1,
        [
            (60, "archived", "agreement_written", "late"),
            (40, "deemed_failed", "terminated", "late"),
        ],
    ),
    "land_contract": (
        1,
        [(90, "archived", "agreement_written", ""), (10, "terminated", "terminated", "")],
    ),
    "administrative": (
        1,
        [(80, "closed", "agreement_written", "met"), (20, "closed", "terminated", "met")],
    ),
    "public_order": (
        1,
        [(85, "no_penalty", "agreement_written", ""), (15, "penalised", "terminated", "")],
    ),
    "judicial": (
        2,
        [(55, "effective", "agreement_written", "met"), (45, "to_judgment", "terminated", "late")],
    ),
}
CONFIRMATION = ["confirmed"] * 85 + ["dismissed"] * 8 + ["not_accepted"] * 2 + ["accepted"] * 5


def _facts(rng: random.Random, state: str, outcome: str | None) -> str:
    """Facts as the engine stores them: the payload of each trigger fired, sorted keys."""
    facts: dict[str, object] = {
        "assign": {"mediators": [f"调解员{rng.randrange(500)}"], "selection": "designated"},
        "record_session": {
            "kind": "mediation",
            "summary": "听取双方陈述，核实相关情况，释法明理。",
        },
    }
    if outcome in ("agreement_written", "agreement_oral", "transferred"):
        facts["agree_written"] = {
            "facts": "张三与李四因邻里通道堆放杂物发生争执，双方多次协商未果。",
            "issues": "责任划分及赔偿数额",
            "responsibility": "双方各负部分责任",
            "terms": f"李四于十日内向张三支付人民币{rng.randrange(5, 80) * 100}元，双方纠纷就此了结。",
            "performance_method": "银行转账",
            "performance_place": "城关镇人民调解委员会",
            "performance_deadline": "2026-04-01",
        }
        facts["agreement"] = {"kind": "written", "effective_on": "2026-03-20"}
        if state in ("archived", "followed_up", "confirmed") and rng.random() < 0.9:
            facts["follow_up"] = {
                "performance": rng.choice(["performed"] * 8 + ["partly_performed", "in_progress"]),
                "satisfaction": rng.choice(
                    ["satisfied"] * 7 + ["basically_satisfied"] * 2 + ["dissatisfied"]
                ),
                "summary": "已电话回访，双方表示协议已履行。",
            }
        if state == "confirmed" or (state == "archived" and rng.random() < 0.1):
            facts["apply_confirmation"] = {
                "court": "青山县人民法院",
                "consented_by": ["张三", "李四"],
            }
            facts["confirmation_granted"] = {
                "ruling_ref": f"（2026）浙0681民特{rng.randrange(9999)}号"
            }
    elif outcome in ("terminated", "returned"):
        facts["terminate"] = {
            "reason": "双方分歧较大",
            "other_routes": "可依法申请仲裁或向人民法院提起诉讼",
        }
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, n: int, seed: int = 1) -> dict[str, int]:
    """Write the database; return what was built (cases, settled, ...) to check against."""
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    with store.write() as conn:
        secret = installation_secret(conn)  # the key of dispute.party_key
    store.close()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=OFF")
    created = "2025-01-01 00:00:00.000000"
    orgs = [(1, "ORG001", "city", None)]
    orgs += [(i, f"ORG{i:03d}", "county", 1) for i in range(2, 6)]
    orgs += [(i, f"ORG{i:03d}", "township", 2 + i % 4) for i in range(6, 41)]
    orgs += [(i, f"ORG{i:03d}", "village", 6 + i % 35) for i in range(41, 201)]
    db.executemany(
        "INSERT INTO organisation (id, code, name, kind, level, parent_id, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        [
            (i, c, f"第{i}人民调解委员会", "people_committee", lv, p, created)
            for i, c, lv, p in orgs
        ],
    )
    level_of = {i: lv for i, _, lv, _ in orgs}
    parent_of = {i: p for i, _, _, p in orgs}
    flows = list(SCENARIOS)
    flow_weights = [SCENARIOS[f][0] for f in flows]
    types, type_w = list(TYPES), list(TYPES.values())
    channels, channel_w = list(CHANNELS), list(CHANNELS.values())
    span = (END - START).days + 1
    expected = {"received": 0, "settled": 0, "repeats": 0}
    tz8 = timedelta(hours=8)
    pid = did = 0
    serial: dict[int, int] = {}
    history: list[tuple[str, str, str, datetime]] = []  # (type, id1, id2, received)
    batch = 20_000
    while pid < n:
        disputes, parties, procs, deadlines = [], [], [], []
        while len(procs) < batch and pid < n:
            did += 1
            flow = rng.choices(flows, flow_weights)[0]
            weights, scenarios = zip(*[(w, s) for w, *s in SCENARIOS[flow][1]], strict=True)
            state, outcome, clock = rng.choices(scenarios, weights)[0]
            org = rng.randrange(41, 201) if flow == "peoples" else rng.randrange(2, 41)
            opened = datetime.combine(START, datetime.min.time(), UTC) - tz8
            opened += timedelta(
                days=rng.randrange(span), seconds=rng.randrange(9 * 3600, 17 * 3600)
            )
            kind = rng.choices(types, type_w)[0]
            ids = (f"33068119{rng.randrange(10**10):010d}", f"33068119{rng.randrange(10**10):010d}")
            if history and rng.random() < 0.03:  # the same parties come back
                kind, a, b, _ = history[rng.randrange(max(0, len(history) - 5000), len(history))]
                ids = (a, b)
            history.append((kind, ids[0], ids[1], opened))
            ts = _ts(opened)
            disputes.append(
                (
                    did,
                    "纠纷",
                    "",
                    "",
                    kind,
                    rng.choices(channels, channel_w)[0],
                    "green",
                    ts,
                    ts,
                    "bench",
                    personal.party_key(
                        (SimpleNamespace(id_number=i, name="当事人", phone=None) for i in ids),
                        secret,
                    ),
                )
            )
            for role, number in zip(("applicant", "respondent"), ids, strict=True):
                parties.append((did, role, "person", 0, "当事人", "resident_id", number))
            chain = [(flow, state, outcome, clock, org)]
            if flow == "peoples" and state == "escalated":
                chain.append(("peoples", "archived", "agreement_written", "met", parent_of[org]))
            if flow == "court_referred" and state == "confirmation_requested":
                chain.append(("judicial_confirmation", rng.choice(CONFIRMATION), None, "", 2))
            parent_pid = None
            at = opened
            for flow_, state_, outcome_, clock_, org_ in chain:
                if pid >= n:
                    break
                pid += 1
                serial[org_] = serial.get(org_, 0) + 1
                closed = at + timedelta(days=rng.choice([2, 5, 9, 14, 20, 27, 35, 50]))
                final = outcome_ is not None or state_ in ("confirmed", "dismissed", "not_accepted")
                procs.append(
                    (
                        pid,
                        did,
                        parent_pid,
                        flow_,
                        state_,
                        org_,
                        level_of[org_],
                        2026,
                        serial[org_],
                        f"（2026）ORG{org_:03d}字第{serial[org_]}号",
                        "written",
                        f"调解员{org_ * 3 + rng.randrange(3)}",
                        "[]",
                        _facts(rng, state_, outcome_),
                        outcome_,
                        _ts(at),
                        _ts(closed) if final else None,
                        _ts(closed),
                        5,
                    )
                )
                if flow_ != "judicial_confirmation" and START <= (at + tz8).date() <= END:
                    expected["received"] += 1
                    klass = stats.classify(flow_, state_, outcome_)
                    expected["settled"] += klass in ("written", "oral")
                if clock_:
                    starts = (at + tz8).date()
                    due = starts + timedelta(days=30)
                    stop = (closed + tz8).date()
                    status = clock_ if clock_ == "open" else ("met" if stop <= due else "late")
                    deadlines.append(
                        (
                            pid,
                            stats.CLOCK,
                            "调解期限",
                            "1个月",
                            "人民调解工作若干规定 art. 33",
                            1,
                            starts.isoformat(),
                            due.isoformat(),
                            0,
                            status,
                            None if status == "open" else _ts(closed),
                            0,
                        )
                    )
                parent_pid, at = pid, closed
        db.executemany(
            "INSERT INTO dispute (id, title, summary, claims, dispute_type, channel, risk_level,"
            " received_at, created_at, created_by, party_key) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            disputes,
        )
        db.executemany(
            "INSERT INTO party (dispute_id, role, kind, ordinal, name, id_type, id_number)"
            " VALUES (?,?,?,?,?,?,?)",
            parties,
        )
        db.executemany(
            "INSERT INTO proceeding (id, dispute_id, parent_id, flow, state, organisation_id,"
            " level, case_year, case_serial, case_number, application_mode, mediator, mediators,"
            " facts, outcome, opened_at, closed_at, updated_at, version, case_word)"
            f" VALUES ({','.join('?' * 20)})",
            [(*p, _case_word(p[3])) for p in procs],
        )
        db.executemany(
            "INSERT INTO deadline (proceeding_id, kind, label, period, legal_basis, duty,"
            " starts_on, due, provisional, status, closed_at, extensions)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            deadlines,
        )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    # Repeats, counted here the slow way: a dispute opened in the year whose parties and
    # type were seen at most 365 days before (no leap day in the year: 12 months).
    last_seen: dict[tuple[str, str, str], datetime] = {}
    for kind, a, b, opened in sorted(history, key=lambda h: h[3]):
        before = last_seen.get((kind, *sorted((a, b))))
        if before is not None and opened - before <= timedelta(days=365):
            expected["repeats"] += START <= (opened + tz8).date() <= END
        last_seen[(kind, *sorted((a, b)))] = opened
    return expected


def _cpu() -> float:
    """CPU seconds of this process and of its ended children (the report's parts run in
    forked processes on SQLite)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _meta(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _kept(path: Path, n: int) -> dict[str, int] | None:
    """The totals a kept database was built with, or None when it must be (re)built: it
    is missing, holds another count, or is not at the schema's head revision."""
    from mediation.storage.migrations import HEAD

    if not path.exists() or not _meta(path).exists():
        return None
    meta = json.loads(_meta(path).read_text())
    if meta.get("proceedings") != n:
        return None
    with sqlite3.connect(path) as db:
        try:
            (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
    if revision != HEAD:
        return None
    expected: dict[str, int] = meta["expected"]
    return expected


@functools.cache
def _case_word(flow: str) -> str:
    """The register a case of ``flow`` is numbered in (revision 0018: 人调, 民诉前调 ...)."""
    from mediation.workflows import get_flow

    return get_flow(flow).case_word


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proceedings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="PATH",
        help="build the database at PATH once and reuse it on later runs (with the totals"
        " it was built with, in PATH.json); rebuilt when the count or the schema differs",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "stats.db"
        expected = _kept(path, args.proceedings) if args.keep else None
        if expected is None:
            path.unlink(missing_ok=True)
            t0 = time.perf_counter()
            expected = build(path, args.proceedings)
            size = path.stat().st_size / 2**20
            print(
                f"built {args.proceedings:,} proceedings in {time.perf_counter() - t0:.1f} s"
                f" ({size:,.0f} MiB)"
            )
            if args.keep:
                _meta(path).write_text(
                    json.dumps({"proceedings": args.proceedings, "expected": expected})
                )
        else:
            print(f"reusing {path} ({args.proceedings:,} proceedings)")
        store = Store(f"sqlite:///{path}")
        timings: dict[str | None, list[float]] = {None: [], "level": []}
        cpu: list[float] = []
        for _ in range(args.repeat):
            for by in timings:
                t, c = time.perf_counter(), _cpu()
                report = stats.compute(store, stats.Selection(START, END, as_of=END, by=by))
                timings[by].append(time.perf_counter() - t)
                if by is None:
                    cpu.append(_cpu() - c)
                got = {k: report.total[k] for k in expected}
                if got != expected:
                    raise SystemExit(f"the report says {got}, the database holds {expected}")
        store.close()
    total = report.total
    print(
        f"cases {total['received']:,} · settled {total['settled']:,} ({total['settlement_rate']}%)"
        f" · median {total['duration_median']} days · overdue {total['overdue_rate']}%"
        f" · repeats {total['repeats']:,} (as built)"
    )
    by_level = statistics.median(timings["level"])
    print(f"--by level: {by_level:.3f} s (median of {args.repeat})")
    print(
        f"cpu: {statistics.median(cpu):.3f} s over all processes (the parts run side by side,"
        f" one per core: {stats.part_count()} here); a busy machine shows in the wall time"
    )
    seconds = statistics.median(timings[None])
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"report: {seconds:.3f} s (median of {args.repeat}; target <= 5 s"
        f" {'ok' if seconds <= 5 else 'FAIL'})"
    )
    print(f"seconds={seconds:.3f}")


if __name__ == "__main__":
    main()
