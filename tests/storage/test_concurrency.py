"""Two processes advancing the same case at the same moment, on SQLite and PostgreSQL.

Acceptance: exactly one succeeds, the other gets a clear conflict message (exit code
``ExitCode.CONFLICT``), and no update is lost.

The race is made deterministic rather than left to timing luck: the test process takes the
write lock the engine needs (``BEGIN IMMEDIATE`` on the SQLite file; the proceeding row
``FOR UPDATE`` on PostgreSQL) and holds it while two real ``mediation case advance``
processes start. Each reads the case's version (reads are not blocked), then blocks on the
write lock. Only once both are seen blocked — PostgreSQL: two backends of the processes
waiting on a lock in ``pg_stat_activity``; SQLite: both processes sleeping in SQLite's busy
handler, seen through ``/proc`` — is the lock released, so both have read the same version
before either writes.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from mediation.domain import intake
from mediation.engine import cases
from mediation.engine.machine import load
from mediation.errors import ExitCode
from mediation.storage.models import Deadline, Event, Proceeding
from mediation.storage.store import Store
from tests.conftest import T0, add_users, intake_record

#: The moment both processes act (MEDIATION_NOW); shown back in the conflict message.
NOW = "2026-03-03T10:00:00+08:00"
NOW_SHOWN = "2026-03-03 10:00:00"

#: How long to wait for both processes to block on the lock (SQLite gives up after 30 s).
BLOCK_TIMEOUT = 20.0
#: How long the processes may take to finish once the lock is released.
FINISH_TIMEOUT = 60.0
#: Without /proc to look at (not Linux), how long to let the processes reach the lock.
FALLBACK_WAIT = 4.0

#: nanosleep and clock_nanosleep: SQLite's busy handler sleeps in one of these.
_SLEEP_SYSCALLS = {"x86_64": {"35", "230"}, "aarch64": {"101", "115"}}

_PEOPLES = load("peoples").flow

_P = Proceeding.__table__
_E = Event.__table__
_D = Deadline.__table__

#: Library steps that bring a freshly opened case to a state.
_TO_STATE: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "applied": [],
    "mediating": [
        ("accept", {}),
        ("assign", {"mediators": ["王调解"], "selection": "designated"}),
        ("inform", {}),
        ("record_session", {"kind": "investigation", "summary": "走访双方，了解通道情况。"}),
    ],
}


@dataclass
class Command:
    """One ``mediation case advance`` invocation."""

    actor: str
    trigger: str
    data: dict[str, str]


@dataclass
class Run:
    """What one process did."""

    command: Command
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Snapshot:
    """The stored state of one case."""

    state: str
    version: int
    outcome: str | None
    facts: dict[str, Any]
    events: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]


def _case_in(store: Store, state: str) -> cases.Opened:
    """A case opened and advanced to ``state`` with the library; userA and userB, the
    mediators who then race (the runner, an admin, acts for them: ``--as``)."""
    add_users(store, "userA", "userB")
    opened = cases.open_case(store, intake.validate(intake_record()), actor="登记员", now=T0)
    for trigger, payload in _TO_STATE[state]:
        cases.advance(store, opened.proceeding_id, trigger, actor="登记员", now=T0, payload=payload)
    return opened


def _snapshot(store: Store, pid: int) -> Snapshot:
    with store.read() as conn:
        p = conn.execute(select(_P).where(_P.c.id == pid)).one()
        events = [
            dict(r._mapping)
            for r in conn.execute(select(_E).where(_E.c.proceeding_id == pid).order_by(_E.c.seq))
        ]
        deadlines = [
            dict(r._mapping)
            for r in conn.execute(select(_D).where(_D.c.proceeding_id == pid).order_by(_D.c.id))
        ]
    return Snapshot(p.state, p.version, p.outcome, p.facts, events, deadlines)


# -- holding the write lock -----------------------------------------------------------


@contextmanager
def _write_lock(db_url: str, pid: int) -> Iterator[None]:
    """Hold the lock ``advance`` needs to write case ``pid`` until the block exits."""
    if db_url.startswith("sqlite"):
        raw = sqlite3.connect(make_url(db_url).database, isolation_level=None, timeout=30)
        try:
            raw.execute("BEGIN IMMEDIATE")
            yield
            raw.execute("ROLLBACK")
        finally:
            raw.close()
        return
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            locked = conn.execute(
                text("SELECT id FROM proceeding WHERE id = :id FOR UPDATE"), {"id": pid}
            ).scalar_one()
            assert locked == pid
            yield
            conn.rollback()
    finally:
        engine.dispose()


def _sleeping(pid: int) -> bool | None:
    """Whether process ``pid`` sleeps in nanosleep; None when /proc cannot tell.

    A ``mediation case advance`` process sleeps only in SQLite's busy handler, i.e. while
    its ``BEGIN IMMEDIATE`` waits for the lock — after it has read the case's version.
    ``/proc/PID/syscall`` reads "running" or the number of the system call it waits in.
    """
    calls = _SLEEP_SYSCALLS.get(platform.machine())
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return None
    if not calls or not fields:
        return None
    return fields[0] in calls


def _describe(procs: Sequence[subprocess.Popen[str]]) -> str:
    lines = []
    for proc in procs:
        if proc.poll() is None:
            lines.append(f"pid {proc.pid}: still running")
        else:
            out, err = proc.communicate()
            lines.append(f"pid {proc.pid}: exit {proc.returncode}\n{out}{err}")
    return "\n".join(lines)


def _wait_blocked_sqlite(procs: Sequence[subprocess.Popen[str]]) -> None:
    """Until every process sleeps in SQLite's busy handler (twice in a row)."""
    deadline = time.monotonic() + BLOCK_TIMEOUT
    streak = 0
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            pytest.fail("a process ended while the lock was held:\n" + _describe(procs))
        seen = [_sleeping(p.pid) for p in procs]
        if None in seen:  # no /proc to look at: give them time to reach the lock
            time.sleep(FALLBACK_WAIT)
            if any(p.poll() is not None for p in procs):
                pytest.fail("a process ended while the lock was held:\n" + _describe(procs))
            return
        streak = streak + 1 if all(seen) else 0
        if streak >= 2:
            return
        time.sleep(0.05)
    pytest.fail(f"processes did not block on the lock in {BLOCK_TIMEOUT} s:\n{_describe(procs)}")


