"""A process killed, or its PostgreSQL connection cut, in the middle of a write (issue 6
point 4), on SQLite and PostgreSQL.

Each test runs the real ``mediation`` command (or, for the library, ``cases.advance``) in a
child Python process. To stop it at a known point rather than by timing luck, the child
wraps one library function — in the child only: nothing is replaced in this process — so
that on the call that matters it reports where it is (its pid, its PostgreSQL backend, the
events its transaction sees so far) in a small file, and waits. The points:

- ``_start_deadlines``, in the middle of a transition: the state is changed, the event
  written and the old clock stopped, the new clock not yet started;
- ``before_commit``, after it ran: everything is written (on SQLite also sealed into the
  audit head), only the COMMIT is left;
- ``open_in``, halfway through a bulk import: before the 151st of 300 rows (150 cases
  written). (All or nothing over 1,000 rows is test_intake_import's; what matters here is
  the kill in the middle of the one transaction.)

This process first checks that the child really holds an open write transaction (SQLite:
its write lock; PostgreSQL: a backend idle in a transaction that has a transaction id),
then SIGKILLs it — or, on PostgreSQL, terminates its backend (``pg_terminate_backend``) and
lets it carry on into the dead connection: the CLI must then exit with a message and a
hint, no traceback; the library must raise a ``MediationError``, and the same ``Store``
must go on working. Afterwards the database holds exactly what it held before (every row of
every table the write touches, the audit head included), ``audit.verify`` passes, SQLite's
``PRAGMA integrity_check`` says ok, and the same write, done again, succeeds once.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from mediation.domain import intake
from mediation.domain.personal import check_digit
from mediation.engine import cases
from mediation.engine.imports import ROW_FIELDS, import_file
from mediation.errors import ExitCode
from mediation.storage import audit
from mediation.storage._tables import (
    deadline_table,
    dispute_table,
    event_table,
)
from mediation.storage.store import Store
from tests.conftest import T0, intake_record, snapshot

NOW = "2026-03-04T10:00:00+08:00"
#: How long the child may take to reach its hook (imports, migrations check, 150 rows).
REACH_TIMEOUT = 60.0

#: The child: wrap ``spec["hook"]`` so that its ``spec["call"]``-th call reports and waits,
#: then run the CLI (``spec["argv"]``) or the library (``spec["library"]``).
CHILD = r"""
import importlib, json, os, sys, time
from pathlib import Path

spec = json.loads(sys.argv[1])
module_name, name = spec["hook"].split(":")
module = importlib.import_module(module_name)
real = getattr(module, name)
calls = 0


def arrived(conn):
    outside = not conn.in_transaction()  # after a commit: these reads must not leave one
    backend = None
    if conn.dialect.name == "postgresql":
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    # The events this transaction sees: those committed before, and its own so far.
    events = conn.exec_driver_sql("SELECT count(*) FROM event").scalar()
    if outside:
        conn.rollback()
    report = {"pid": os.getpid(), "backend": backend, "events": events}
    Path(spec["flag"] + ".tmp").write_text(json.dumps(report))
    os.replace(spec["flag"] + ".tmp", spec["flag"])  # appears whole
    if spec["then"] == "sleep":  # until SIGKILLed
        time.sleep(600)
        sys.exit("not killed")
    while not os.path.exists(spec["flag"] + ".go"):  # until the parent cut the connection
        time.sleep(0.02)


def hooked(conn, *args, **kwargs):
    global calls
    calls += 1
    if calls == spec["call"] and not spec["after"]:
        arrived(conn)
    result = real(conn, *args, **kwargs)
    if calls == spec["call"] and spec["after"]:
        arrived(conn)
    return result


setattr(module, name, hooked)

