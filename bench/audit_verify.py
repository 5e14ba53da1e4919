"""`audit verify` on a large database: the reference code path against the fast one, and
`verify --since` a checkpoint.

Builds (or reuses, from --cache) a SQLite database made by `mediation demo --cases N`
(about 7 events a case), then, on one snapshot of it and in the same run:

- **old**: the reference path, what `audit verify` ran before: ``audit.verify`` (every
  entry through the ORM twice, each hash recomputed from decoded values) and
  ``consistency.check_reference`` (every event replayed in Python, a query per key and
  per sealed document);
- **new**: what `audit verify` runs now: ``audit_scan.scan`` and ``consistency.check``.

Both must report the same (an intact database, so no problem). Wall time and this
process's CPU time are printed for each round (SQLite runs in this process, so the CPU
time is all the work and is steadier than wall time on a shared machine).

Then, on a copy of the database: a checkpoint is taken, --new events are written after it
(cases opened and accepted through the engine), and `verify --since` the checkpoint is timed
(target < 0.5 s whatever the database's size).

Usage: python bench/audit_verify.py [--cases N] [--rounds R] [--new M] [--cache DIR]
Last line: ``ratio=<old/new CPU> wall_ratio=<old/new wall> since_seconds=<s>``
(targets: ratio >= 5, since_seconds < 0.5).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

# bench/transitions.py is named like the `transitions` package; keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import select  # noqa: E402

from mediation.domain import intake  # noqa: E402
from mediation.domain.clock import BUSINESS_TZ  # noqa: E402
from mediation.engine import cases  # noqa: E402
from mediation.storage import audit, audit_scan, checkpoint, consistency  # noqa: E402
from mediation.storage._tables import organisation_table  # noqa: E402
from mediation.storage.migrations import HEAD  # noqa: E402
from mediation.storage.store import Store  # noqa: E402

INTAKE = {
    "dispute_type": "neighbourhood",
    "channel": "walk_in",
    "title": "邻里通道纠纷",
    "parties": [
        {"role": "applicant", "name": "张三", "id_number": "11010519491231002X"},
        {"role": "respondent", "name": "李四", "phone": "13812345678"},
    ],
}


def demo_db(cache: Path, n: int) -> Path:
    """The cached `demo --cases n` database, built when missing, upgraded when at an older
    revision (building a large one takes long: 100,000 cases, most of an hour)."""
    path = cache / f"demo-{n}.db"
    if path.exists():
        store = Store(f"sqlite:///{path}")
        try:
            if store.revision() != HEAD:
                print(f"upgrading {path} from revision {store.revision()} to {HEAD}", flush=True)
                store.upgrade()
            return path
        finally:
            store.close()
    cache.mkdir(parents=True, exist_ok=True)
    print(f"building {path} (mediation demo --cases {n}) ...", flush=True)
    t0 = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    for leftover in cache.glob(partial.name + "*"):
        leftover.unlink()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from mediation.cli import main; main()",
            "--db",
            str(partial),
            "demo",
            "--cases",
            str(n),
            "--quiet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    store = Store(f"sqlite:///{partial}")
    with store.engine.connect() as conn:  # fold the WAL into the file before renaming it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    partial.rename(path)
    print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def timed(run: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu, result


def old_path(store: Store) -> tuple[dict[str, object], list[str]]:
    with store.snapshot() as conn:
        report = audit.verify(conn)
        return report.as_dict(), sorted(str(p) for p in consistency.check_reference(conn))


def new_path(store: Store) -> tuple[dict[str, object], list[str]]:
    with store.snapshot() as conn:
        steps = audit_scan.CaseSteps()
        report = audit_scan.scan(conn, steps=steps)
        return report.as_dict(), sorted(str(p) for p in consistency.check(conn, steps=steps))


def since(store: Store, new: int) -> tuple[float, int]:
    """Checkpoint, write ``new`` events, time `verify --since` (what the API runs)."""
    with store.snapshot() as conn:
        cp = checkpoint.take(conn, now=store_now())
        org = conn.execute(
            select(organisation_table.c.code)
            .where(organisation_table.c.level == "village")
            .order_by(organisation_table.c.id)
            .limit(1)
        ).scalar_one()
    record = intake.validate({**INTAKE, "organisation": org})
    start = store_now()
    for i in range((new + 1) // 2):  # each case: opened, accepted
        now = start + timedelta(seconds=i)
        opened = cases.open_case(store, record, actor="bench", now=now)
        cases.advance(store, opened.proceeding_id, "accept", actor="bench", now=now)
    wall = time.perf_counter()
    with store.snapshot() as conn:
        checkpoint.check(conn, cp)
        report = audit_scan.scan(conn, after=(cp.position, cp.head))
        report.problems.extend(
            consistency.check(conn, after=cp.position, documents_after=cp.documents)
        )
    seconds = time.perf_counter() - wall
    assert report.ok, report.problems[:5]
    return seconds, report.events


def store_now():  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime(2031, 1, 6, 9, 0, tzinfo=BUSINESS_TZ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "mediation-bench"
    )
    args = parser.parse_args()

    path = demo_db(args.cache, args.cases)
    store = Store(f"sqlite:///{path}")
    with store.read() as conn:
        events = conn.exec_driver_sql("SELECT count(*) FROM event").scalar()
    print(f"database: {path} ({args.cases} demo cases, {events} events)")
    old, new = [], []
    for r in range(args.rounds):
        o_wall, o_cpu, o_result = timed(lambda: old_path(store))
        n_wall, n_cpu, n_result = timed(lambda: new_path(store))
        assert o_result == n_result, "the two paths disagree"
        old.append((o_wall, o_cpu))
        new.append((n_wall, n_cpu))
        print(
            f"round {r + 1}: old {o_wall:.2f} s wall / {o_cpu:.2f} s CPU, "
            f"new {n_wall:.2f} s wall / {n_cpu:.2f} s CPU"
        )
    store.close()
    o_wall, o_cpu = (statistics.median(x) for x in zip(*old, strict=True))
    n_wall, n_cpu = (statistics.median(x) for x in zip(*new, strict=True))

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "since.db"
        shutil.copyfile(path, copy)
        work = Store(f"sqlite:///{copy}")
        try:
            seconds, checked = since(work, args.new)
        finally:
            work.close()
    print(f"verify --since: {checked} new events checked in {seconds:.3f} s (target < 0.5)")
    print(f"ratio={o_cpu / n_cpu:.2f} wall_ratio={o_wall / n_wall:.2f} since_seconds={seconds:.3f}")


if __name__ == "__main__":
    main()
