"""CPU a transition costs on PostgreSQL, client and server, against plain psycopg.

On a fresh schema (dropped afterwards) cases are opened through the library (not timed),
then taken through five transitions each (accept, assign, inform, terminate, archive) by
``cases.advance``: the CPU of this process (``resource.getrusage``) and of the backend
serving it (``/proc/<pg_backend_pid()>/stat``: the server must run on this machine, read
as root or as its user) are summed per transition.

The baseline writes the same rows the plain way: the INSERT/UPDATE/DELETE statements one
case's five transitions sent to the server (captured once from the driver's cursors, with
their parameters and transaction boundaries) are replayed with plain psycopg, one
transaction per transition as the engine commits them, on other cases opened the same way,
their ids, versions and chain positions substituted, on a connection of its own whose
backend's CPU is read the same way. The engine's reads (the case, its deadlines, the
calendar...) are not replayed: the baseline is what the writes cost at the least.

Usage: python bench/pg_cpu.py [--cases N] [--rounds R]   (defaults 200, 5; the two sides
alternate within each round, and the round with the median total is reported for each)
The server comes from MEDIATION_BENCH_PG (default
postgresql://postgres@127.0.0.1:5432/postgres).
Last line: ``ratio=<engine/baseline CPU a transition, client + server>`` (target <= 1.5).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any

# bench/transitions.py would shadow the `transitions` package: keep this folder off the path.
HERE = Path(__file__).parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE.resolve()]

import psycopg  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

from mediation.engine import cases  # noqa: E402
from mediation.storage.store import Store, resolve_url  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_concurrency", HERE / "concurrency.py")
assert _spec and _spec.loader
concurrency = importlib.util.module_from_spec(_spec)
sys.modules["bench_concurrency"] = concurrency
_spec.loader.exec_module(concurrency)

PATH = ["applied", "accepted", "assigned", "informed", "terminated"]
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(pid: int) -> float:
    cpu = concurrency._backend_cpu(pid)
    if cpu is None:
        sys.exit(f"cannot read /proc/{pid}/stat: the server must run on this machine")
    return cpu


class Recorder:
    """Every statement sent on the store's driver connection, and each commit."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.on = False


def recording_cursor(recorder: Recorder) -> type:
    class Cursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:  # type: ignore[override]
            if recorder.on:
                recorder.log.append((str(query), params))
            return super().execute(query, params, **kw)

    return Cursor


def advance_case(store: Store, pid: int) -> None:
    for state in PATH:
        trigger, payload = concurrency.NEXT[state]
        cases.advance(store, pid, trigger, actor="调解员", now=concurrency.NOW, payload=payload)


def capture(store: Store, pid: int) -> list[list[tuple[str, Any]]]:
    """The statements one case's five transitions send, grouped by transaction (the seal
    that follows each commit ends it)."""
    recorder = Recorder()
    raw: Any = store._connection().connection.driver_connection
    raw.cursor_factory = recording_cursor(recorder)
    listener = lambda _conn: recorder.log.append(("COMMIT", None))  # noqa: E731
    event.listen(store.engine, "commit", listener)
    recorder.on = True
    try:
        advance_case(store, pid)
    finally:
        recorder.on = False
        event.remove(store.engine, "commit", listener)
        raw.cursor_factory = psycopg.Cursor
    transactions: list[list[tuple[str, Any]]] = [[]]
    for sql, params in recorder.log:
        if sql == "COMMIT":
            continue
        transactions[-1].append((sql, params))
        if "mediation_seal" in sql:
            transactions.append([])
    return [t for t in transactions if t]


def replay_plan(
    transactions: list[list[tuple[str, Any]]],
) -> list[list[tuple[str, Any, str]]]:
    """The writes of each transaction (and the lock and the previous event's hash that the
    event's insert needs, and the seal): (sql, params, what to substitute)."""
    plan = []
    for statements in transactions:
        steps = []
        for sql, params in statements:
            if WRITE.match(sql) or "mediation_seal" in sql or "FOR UPDATE" in sql:
                steps.append((sql, params, "write"))
            elif sql.lstrip().startswith("SELECT event.hash"):
                steps.append((sql, params, "prev_hash"))
        plan.append(steps)
    return plan


def substitute(params: Any, pid: int, did: int, prev: str | None) -> Any:
    if not isinstance(params, dict):
        return params
    out = dict(params)
    for key in out:
        if key in ("pid", "proceeding_id", "id_1") or key.startswith("proceeding_id"):
            out[key] = pid
        elif key.startswith("dispute_id"):
            out[key] = did
        elif key == "prev_hash" and prev is not None:
            out[key] = prev
    return out