def _wait_blocked_pg(db_url: str, app_name: str, procs: Sequence[subprocess.Popen[str]]) -> None:
    """Until every process has a backend waiting on a lock (the row lock ``advance`` takes)."""
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    # A separate autocommit connection: pg_stat_activity is read once per transaction.
    query = text(
        "SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity"
        " WHERE application_name = :app ORDER BY pid"
    )
    backends: list[Any] = []
    try:
        with engine.connect() as conn:
            deadline = time.monotonic() + BLOCK_TIMEOUT
            while time.monotonic() < deadline:
                if any(p.poll() is not None for p in procs):
                    pytest.fail("a process ended while the lock was held:\n" + _describe(procs))
                backends = list(conn.execute(query, {"app": app_name}))
                if sum(b.wait_event_type == "Lock" for b in backends) == len(procs):
                    return
                time.sleep(0.05)
    finally:
        engine.dispose()
    seen = "\n".join(str(tuple(b)) for b in backends)
    pytest.fail(
        f"processes did not block on the lock in {BLOCK_TIMEOUT} s:\n{_describe(procs)}\n"
        f"their backends:\n{seen}"
    )


# -- the race ---------------------------------------------------------------------------


def _race(db_url: str, pid: int, commands: Sequence[Command]) -> list[Run]:
    """Run ``commands`` as processes that all read case ``pid`` before any of them writes."""
    app_name = f"mediation-race-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIATION_")}
    env.update(MEDIATION_NOW=NOW, PGAPPNAME=app_name, PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen[str]] = []
    try:
        with _write_lock(db_url, pid):
            for c in commands:
                argv = [sys.executable, "-m", "mediation.cli", "--db", db_url, "--as", c.actor]
                argv += ["case", "advance", str(pid), c.trigger]
                for key, value in c.data.items():
                    argv += ["--set", f"{key}={value}"]
                procs.append(
                    subprocess.Popen(
                        argv, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                    )
                )
            if db_url.startswith("sqlite"):
                _wait_blocked_sqlite(procs)
            else:
                _wait_blocked_pg(db_url, app_name, procs)
        runs = []
        for c, proc in zip(commands, procs, strict=True):
            out, err = proc.communicate(timeout=FINISH_TIMEOUT)
            runs.append(Run(c, proc.returncode, out, err))
        return runs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def _one_winner(runs: list[Run]) -> tuple[Run, Run]:
    codes = sorted(r.returncode for r in runs)
    detail = "\n".join(f"{r.command}: exit {r.returncode}\n{r.stdout}{r.stderr}" for r in runs)
    assert codes == [ExitCode.OK, ExitCode.CONFLICT], detail
    winner = next(r for r in runs if r.returncode == ExitCode.OK)
    loser = next(r for r in runs if r.returncode == ExitCode.CONFLICT)
    return winner, loser


def _assert_conflict_message(loser: Run, winner: Run, case_number: str, state: str) -> None:
    """The loser was told it lost a race: case, current state, who changed it and when."""
    assert loser.stdout == ""
    err = loser.stderr
    assert err.startswith("错误：冲突："), err
    assert case_number in err, err
    assert f"现为「{_PEOPLES.state_label(state)}」" in err, err
    assert f"{winner.command.actor} 于 {NOW_SHOWN} 执行了 {winner.command.trigger}" in err, err
    assert f"{loser.command.trigger} 不再可用" in err, err
    assert "mediation case show" in err, err


