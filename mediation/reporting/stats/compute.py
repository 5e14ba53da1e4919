"""Running a report: its statements side by side, in parts, and the rows added up into
a :class:`~mediation.reporting.stats.tally.StatsReport` (:func:`compute`)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, func, select

from mediation.reporting.stats import official, queries
from mediation.reporting.stats.figures import PERFORMANCE, SATISFACTION, key_label, order_keys
from mediation.reporting.stats.selection import Count, Query, Selection, Sql, organisations_under
from mediation.reporting.stats.tally import Durations, StatsReport, Tally, chart_data, fill
from mediation.storage._tables import proceeding_table
from mediation.storage.store import Store


def part_count() -> int:
    """How many parts to split the work into: one per core, at most four."""
    return max(1, min(os.cpu_count() or 1, 4))


#: Below this many proceedings (by id) a report runs its statements one after another, in
#: this process: forking processes (SQLite) or opening connections (PostgreSQL) costs more
#: than a few thousand cases take to count.
PARALLEL_FROM = 5_000


def _id_ranges(conn: Connection, parts: int) -> list[tuple[int, int] | None]:
    lo, hi = conn.execute(
        select(func.min(proceeding_table.c.id), func.max(proceeding_table.c.id))
    ).one()
    if lo is None or parts == 1 or hi - lo + 1 < PARALLEL_FROM:
        return [None]
    step = (hi - lo) // parts + 1
    return [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]


def _run(
    store: Store, statements: list[Any], *, side_by_side: bool = True
) -> list[list[dict[str, Any]]]:
    """Run the statements side by side (unless not ``side_by_side``: one after another),
    each in a read transaction of its own connection.

    They start together, so they read the database as of (nearly) the same moment. On
    PostgreSQL the server does the work, so threads suffice. On SQLite the work is in this
    process, and the driver lets go of the GIL for each row and takes it back: two threads
    reading rows hand the GIL to and fro at every row and, measured, take longer than one
    thread alone. So the parts run in forked processes, one per core, where there is
    ``fork`` and no other thread; else one after another.
    """
    if not side_by_side:
        return [_run_one(store, s) for s in statements]
    if len(statements) == 1:
        return [_run_one(store, statements[0])]
    if store.dialect != "sqlite":
        with ThreadPoolExecutor(max_workers=part_count()) as pool:
            return list(pool.map(lambda s: _run_one(store, s), statements))
    # Forking a process that runs other threads may copy a lock one of them holds.
    alone = threading.active_count() == 1
    if not alone or "fork" not in multiprocessing.get_all_start_methods() or part_count() == 1:
        return [_run_one(store, s) for s in statements]
    global _FORKED
    _FORKED = (store.url, statements)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=part_count(), mp_context=context) as pool:
            return list(pool.map(_run_forked, range(len(statements))))
    finally:
        _FORKED = None


#: What the forked processes of :func:`_run` run: the database and the statements, which
#: they inherit rather than receive (a statement does not pickle).
_FORKED: tuple[str, list[Any]] | None = None
#: The store of a forked process, opened on its first statement.
_FORKED_STORE: Store | None = None


def _run_forked(index: int) -> list[dict[str, Any]]:
    """In a process forked by :func:`_run`: statement ``index``, on a connection of its
    own (never one inherited from the parent)."""
    global _FORKED_STORE
    assert _FORKED is not None
    url, statements = _FORKED
    if _FORKED_STORE is None:
        _FORKED_STORE = Store(url)
    return _run_one(_FORKED_STORE, statements[index])


def _run_one(store: Store, statement: Any) -> list[dict[str, Any]]:
    """One statement (or :class:`Count`) in a read transaction of its own connection."""
    sqlite = store.dialect == "sqlite"
    with store.engine.connect() as conn:
        if sqlite:
            # A GROUP BY that sorts keeps its sort in memory rather than in a temporary
            # file.
            conn.connection.driver_connection.execute("PRAGMA temp_store = MEMORY")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if isinstance(statement, Count):
                    if sqlite:
                        return _stream_count(conn, statement.streamed())
                    statement = statement.grouped()
                return [dict(r._mapping) for r in conn.execute(statement)]
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA temp_store = DEFAULT")  # type: ignore[union-attr]


def _stream_count(conn: Connection, statement: Any) -> list[dict[str, Any]]:
    """:class:`Count` on SQLite: the driver's plain tuples, counted as they come."""
    result = conn.execute(statement)
    names = list(result.keys())
    cursor = result.cursor
    counts: Counter[tuple[Any, ...]] = Counter()
    while rows := cursor.fetchmany(20_000):
        counts.update(rows)
    result.close()
    return [{**dict(zip(names, key, strict=True)), "n": n} for key, n in counts.items()]