def replay(
    conn: psycopg.Connection, plan: list[list[tuple[str, Any, str]]], pid: int, did: int
) -> None:  # type: ignore[type-arg]
    prev: str | None = None
    for steps in plan:
        with conn.cursor() as cur:
            for sql, params, kind in steps:
                cur.execute(sql, substitute(params, pid, did, prev))
                if kind == "prev_hash":
                    row = cur.fetchone()
                    prev = row[0] if row else None
        conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, rounds = args.cases, args.rounds
    server = os.environ.get("MEDIATION_BENCH_PG", concurrency.DEFAULT_PG)
    admin = create_engine(resolve_url(server), isolation_level="AUTOCOMMIT")
    schema = f"bench_pg_cpu_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine_runs: list[tuple[float, float]] = []
    base_runs: list[tuple[float, float]] = []
    try:
        url = concurrency.schema_url(server, schema)
        print(f"cpus={os.cpu_count()} load_average={os.getloadavg()[0]:.2f}; opening cases ...")
        ids = concurrency.setup(url, 3 + 2 * n * rounds)
        store = Store(url)
        advance_case(store, ids[0])  # warm-up: flow loading, statement compilation
        plan = replay_plan(capture(store, ids[1]))
        with store.read() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            dispute_of: dict[int, int] = dict(
                conn.execute(text("SELECT id, dispute_id FROM proceeding")).all()
            )
        plain = psycopg.connect(
            str(resolve_url(url)).replace("postgresql+psycopg://", "postgresql://")
        )
        plain_backend = plain.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        plain.commit()
        replay(plain, plan, ids[2], dispute_of[ids[2]])  # warm-up
        rest = ids[3:]
        for r in range(rounds):
            mine, theirs = rest[2 * n * r : 2 * n * r + n], rest[2 * n * r + n : 2 * n * (r + 1)]
            c0, s0, w0 = client_cpu(), backend_cpu(backend), time.perf_counter()
            for pid in mine:
                advance_case(store, pid)
            c1, s1, w1 = client_cpu(), backend_cpu(backend), time.perf_counter()
            engine_runs.append(((c1 - c0), (s1 - s0)))
            p0, q0, v0 = client_cpu(), backend_cpu(plain_backend), time.perf_counter()
            for pid in theirs:
                replay(plain, plan, pid, dispute_of[pid])
            p1, q1, v1 = client_cpu(), backend_cpu(plain_backend), time.perf_counter()
            base_runs.append(((p1 - p0), (q1 - q0)))
            k = n * len(PATH) / 1000  # per transition, in ms
            print(
                f"round {r + 1}: engine client {(c1 - c0) / k:.3f} + server {(s1 - s0) / k:.3f} ms"
                f" ({w1 - w0:.2f} s wall); plain psycopg client {(p1 - p0) / k:.3f} + server"
                f" {(q1 - q0) / k:.3f} ms ({v1 - v0:.2f} s wall)"
            )
        # The baseline wrote what the engine wrote: each of its cases archived, six events.
        done = [pid for r in range(rounds) for pid in rest[2 * n * r + n : 2 * n * (r + 1)]]
        with store.read() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM proceeding p WHERE p.id = ANY(:ids) AND p.state = "
                    "'archived' AND (SELECT count(*) FROM event e WHERE e.proceeding_id = p.id) = 6"
                ),
                {"ids": done},
            ).scalar_one()
        assert found == len(done), f"the replay wrote {found} of {len(done)} cases fully"
        plain.close()
        store.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    k = n * len(PATH) / 1000
    # The round whose total is the median, each side (a client's and a server's figures
    # from the same moment).
    e_client, e_server = sorted(engine_runs, key=sum)[len(engine_runs) // 2]
    b_client, b_server = sorted(base_runs, key=sum)[len(base_runs) // 2]
    e_client, e_server, b_client, b_server = (
        x / k for x in (e_client, e_server, b_client, b_server)
    )
    print(f"statements replayed a case: {sum(len(s) for s in plan)} in {len(plan)} transactions")
    print(
        f"engine:   {e_client + e_server:.3f} ms CPU a transition"
        f" (client {e_client:.3f}, server {e_server:.3f}; median round)"
    )
    print(
        f"baseline: {b_client + b_server:.3f} ms CPU a transition"
        f" (client {b_client:.3f}, server {b_server:.3f}; plain psycopg, median round)"
    )
    print(f"ratio={(e_client + e_server) / (b_client + b_server):.2f}")


if __name__ == "__main__":
    main()
