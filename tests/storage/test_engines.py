"""One engine per database per process (mediation.storage.store._engine): a store opened
again takes it; PostgreSQL connections go back to its pool and are reused; a SQLite store
closes its file; the dispatcher's session-level lock never travels with a pooled
connection; a forked process leaves its parent's connections alone."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import event, text
from typer.testing import CliRunner

from mediation.cli import app
from mediation.engine import scheduler
from mediation.storage import store as store_module
from mediation.storage.store import Store
from tests.conftest import T0, intake_record

pg_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _query(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def _counting_connects(store: Store) -> list[object]:
    """A list that grows by one each time ``store``'s engine opens a new connection (a
    pooled one that failed its ping is replaced by a new one, and counts)."""
    made: list[object] = []
    event.listen(store.engine, "connect", lambda dbapi, _record: made.append(dbapi))
    return made


def test_a_store_opened_again_takes_the_same_engine(store: Store) -> None:
    with Store(store.url) as first:
        engine = first.engine
    with Store(store.url) as second:
        assert second.engine is engine
        with second.read() as conn:  # and it works after the first one closed
            assert conn.execute(text("SELECT 1")).scalar_one() == 1


@pg_only
def test_a_closed_postgresql_store_s_connection_is_reused(store: Store) -> None:
    with Store(store.url) as first:
        _query(first)
        made = _counting_connects(first)
    for _ in range(3):
        with Store(store.url) as again:
            _query(again)  # on a pooled server session: no new one
    assert made == []
    with Store(store.url) as one, Store(store.url) as two:  # two at once: a second session
        _query(one)
        _query(two)
    assert len(made) <= 1


@sqlite_only
def test_a_closed_sqlite_store_holds_no_file_open(store: Store, tmp_path: Path) -> None:
    """Closed, a SQLite store lets go of its file: the file can be replaced (a restore
    from a backup) and the next store reads the new one, not the old one's pages."""
    path = Path(store.url.removeprefix("sqlite:///"))
    other = tmp_path / "other.db"
    with Store(f"sqlite:///{other}") as empty:
        empty.upgrade()
    with Store(store.url) as first, first.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM organisation")).scalar_one() == 4
    store.close()
    fds = Path("/proc/self/fd")
    if fds.is_dir():
        held = [fd for fd in fds.iterdir() if _points_to(fd, path)]
        assert held == [], f"{path} still open after every store on it closed"
    shutil.copyfile(other, path)
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)
    with Store(store.url) as again, again.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM organisation")).scalar_one() == 0


def _points_to(fd: Path, path: Path) -> bool:
    try:
        return Path(os.readlink(fd)) == path
    except OSError:  # closed meanwhile
        return False


@pg_only
def test_the_dispatcher_s_lock_does_not_travel_with_a_pooled_connection(store: Store) -> None:
    """The dispatcher's advisory lock is a server session's: once a run is over no pooled
    session holds it, so the next run, in this process or another, takes it."""
    first = scheduler.dispatch(store, now=T0, notifiers=[])
    second = scheduler.dispatch(store, now=T0, notifiers=[])
    assert first.ran and second.ran
    with Store(store.url) as other, other.read() as conn:
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"k": scheduler.ADVISORY_KEY},
        ).scalar_one()
    assert held == 0


@pg_only
def test_a_forked_process_leaves_its_parent_s_connections_alone(store: Store) -> None:
    """A forked child opens engines of its own; filling its cache past the limit evicts
    only its own, so the parent's pooled sessions stay alive (none fails its ping)."""
    with Store(store.url) as parent:
        _query(parent)
        made = _counting_connects(parent)
    pid = os.fork()
    if pid == 0:  # the child: open more databases' engines than a process keeps
        code = 0
        try:
            for n in range(store_module._KEPT_ENGINES + 2):
                with Store(f"{store.url}&application_name=child{n}") as child:
                    _query(child)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with Store(store.url) as again:
        _query(again)
    assert made == []  # the pooled session was alive: no new connection


def test_a_command_asks_schema_and_login_in_one_transaction(store: Store, tmp_path: Path) -> None:
    """A command's first read — is the schema current, who is acting — is one transaction,
    and ``case advance`` reads the calendar with the case's version: ``case show`` runs in
    two transactions, ``case advance`` in three (on PostgreSQL each costs a BEGIN and a
    COMMIT round trip)."""
    runner, env = CliRunner(), {"MEDIATION_NOW": T0.isoformat()}
    record = tmp_path / "intake.json"
    record.write_text(json.dumps(intake_record()), encoding="utf-8")
    opened = runner.invoke(app, ["--db", store.url, "case", "open", "--from", str(record)], env=env)
    assert opened.exit_code == 0, opened.output
    begun: list[object] = []

    def count(conn: object) -> None:
        begun.append(conn)

    event.listen(store.engine, "begin", count)
    try:
        for args, transactions in (
            (["case", "show", "1"], 2),
            (["case", "advance", "1", "accept"], 3),
        ):
            begun.clear()
            result = runner.invoke(app, ["--db", store.url, *args], env=env)
            assert result.exit_code == 0, result.output
            assert len(begun) == transactions, args
    finally:
        event.remove(store.engine, "begin", count)