def compute(store: Store, sel: Selection) -> StatsReport:
    """Every figure of :data:`FIGURES`, for each group of ``sel.by`` and for all cases.

    :raises NotFoundError: for an unknown ``sel.org``.
    """
    cal = store.calendar()
    by = sel.by
    parts = part_count()
    with store.read() as conn:
        org_ids, org_name = organisations_under(conn, sel.org)
        ranges = _id_ranges(conn, parts)
        sql = Sql(conn.dialect.name, sel)
    whole = Query(sel, sql, org_ids)
    # A mediator has few cases a month: grouping by mediator and month would return
    # nearly a row per case, so the charts then get their own, ungrouped, pass.
    apart = by == "mediator"
    # The costliest query (it parses facts) is split into ranges of case ids; the others
    # walk covering indexes in their own order, where a range of ids saves nothing.
    parted = [Query(sel, sql, org_ids, ids=r) for r in ranges]
    tasks: list[tuple[str, Any]]
    if sql.pg:
        tasks = [("after", queries.after_agreement(q, by)) for q in parted]
        tasks.append(("volume", queries.volume(whole)))
    else:
        tasks = [("pass", queries.table_pass(q, by)) for q in parted]
    # Costliest first, so that the parts end together.
    tasks += [
        *(("clocks", queries.clocks(q, by, not apart)) for q in parted),
        ("repeats", queries.repeats(whole, by)),
        ("cases", queries.cases(whole, by)),
    ]
    if apart:
        tasks.append(("chart_clocks", queries.clocks(whole, None, True)))
    tasks.append(("court", queries.court_confirmations(whole, by)))
    tasks += [
        ("official", official.concluded(whole, by)),
        ("prevention", official.preventions(whole, by)),
        ("sweeps", official.sweeps(whole)),
    ]
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    statements = [t for _, t in tasks]
    run = _run(store, statements, side_by_side=len(ranges) > 1)
    for (name, _), rows in zip(tasks, run, strict=True):
        found[name] += rows
    if not sql.pg:
        found["volume"], found["after"] = queries.split_pass(found["pass"])
    durations = Durations(cal, sel)
    tallies: dict[str, Tally] = defaultdict(Tally)
    fill(tallies, found["cases"], found["clocks"], durations)
    for r in found["after"]:
        t = tallies[r.get("k", "") if by else ""]
        t.followed_up += r["followed_up"]
        for code in PERFORMANCE:
            t.performance[code] += r[code]
        for code in SATISFACTION:
            t.satisfaction[code] += r[code]
        for fact, outcome in (
            ("applied", "applied"),
            ("granted", "confirmed"),
            ("denied", "dismissed"),
        ):
            t.confirmation[outcome] += r[fact]
    for r in found["court"]:
        t = tallies[r.get("k", "")]
        state = r["state"]
        t.confirmation["applied"] += r["n"]
        outcome = state if state in ("confirmed", "dismissed", "not_accepted") else "pending"
        t.confirmation[outcome] += r["n"]
    for r in found["repeats"]:
        tallies[r.get("k", "")].repeats += r["n"]
    ungrouped = Tally()
    official.add_up(tallies, ungrouped, found, whole, by)
    total = Tally()
    for t in (*tallies.values(), ungrouped):
        total.add(t)
    groups = (
        [(k, key_label(by, k), tallies[k].figures()) for k in order_keys(by, tallies)] if by else []
    )
    if by is not None and by not in official.SWEEP_DIMENSIONS:
        for _, _, figures in groups:  # a sweep has no dispute type or channel
            figures.update(sweeps_held=None, sweep_found=None, sweep_opened=None)
    charts = chart_data(
        found["cases"],
        found["volume"],
        found["chart_clocks"] if apart else found["clocks"],
        durations,
    )
    return StatsReport(sel, org_name, groups, total.figures(), charts)