if "library" in spec:
    from datetime import datetime
    from mediation.engine import cases
    from mediation.errors import MediationError
    from mediation.storage.store import Store

    lib = spec["library"]
    now = datetime.fromisoformat(os.environ["MEDIATION_NOW"])
    store = Store(spec["db"])
    outcome = {}
    try:
        cases.advance(store, lib["case"], lib["trigger"], actor="child", now=now,
                      payload=lib["payload"])
        outcome["first"] = {"raised": None}
    except Exception as exc:
        outcome["first"] = {
            "raised": type(exc).__module__ + "." + type(exc).__qualname__,
            "mediation_error": isinstance(exc, MediationError),
            "message": getattr(exc, "message", str(exc))[:300],
            "hint": getattr(exc, "hint", None),
        }
    calls = -10**9  # the hook does not fire again
    try:  # the same Store object, as a long-running process (the scheduler) would go on
        done = cases.advance(store, lib["case"], lib["trigger"], actor="child", now=now,
                             payload=lib["payload"])
        outcome["again"] = {"raised": None, "to_state": done.to_state, "seq": done.seq}
    except Exception as exc:
        outcome["again"] = {"raised": type(exc).__qualname__, "message": str(exc)[:300]}
    print(json.dumps(outcome))
else:
    from mediation.cli import main

    sys.argv = ["mediation", *spec["argv"]]
    main()
