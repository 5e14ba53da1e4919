"""`mediation backup`: a consistent copy of a SQLite database in use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.storage.migrations import HEAD
from tests.conftest import T0, add_runner, intake_record, make_training


def test_backup_copies_everything_while_the_store_is_open(tmp_path: Path, runner) -> None:
    from mediation.engine.organisations import add_organisation
    from mediation.storage.store import Store

    db = tmp_path / "centre.db"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    make_training(store)
    add_runner(store)
    add_organisation(store, code="桥头", name="桥头村人民调解委员会", level="village", now=T0)
    for _ in range(5):
        opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
        cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0)
    copy = tmp_path / "backup" / "centre-copy.db"
    out = runner.invoke(app, ["--db", str(db), "backup", str(copy)])  # the store above stays open
    assert out.exit_code == 0, out.output
    store.close()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM event").fetchone() == (10,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = runner.invoke(app, ["--db", str(db), "backup", str(copy)])
    assert again.exit_code == 2 and "已存在" in again.output  # never overwrites


def test_backup_on_postgresql_points_to_pg_dump(store, db_url, runner, tmp_path: Path) -> None:
    store.close()
    out = runner.invoke(app, ["--db", db_url, "backup", str(tmp_path / "x.db")])
    if db_url.startswith("sqlite"):
        assert out.exit_code == 0
    else:
        assert out.exit_code == 2 and "pg_dump" in out.output