def _assert_history_intact(after: Snapshot, before: Snapshot, added: int) -> None:
    """``added`` events appended after the old ones; seq 1..version with no gap or repeat."""
    assert after.version == before.version + added
    assert [e["seq"] for e in after.events] == list(range(1, after.version + 1))
    assert after.events[: len(before.events)] == before.events


# -- tests ------------------------------------------------------------------------------


def test_same_trigger_at_once_one_wins_other_conflicts(db_url: str, store: Store) -> None:
    opened = _case_in(store, "applied")
    pid = opened.proceeding_id
    before = _snapshot(store, pid)
    assert before.state == "applied"
    assert before.deadlines == []
    store.close()  # the fixture's store holds no connection while the processes run

    runs = _race(db_url, pid, [Command("userA", "accept", {}), Command("userB", "accept", {})])

    winner, loser = _one_winner(runs)
    assert f"{opened.case_number}：受理（accept） applied → 已受理（accepted）" in winner.stdout
    _assert_conflict_message(loser, winner, opened.case_number, "accepted")

    after = _snapshot(store, pid)
    assert after.state == "accepted"
    _assert_history_intact(after, before, added=1)
    accepted = [e for e in after.events if e["trigger"] == "accept"]
    assert len(accepted) == 1
    assert accepted[0]["actor"] == winner.command.actor
    assert (accepted[0]["from_state"], accepted[0]["to_state"]) == ("applied", "accepted")
    # The one-month clock was started once, not twice.
    assert [(d["kind"], d["status"]) for d in after.deadlines] == [("mediation_period", "open")]


def test_exclusive_triggers_at_once_one_wins_other_conflicts(db_url: str, store: Store) -> None:
    opened = _case_in(store, "mediating")
    pid = opened.proceeding_id
    before = _snapshot(store, pid)
    assert before.state == "mediating"
    store.close()

    terminate = Command(
        "userA", "terminate", {"reason": "双方分歧过大", "other_routes": "可向人民法院起诉"}
    )
    withdraw = Command("userB", "withdraw", {"party": "张三", "reason": "双方已自行和解"})
    runs = _race(db_url, pid, [terminate, withdraw])

    winner, loser = _one_winner(runs)
    dest = {"terminate": "terminated", "withdraw": "withdrawn"}[winner.command.trigger]
    _assert_conflict_message(loser, winner, opened.case_number, dest)

    after = _snapshot(store, pid)
    assert after.state == dest
    assert after.outcome == dest
    _assert_history_intact(after, before, added=1)
    last = after.events[-1]
    assert (last["trigger"], last["actor"]) == (winner.command.trigger, winner.command.actor)
    assert (last["from_state"], last["to_state"]) == ("mediating", dest)
    # ... and the case's clocks as the step left them (mediation.storage.record_rows)
    assert {k: v for k, v in last["payload"].items() if k != "clocks_sha256"} == (
        winner.command.data
    )
    assert after.facts[winner.command.trigger] == winner.command.data
    assert loser.command.trigger not in after.facts
    assert not any(e["trigger"] == loser.command.trigger for e in after.events)
    clocks = [d for d in after.deadlines if d["kind"] == "mediation_period"]
    assert len(clocks) == 1 and clocks[0]["status"] != "open"  # stopped once, by the winner


def test_two_sessions_at_once_both_recorded(db_url: str, store: Store) -> None:
    opened = _case_in(store, "mediating")
    pid = opened.proceeding_id
    before = _snapshot(store, pid)
    store.close()

    first = Command("userA", "record_session", {"kind": "mediation", "summary": "第二次调解"})
    second = Command("userB", "record_session", {"kind": "investigation", "summary": "现场查看"})
    runs = _race(db_url, pid, [first, second])

    detail = "\n".join(f"{r.command}: exit {r.returncode}\n{r.stdout}{r.stderr}" for r in runs)
    assert [r.returncode for r in runs] == [ExitCode.OK, ExitCode.OK], detail
    for r in runs:
        assert "（record_session） mediating → " in r.stdout

    after = _snapshot(store, pid)
    assert after.state == "mediating"
    _assert_history_intact(after, before, added=2)
    new = after.events[len(before.events) :]
    assert [e["seq"] for e in new] == [before.version + 1, before.version + 2]
    assert all(e["trigger"] == "record_session" for e in new)
    assert all((e["from_state"], e["to_state"]) == ("mediating", "mediating") for e in new)
    by_actor = {e["actor"]: e["payload"] for e in new}
    assert by_actor == {"userA": first.data, "userB": second.data}