"""

#: The data of a written agreement (人民调解法 art. 29): mediating -> agreed_written stops
#: the month's clock and starts the 30 days for judicial confirmation.
AGREEMENT = {
    "facts": "被申请人在共用通道堆放杂物，影响申请人通行。",
    "issues": "共用通道的使用与杂物清理",
    "responsibility": "被申请人对通道堵塞负主要责任",
    "terms": "被申请人于2026年3月20日前清理通道内全部杂物。",
    "performance_method": "被申请人自行清理，调委会现场查看",
    "performance_place": "桥头村12号至14号之间共用通道",
    "performance_deadline": "2026-03-20",
}
_TO_MEDIATING: list[tuple[str, dict[str, Any]]] = [
    ("accept", {}),
    ("assign", {"mediators": ["周明"], "selection": "designated"}),
    ("inform", {}),
    ("record_session", {"kind": "investigation", "summary": "走访双方，查看通道。"}),
]


# -- helpers --------------------------------------------------------------------------------


def consistent(store: Store, db_url: str) -> None:
    """The hash chains verify; on SQLite the file passes its integrity check."""
    with store.read() as conn:
        report = audit.verify(conn)
    assert report.ok, [str(p) for p in report.problems]
    if db_url.startswith("sqlite"):
        path = make_url(db_url).database
        assert path is not None
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def mediating_case(store: Store) -> int:
    opened = cases.open_case(store, intake.validate(intake_record()), actor="登记员", now=T0)
    for trigger, payload in _TO_MEDIATING:
        cases.advance(store, opened.proceeding_id, trigger, actor="周明", now=T0, payload=payload)
    return opened.proceeding_id


def agree_argv(db_url: str, pid: int) -> list[str]:
    sets = [arg for key, value in AGREEMENT.items() for arg in ("--set", f"{key}={value}")]
    return ["--db", db_url, "case", "advance", str(pid), "agree_written", *sets]


@contextmanager
def child(
    spec: dict[str, Any], tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """Start the child; yield it with what it reported on reaching its hook."""
    flag = tmp_path / "arrived.json"
    spec = {"call": 1, "after": False, **spec, "flag": str(flag)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        env={**os.environ, "MEDIATION_NOW": NOW},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + REACH_TIMEOUT
        while not flag.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"the child ended before its hook ({proc.returncode}): {out}{err}")
            if time.monotonic() > deadline:
                pytest.fail("the child did not reach its hook in time")
            time.sleep(0.02)
        yield proc, json.loads(flag.read_text())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def mid_transaction(db_url: str, info: dict[str, Any]) -> None:
    """The paused child holds an open write transaction: on PostgreSQL its backend is idle
    in a transaction that has written (it has a transaction id); on SQLite it holds the
    write lock, so another writer cannot begin."""
    if db_url.startswith("sqlite"):
        path = make_url(db_url).database
        assert path is not None
        raw = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                raw.execute("BEGIN IMMEDIATE")
        finally:
            raw.close()
        return
    admin = create_engine(db_url)
    try:
        with admin.connect() as conn:
            row = conn.execute(
                text("SELECT state, backend_xid FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": info["backend"]},
            ).one()
    finally:
        admin.dispose()
    assert row.state == "idle in transaction" and row.backend_xid is not None, row


def kill(proc: subprocess.Popen[str], info: dict[str, Any]) -> None:
    assert info["pid"] == proc.pid
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def lock_timeout(store: Store) -> None:
    """A stuck lock fails the test instead of hanging it (PostgreSQL)."""
    if store.dialect == "postgresql":
        with store.read() as conn:
            conn.exec_driver_sql("SET lock_timeout = '20s'")


def deadlines_of(store: Store, pid: int) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.execute(
            select(deadline_table.c.kind, deadline_table.c.status).where(
                deadline_table.c.proceeding_id == pid
            )
        )
        return {r.kind: r.status for r in rows}


def agree_again(store: Store, pid: int, version: int) -> None:
    """The transition the child did not finish, done again: it works, as one new event."""
    lock_timeout(store)
    done = cases.advance(store, pid, "agree_written", actor="周明", now=T0, payload=AGREEMENT)
    assert (done.from_state, done.to_state, done.seq) == (
        "mediating",
        "agreed_written",
        version + 1,
    )
    assert deadlines_of(store, pid) == {"mediation_period": "met"}


# -- SIGKILL in the middle of a transition ----------------------------------------------------

_TRANSITION_POINTS: dict[str, dict[str, Any]] = {
    # Just after advance_in wrote the transition's event, before the rest of the work and
    # the commit (a written agreement starts no clock of its own any more: the
    # confirmation window waits for the agreement to take effect).
    "mid-transition": {"hook": "mediation.engine.cases:append_event", "after": True},
    "before-commit": {"hook": "mediation.storage.audit:before_commit", "after": True},
}


@pytest.mark.parametrize("point", list(_TRANSITION_POINTS))
def test_killed_in_the_middle_of_a_transition(
    store: Store, db_url: str, tmp_path: Path, point: str
) -> None:
    pid = mediating_case(store)
    before = snapshot(store)
    spec = {**_TRANSITION_POINTS[point], "then": "sleep", "argv": agree_argv(db_url, pid)}
    with child(spec, tmp_path) as (proc, info):
        mid_transaction(db_url, info)
        assert info["events"] == len(before["event"]) + 1  # its event is written
        kill(proc, info)
    assert snapshot(store) == before  # not a row of the transition: no state, event, clock
    consistent(store, db_url)
    agree_again(store, pid, version=len(_TO_MEDIATING) + 1)
    consistent(store, db_url)


# -- SIGKILL in the middle of a bulk import ---------------------------------------------------


def _id_number(i: int) -> str:
    body = f"330681{19600101 + i % 28:08d}{i % 1000:03d}"
    return body + check_digit(body)


#: The rows of the bulk import killed halfway.
IMPORT_ROWS = 300


def hotline_rows(path: Path) -> Path:
    """A 12345 hotline export of :data:`IMPORT_ROWS` valid rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROW_FIELDS))
        writer.writeheader()
        for i in range(IMPORT_ROWS):
            row = dict.fromkeys(ROW_FIELDS, "")
            row.update(
                external_ref=f"GD2026{i:06d}",
                organisation="城关",
                dispute_type="neighbourhood",
                title=f"12345工单：夜间噪音扰民（第{i}号）",
                applicant_name=f"来电人{i}",
                applicant_id_number=_id_number(i),
                applicant_phone=f"138{i:08d}",
                respondent_name=f"住户{i}",
            )
            writer.writerow(row)
    return path


