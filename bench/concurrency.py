"""Concurrent mediators on PostgreSQL: 8 processes advancing 500 cases, against 1 process.

For each run (N=1, then N=8 processes) a fresh schema is made on the server and 500
people's-mediation cases are opened through the library (not timed). Then N worker
processes, each with its own ``Store``, take every case along the same path:

    applied -accept-> accepted -assign-> assigned -inform-> informed
            -terminate-> terminated -archive-> archived

Cases are SHARED: every worker visits all of them, in its own random order, one step per
visit — look at the case (its state and version), fire the trigger that state calls for
with ``expect_version``, and on :class:`ConflictError` (another worker moved the case
first) come back to it later. A shared array only spares workers re-reading cases already
archived; who advances what is decided by the database alone. No trigger on the path is
allowed in the state after it, so a stale trigger is always a conflict, never a second
transition: each case must end with exactly 6 events (open + 5) and version 6.

Afterwards every case is checked — archived, version 6, events numbered 1-6 with the
expected triggers, each event starting where the previous one ended (no lost or doubled
update) — and ``audit.verify`` must pass, before and after the entries the run left pending
are sealed. Both throughputs are printed (transitions per
second, wall clock from the start signal to the last worker's end). Shared machines are
noisy, so the pair of runs is repeated (``--rounds``, default 3; the order alternates) and
the medians are compared. ``--profile`` adds where the time went: the share of the
backends' time spent running, waiting for a lock (and on which statement), flushing WAL at
commit, or idle in a transaction while Python works (sampled from pg_stat_activity), and
a cProfile of one worker. The CPU used per transition (client, and the backend's when the
server is on this host) gives the ceiling a CPU-bound run could reach on these cores, and
``cores_busy`` how much of the machine a run kept busy (near all of it: more throughput
needs more cores, not less waiting).

Usage: python bench/concurrency.py [--cases N] [--workers N] [--rounds R] [--profile]
The server comes from MEDIATION_BENCH_PG (default
postgresql://postgres@127.0.0.1:5432/postgres); the schemas are dropped afterwards.
The last line is ``ratio=<8-process/1-process throughput>`` (target >= 3). Figures are
reported, not asserted: the exit status is non-zero only when a check fails.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

# bench/transitions.py would shadow the `transitions` package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import bindparam, create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from mediation.domain import intake  # noqa: E402
from mediation.domain.clock import BUSINESS_TZ  # noqa: E402
from mediation.engine import cases  # noqa: E402
from mediation.engine.machine import load  # noqa: E402
from mediation.engine.organisations import add_organisation  # noqa: E402
from mediation.errors import ConflictError  # noqa: E402
from mediation.storage import audit  # noqa: E402
from mediation.storage._tables import event_table, proceeding_table  # noqa: E402
from mediation.storage.store import Store, resolve_url  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)
#: The trigger (and its data) each state on the path calls for.
NEXT: dict[str, tuple[str, dict[str, Any]]] = {
    "applied": ("accept", {}),
    "accepted": ("assign", {"mediators": ["王调解"], "selection": "designated"}),
    "assigned": ("inform", {}),
    "informed": ("terminate", {"reason": "双方分歧过大", "other_routes": "可向人民法院起诉"}),
    "terminated": ("archive", {}),
}
FINAL = "archived"
TRIGGERS = ["open", *(t for t, _ in NEXT.values())]
INTAKE = {
    "organisation": "城关",
    "dispute_type": "neighbourhood",
    "channel": "walk_in",
    "title": "邻里通道堆放杂物纠纷",
    "parties": [
        {"role": "applicant", "name": "张三", "id_number": "11010519491231002X"},
        {"role": "respondent", "name": "李四", "phone": "13812345678"},
    ],
}

_P = proceeding_table
_E = event_table
STATE = select(_P.c.state, _P.c.version).where(_P.c.id == bindparam("pid"))


def check_path() -> None:
    """The path's premise, checked against the flow as declared: each trigger leads to the
    next state, and none is allowed again in any later state (else a stale trigger could
    fire twice instead of conflicting, and the event counts would prove nothing)."""
    flow = load("peoples")
    states = [*NEXT, FINAL]
    for i, (state, (trigger, _)) in enumerate(NEXT.items()):
        t = flow.transition(trigger, state)
        assert t is not None and t.dest == states[i + 1], (state, trigger)
        assert all(flow.transition(trigger, later) is None for later in states[i + 1 :]), trigger


# -- one schema per run ---------------------------------------------------------------------


def schema_url(server: str, schema: str) -> str:
    url = make_url(resolve_url(server))
    query = {"options": f"-csearch_path={schema}", "application_name": schema}
    return url.update_query_dict(query).render_as_string(hide_password=False)


def setup(url: str, n: int) -> list[int]:
    """Migrate the schema and open ``n`` cases (one transaction each, like `case open`)."""
    store = Store(url)
    try:
        store.upgrade()
        for code, name, level, parent in (
            ("青山", "青山县人民调解委员会", "county", None),
            ("城关", "城关镇人民调解委员会", "township", "青山"),
        ):
            add_organisation(store, code=code, name=name, level=level, parent=parent, now=NOW)
        record = intake.validate(INTAKE)
        return [
            cases.open_case(store, record, actor="登记员", now=NOW).proceeding_id for _ in range(n)
        ]
    finally:
        store.close()


# -- workers --------------------------------------------------------------------------------


@dataclass
class WorkerResult:
    advanced: int = 0
    conflicts: int = 0
    reads: int = 0
    ended: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None
    profile: str = ""


def _backend_cpu(backend: int) -> float | None:
    """CPU seconds used so far by a local PostgreSQL backend (None if not on this host)."""
    try:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(
    url: str, ids: list[int], seed: int, done: Any, ready: Any, go: Any, results: Any, profile: bool
) -> None:
    store = Store(url)
    store.calendar()  # connect and warm up before the start signal
    with store.read() as conn:
        conn.execute(STATE, {"pid": ids[0]}).one()
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    rng = random.Random(seed)
    order = list(range(len(ids)))
    result = WorkerResult()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    ready.put(os.getpid())
    go.wait()
    cpu0, server0 = time.process_time(), _backend_cpu(backend)
    if profiler:
        profiler.enable()
    while order:
        rng.shuffle(order)
        left = []
        for i in order:
            if done[i]:
                continue
            pid = ids[i]
            with store.read() as conn:
                state, version = conn.execute(STATE, {"pid": pid}).one()
            result.reads += 1
            if state == FINAL:
                done[i] = 1
                continue
            trigger, payload = NEXT[state]
            try:
                cases.advance(
                    store,
                    pid,
                    trigger,
                    actor=f"调解员{seed}",
                    now=NOW,
                    payload=payload,
                    expect_version=version,
                )
            except ConflictError:
                result.conflicts += 1
                left.append(i)
                continue
            result.advanced += 1
            if trigger == "archive":
                done[i] = 1
            else:
                left.append(i)
        order = left
    result.ended = time.monotonic()
    if profiler:
        profiler.disable()
    result.client_cpu = time.process_time() - cpu0
    server1 = _backend_cpu(backend)
    if server0 is not None and server1 is not None:
        result.server_cpu = server1 - server0
    if profiler:
        import io
        import pstats

        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf).sort_stats("cumulative")
        stats.print_stats(r"mediation/(audit|cases|store|_sql)\.py", 12)
        result.profile = buf.getvalue()
    store.close()
    results.put(result)


class WaitSampler(threading.Thread):
    """What the bench's PostgreSQL backends are doing, sampled every few milliseconds
    (pg_stat_activity): running, waiting for a lock (on which statement), flushing WAL
    at commit, or idle in a transaction while the Python process works."""

    def __init__(self, server: str, app: str) -> None:
        super().__init__(daemon=True)
        self.server, self.app = server, app
        self.tally: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        url = make_url(resolve_url(self.server)).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            while not self.stop.wait(0.005):
                for row in conn.execute(
                    "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    (self.app,),
                ):
                    self.tally[_classify(*row)] += 1

    def shares(self) -> list[tuple[str, float]]:
        total = sum(self.tally.values()) or 1
        return [(k, v / total) for k, v in self.tally.most_common()]


def _classify(state: str, wait_type: str | None, wait: str | None, query: str) -> str:
    first = " ".join(query.split()[:4])[:48]
    if state == "idle":
        return "idle between transactions (Python)"
    if state == "idle in transaction":
        return "in a transaction, waiting for Python"
    if wait_type == "Lock":
        table = "audit_head" if "audit_head" in query else first
        return f"waiting for a lock: {table}"
    if wait_type == "IO" and wait and wait.startswith("WAL"):
        return f"commit: {wait}"
    if wait_type:
        return f"{wait_type}/{wait}: {first}"
    return "running in PostgreSQL"


@dataclass
class Run:
    workers: int
    seconds: float
    advanced: int
    conflicts: int
    reads: int
    client_cpu: float
    server_cpu: float | None
    profile: str
    waits: list[tuple[str, float]]

    @property
    def rate(self) -> float:
        return self.advanced / self.seconds


def run(url: str, ids: list[int], workers: int, profile: bool, sampler: WaitSampler | None) -> Run:
    ctx = mp.get_context("spawn")
    done = ctx.Array("b", len(ids), lock=False)
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=worker, args=(url, ids, 1000 + w, done, ready, go, results, profile and w == 0)
        )
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    if sampler:
        sampler.start()
    start = time.monotonic()
    go.set()
    got: list[WorkerResult] = [results.get(timeout=3600) for _ in procs]
    if sampler:
        sampler.stop.set()
        sampler.join()
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"a worker failed (exit code {p.exitcode})")
    server = [r.server_cpu for r in got]
    return Run(
        workers=workers,
        seconds=max(r.ended for r in got) - start,
        advanced=sum(r.advanced for r in got),
        conflicts=sum(r.conflicts for r in got),
        reads=sum(r.reads for r in got),
        client_cpu=sum(r.client_cpu for r in got),
        server_cpu=None if None in server else sum(s or 0.0 for s in server),
        profile=next((r.profile for r in got if r.profile), ""),
        waits=sampler.shares() if sampler else [],
    )


# -- checks ---------------------------------------------------------------------------------


def check(url: str, ids: list[int]) -> list[str]:
    """Every case archived at version 6 with events 1-6 along the path, chains intact."""
    problems: list[str] = []
    expected_version = len(TRIGGERS)
    store = Store(url)
    try:
        with store.read() as conn:
            cases_ = {
                r.id: (r.state, r.version)
                for r in conn.execute(select(_P.c.id, _P.c.state, _P.c.version))
            }
            events: dict[int, list[Any]] = {}
            for e in conn.execute(
                select(
                    _E.c.proceeding_id, _E.c.seq, _E.c.trigger, _E.c.from_state, _E.c.to_state
                ).order_by(_E.c.proceeding_id, _E.c.seq)
            ):
                events.setdefault(e.proceeding_id, []).append(e)
            total = conn.execute(select(func.count()).select_from(_E)).scalar_one()
            before = audit.verify(conn)
        # Entries a writer left pending (another was sealing) join the chain at the next
        # seal: do it, and the whole history must then be in the database-wide chain.
        store.seal_pending()
        with store.snapshot() as conn:
            report = audit.verify(conn)
    finally:
        store.close()
    print(f"  audit: {before.pending} entries pending when the workers ended, sealed after")
    if not before.ok:
        problems.extend(str(p) for p in before.problems[:10])
    if report.pending or report.head_seq != total:
        problems.append(f"after sealing: {report.pending} pending, head at {report.head_seq}")
    for pid in ids:
        state, version = cases_[pid]
        evs = events.get(pid, [])
        if state != FINAL or version != expected_version:
            problems.append(f"case {pid}: {state} at version {version}")
        if [e.seq for e in evs] != list(range(1, expected_version + 1)):
            problems.append(f"case {pid}: event numbers {[e.seq for e in evs]}")
        if [e.trigger for e in evs] != TRIGGERS:
            problems.append(f"case {pid}: triggers {[e.trigger for e in evs]}")
        if any(a.to_state != b.from_state for a, b in pairwise(evs)):
            problems.append(f"case {pid}: an event does not start where the previous ended")
    if total != len(ids) * expected_version:
        problems.append(f"{total} events, expected {len(ids) * expected_version}")
    if not report.ok:
        problems.extend(str(p) for p in report.problems[:10])
    return problems


# -- main -----------------------------------------------------------------------------------


def report(r: Run, problems: list[str]) -> None:
    print(
        f"workers={r.workers} cases={r.advanced // len(NEXT)} transitions={r.advanced} "
        f"seconds={r.seconds:.2f} transitions_per_s={r.rate:.1f} conflicts={r.conflicts} "
        f"reads={r.reads} lost_updates={'none' if not problems else len(problems)}"
    )
    cpu = f"client_cpu_ms_per_transition={1000 * r.client_cpu / r.advanced:.2f}"
    if r.server_cpu is not None:
        cpu += f" server_cpu_ms_per_transition={1000 * r.server_cpu / r.advanced:.2f}"
        # CPU seconds used per second of the run: how many of the machine's cores it kept busy.
        cpu += f" cores_busy={(r.client_cpu + r.server_cpu) / r.seconds:.2f}/{os.cpu_count()}"
    print(f"  {cpu}")
    for p in problems[:20]:
        print(f"  FAIL {p}")
    if r.waits:
        print("  where the PostgreSQL backends' time went (sampled):")
        for what, share in r.waits[:8]:
            print(f"    {100 * share:5.1f}%  {what}")
    if r.profile:
        print(f"  profile of one worker:\n{r.profile}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="pairs of runs (medians are used)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile one worker and sample the backends' wait events (adds load)",
    )
    args = parser.parse_args()
    check_path()
    server = os.environ.get("MEDIATION_BENCH_PG", DEFAULT_PG)
    admin = create_engine(resolve_url(server), isolation_level="AUTOCOMMIT")
    tag = uuid.uuid4().hex[:8]
    runs: dict[int, list[Run]] = {1: [], args.workers: []}
    failed = False
    print(f"cpus={os.cpu_count()} load_average={os.getloadavg()[0]:.2f}")
    try:
        for i in range(args.rounds):
            # Alternate the order, so a machine getting busier or quieter favours neither.
            for workers in (1, args.workers) if i % 2 == 0 else (args.workers, 1):
                schema = f"bench_concurrency_{tag}_{i}_{workers}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    url = schema_url(server, schema)
                    ids = setup(url, args.cases)
                    sampler = WaitSampler(server, schema) if args.profile else None
                    result = run(url, ids, workers, args.profile, sampler)
                    problems = check(url, ids)
                finally:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                report(result, problems)
                runs[workers].append(result)
                failed = failed or bool(problems)
    finally:
        admin.dispose()
    one = statistics.median(r.rate for r in runs[1])
    many = statistics.median(r.rate for r in runs[args.workers])
    print(f"load_average={os.getloadavg()[0]:.2f}")
    print(f"median transitions_per_s: 1 process {one:.1f}, {args.workers} processes {many:.1f}")
    cpu = [(r.client_cpu + (r.server_cpu or 0.0)) / r.advanced for r in runs[1] if r.server_cpu]
    if cpu:
        # Were the cores ours alone, and nobody ever waited: N processes on C cores do at
        # most min(N, C) / (CPU per transition, client + server) transitions a second.
        cores = min(args.workers, os.cpu_count() or 1)
        print(f"cpu_bound_ceiling_ratio={cores / statistics.median(cpu) / one:.2f}")
    busy = [(r.client_cpu + (r.server_cpu or 0.0)) / r.seconds for r in runs[args.workers]]
    if all(r.server_cpu is not None for r in runs[args.workers]):
        print(f"cores_busy_{args.workers}_processes={statistics.median(busy):.2f}/{os.cpu_count()}")
    ratio = many / one
    print(f"target>=3 {'ok' if ratio >= 3 else 'FAIL'}")
    print(f"ratio={ratio:.3f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