_IMPORT_POINTS: dict[str, dict[str, Any]] = {
    "halfway": {"hook": "mediation.engine.cases:open_in", "call": IMPORT_ROWS // 2 + 1},
    "before-commit": {"hook": "mediation.storage.audit:before_commit", "after": True},
}
#: The new events the import's transaction holds at each point (one per case opened).
_IMPORT_WRITTEN = {"halfway": IMPORT_ROWS // 2, "before-commit": IMPORT_ROWS}


@pytest.mark.parametrize("point", list(_IMPORT_POINTS))
def test_killed_in_the_middle_of_a_bulk_import(
    store: Store, db_url: str, tmp_path: Path, point: str
) -> None:
    mediating_case(store)  # something already there, which must stay as it is
    export = hotline_rows(tmp_path / "12345.csv")
    before = snapshot(store)
    argv = [
        "--db",
        db_url,
        "intake",
        "import",
        str(export),
        "--channel",
        "hotline",
    ]
    with child({**_IMPORT_POINTS[point], "then": "sleep", "argv": argv}, tmp_path) as (proc, info):
        mid_transaction(db_url, info)
        assert info["events"] == len(before["event"]) + _IMPORT_WRITTEN[point]
        kill(proc, info)
    assert snapshot(store) == before  # not one of the rows, nor a case number used up
    consistent(store, db_url)
    lock_timeout(store)
    result = import_file(store, export, channel="hotline", actor="登记员", now=T0)
    assert (len(result.imported), result.problems) == (IMPORT_ROWS, [])
    assert result.imported[0] == "（2026）城关人调字第1号"  # numbering starts where it was
    with store.read() as conn:
        refs = conn.execute(
            select(func.count()).where(dispute_table.c.referral_ref.like("GD2026%"))
        ).scalar_one()
    assert refs == IMPORT_ROWS
    consistent(store, db_url)


# -- a PostgreSQL connection cut in the middle of a transaction -----------------------------


def _terminate(db_url: str, backend: int) -> None:
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            done = conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            assert done.scalar() is True
    finally:
        admin.dispose()


def _cut_connection(proc: subprocess.Popen[str], info: dict[str, Any], db_url: str, flag: Path):
    """Terminate the child's backend, then let the child carry on into the dead connection."""
    _terminate(db_url, info["backend"])
    flag.with_name(flag.name + ".go").write_text("")
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


#: pg_terminate_backend is PostgreSQL's own way to drop a connection: these run there only.
pg_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pg_only
@pytest.mark.parametrize("point", list(_TRANSITION_POINTS))
def test_a_dropped_connection_is_a_clean_cli_error(
    store: Store, db_url: str, tmp_path: Path, point: str
) -> None:
    pid = mediating_case(store)
    before = snapshot(store)
    spec = {**_TRANSITION_POINTS[point], "then": "wait", "argv": agree_argv(db_url, pid)}
    with child(spec, tmp_path) as (proc, info):
        mid_transaction(db_url, info)
        assert info["events"] == len(before["event"]) + 1
        code, out, err = _cut_connection(proc, info, db_url, tmp_path / "arrived.json")
    assert "Traceback" not in err, err
    assert code == int(ExitCode.ERROR), (code, out, err)  # "unexpected failure"
    message, hint = err.strip().splitlines()[:2]  # what went wrong, and what to do
    assert message.startswith("错误：") and hint.strip().startswith("→"), err
    assert snapshot(store) == before
    consistent(store, db_url)
    agree_again(store, pid, version=len(_TO_MEDIATING) + 1)


def _library_after_a_cut(store: Store, db_url: str, tmp_path: Path, point: str) -> dict[str, Any]:
    """``cases.advance`` in a child whose connection is cut at ``point``, then the same
    advance again on the same Store: what each raised; checks the database afterwards."""
    pid = mediating_case(store)
    library = {"case": pid, "trigger": "agree_written", "payload": AGREEMENT}
    spec = {**_TRANSITION_POINTS[point], "then": "wait", "db": db_url, "library": library}
    with child(spec, tmp_path) as (proc, info):
        code, out, err = _cut_connection(proc, info, db_url, tmp_path / "arrived.json")
    assert code == 0, err
    outcome: dict[str, Any] = json.loads(out)
    # The cut attempt wrote nothing; the second one, on the same Store (it reconnects, as a
    # long-running process must), did the transition once.
    assert outcome["again"] == {"raised": None, "to_state": "agreed_written", "seq": 6}, outcome
    with store.read() as conn:
        seqs = conn.execute(
            select(event_table.c.seq).where(event_table.c.proceeding_id == pid)
        ).scalars()
        assert sorted(seqs) == [1, 2, 3, 4, 5, 6]
    assert deadlines_of(store, pid) == {"mediation_period": "met"}
    consistent(store, db_url)
    return outcome


@pg_only
@pytest.mark.parametrize("point", list(_TRANSITION_POINTS))
def test_the_library_writes_nothing_and_recovers_after_a_dropped_connection(
    store: Store, db_url: str, tmp_path: Path, point: str
) -> None:
    outcome = _library_after_a_cut(store, db_url, tmp_path, point)
    assert outcome["first"]["raised"] is not None


@pg_only
def test_a_dropped_connection_is_a_mediation_error_in_the_library(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    first = _library_after_a_cut(store, db_url, tmp_path, "mid-transition")["first"]
    assert first["mediation_error"] and first["message"] and first["hint"], first


@pg_only
def test_killed_after_the_commit_before_the_seal(store: Store, db_url: str, tmp_path: Path) -> None:
    """PostgreSQL seals after the commit: a process killed in between has written its
    transition whole; the event waits, checked but pending, and the next seal takes it."""
    pid = mediating_case(store)
    with store.read() as conn:
        head = audit.verify(conn).head_seq
    spec = {"hook": "mediation.storage.audit:seal_committed", "then": "sleep"}
    with child({**spec, "argv": agree_argv(db_url, pid)}, tmp_path) as (proc, info):
        kill(proc, info)
    assert deadlines_of(store, pid) == {"mediation_period": "met"}
    with store.read() as conn:
        report = audit.verify(conn)
    assert report.ok and (report.pending, report.head_seq) == (1, head), report
    # The next write seals it along with its own event.
    cases.open_case(store, intake.validate(intake_record(title="另一起纠纷")), actor="m", now=T0)
    with store.read() as conn:
        report = audit.verify(conn)
    assert report.ok and (report.pending, report.head_seq) == (0, head + 2), report


@pg_only
def test_a_writer_about_to_commit_holds_up_no_other_dispute(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """Nothing database-wide is locked inside a write transaction: while one process sits
    just before its commit, another advances a case of another dispute, and its event is
    sealed into the database-wide chain at once (the first one's when it commits)."""
    pid = mediating_case(store)
    other = cases.open_case(
        store, intake.validate(intake_record(title="另一起纠纷")), actor="m", now=T0
    ).proceeding_id
    spec = {**_TRANSITION_POINTS["before-commit"], "then": "wait", "argv": agree_argv(db_url, pid)}
    with child(spec, tmp_path) as (proc, info):
        mid_transaction(db_url, info)
        with store.read() as conn:
            conn.exec_driver_sql("SET lock_timeout = '5s'")  # a wait fails instead of hanging
        cases.advance(store, other, "accept", actor="m", now=T0)
        with store.read() as conn:
            report = audit.verify(conn)
        assert report.ok and report.pending == 0, report
        (tmp_path / "arrived.json.go").write_text("")  # let the first one commit
        assert proc.wait(timeout=60) == 0, proc.communicate()
    with store.read() as conn:
        report = audit.verify(conn)
    assert report.ok and (report.pending, report.events) == (0, 5 + 1 + 1 + 1), report


@pg_only
def test_a_connection_dropped_while_sealing_loses_nothing(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """The transition has committed when the seal runs: a connection cut there costs only
    the seal. The library raises nothing, the same Store goes on (it reconnects), and the
    event waits, pending, for the next seal."""
    pid = mediating_case(store)
    library = {"case": pid, "trigger": "agree_written", "payload": AGREEMENT}
    spec = {"hook": "mediation.storage.audit:seal_committed", "then": "wait", "db": db_url}
    with child({**spec, "library": library}, tmp_path) as (proc, info):
        code, out, err = _cut_connection(proc, info, db_url, tmp_path / "arrived.json")
    assert code == 0 and "Traceback" not in err, err
    outcome = json.loads(out)
    assert outcome["first"] == {"raised": None}, outcome
    # Done once: the same trigger again is refused by the flow, not by a dead connection.
    assert outcome["again"]["raised"] == "TransitionNotAllowed", outcome
    assert deadlines_of(store, pid) == {"mediation_period": "met"}
    with store.read() as conn:
        report = audit.verify(conn)
    assert report.ok and report.pending == 1, report
    assert store.seal_pending() == 1
    consistent(store, db_url)
