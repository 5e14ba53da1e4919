"""Schema upgrades, on a SQLite file and on PostgreSQL: the migrated schema is the models'
schema, data survives an upgrade, and the CLI tells the user what to run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from typer.testing import CliRunner

from mediation.cli import app
from mediation.domain.clock import BUSINESS_TZ
from mediation.errors import ExitCode
from mediation.storage import migrations, stamps
from mediation.storage.models import (
    Deadline,
    Dispute,
    Event,
    Organisation,
    Party,
    Proceeding,
    metadata,
)
from mediation.storage.stamps import in_models
from mediation.storage.store import Store
from tests.conftest import T0

NOW_ENV = {"MEDIATION_NOW": T0.isoformat()}


@pytest.fixture
def empty_store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


def _schema_diff(store: Store) -> list[Any]:
    with store.read() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": in_models}
        )
        return list(compare_metadata(ctx, metadata))


def _first_revision(store: Store) -> str:
    script = ScriptDirectory.from_config(migrations.alembic_config(store))
    revisions = list(script.walk_revisions())  # newest first, down to the base
    base = revisions[-1]
    assert base.down_revision is None
    assert script.get_bases() == [base.revision]
    assert script.get_current_head() == migrations.HEAD
    return base.revision


def _invoke(runner: CliRunner, db_url: str, *args: str) -> Any:
    """The command at T0; ``db upgrade`` on the wall clock (a database in use is no
    training one, and only a training database honours a pinned clock)."""
    env = {"MEDIATION_NOW": None} if args[:2] == ("db", "upgrade") else NOW_ENV
    return runner.invoke(app, ["--db", db_url, *args], env=env)


# -- the migrated schema is the models' schema ----------------------------------------


def test_upgrade_of_an_empty_database_matches_the_models(empty_store):
    assert empty_store.revision() is None
    before, after = empty_store.upgrade()
    assert (before, after) == (None, migrations.HEAD)
    assert empty_store.revision() == migrations.HEAD
    assert _schema_diff(empty_store) == []


def test_upgrade_at_head_changes_nothing(empty_store):
    empty_store.upgrade()
    assert empty_store.upgrade() == (migrations.HEAD, migrations.HEAD)
    assert _schema_diff(empty_store) == []


# -- data survives an upgrade from the first revision ---------------------------------

#: Rows as an older version wrote them; timestamps in Beijing time, stored in UTC.
ORG = {
    "id": 1,
    "code": "桥头",
    "name": "桥头村人民调解委员会",
    "kind": "people_committee",
    "level": "village",
    "parent_id": None,
    "created_at": T0,
}
DISPUTE = {
    "id": 1,
    "title": "邻里通道堆放杂物纠纷",
    "summary": "张三与李四因通道堆放杂物发生争执。",
    "claims": "请求清理杂物。",
    "dispute_type": "neighbourhood",
    "channel": "walk_in",
    "referring_organ": None,
    "referral_ref": None,
    "risk_level": "green",
    "received_at": T0 - timedelta(hours=1),
    "created_at": T0,
    "created_by": "老王",
}
PARTY = {
    "id": 1,
    "dispute_id": 1,
    "role": "applicant",
    "kind": "person",
    "ordinal": 0,
    "name": "张三",
    "gender": "male",
    "birth_date": date(1949, 12, 31),
    "id_number": "11010519491231002X",
    "phone": "13812345678",
    "address": "浙江省江城市青山县城关镇桥头村12号",
}
PROCEEDING = {
    "id": 1,
    "dispute_id": 1,
    "parent_id": None,
    "flow": "peoples",
    "state": "accepted",
    "organisation_id": 1,
    "level": "village",
    "case_year": 2026,
    "case_serial": 1,
    "case_number": "（2026）桥头人调字第1号",
    "application_mode": "written",
    "mediators": "[]",
    "facts": '{"accept":{}}',
    "outcome": None,
    "opened_at": T0,
    "closed_at": None,
    "updated_at": T0 + timedelta(minutes=5),
    "version": 2,
}
EVENT = {
    "id": 1,
    "dispute_id": 1,
    "proceeding_id": 1,
    "seq": 2,
    "trigger": "accept",
    "from_state": "applied",
    "to_state": "accepted",
    "actor": "老王",
    "note": None,
    "payload": "{}",
    "occurred_at": T0 + timedelta(minutes=5),
}
DEADLINE = {
    "id": 1,
    "proceeding_id": 1,
    "kind": "mediation_period",
    "label": "调解期限",
    "period": "1个月",
    "legal_basis": "人民调解工作若干规定 art. 33",
    "duty": True,
    "starts_on": date(2026, 3, 2),
    "due": date(2026, 4, 2),
    "provisional": False,
    "status": "open",
    "closed_at": None,
    "extensions": 0,
}
ROWS = [
    ("organisation", ORG),
    ("dispute", DISPUTE),
    ("party", PARTY),
    ("proceeding", PROCEEDING),
    ("event", EVENT),
    ("deadline", DEADLINE),
]
TABLES = {
    "organisation": Organisation.__table__,
    "dispute": Dispute.__table__,
    "party": Party.__table__,
    "proceeding": Proceeding.__table__,
    "event": Event.__table__,
    "deadline": Deadline.__table__,
}


def _raw(dialect: str, value: Any) -> Any:
    """A value as the driver is handed it in plain SQL (as the old version stored it)."""
    if dialect != "sqlite":
        return value
    if isinstance(value, datetime):  # SQLite: naive UTC text, as Timestamp writes it
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _insert_plain(conn: Connection, dialect: str) -> None:
    for table, row in ROWS:
        columns = ", ".join(f'"{c}"' for c in row)
        params = ", ".join(f":{c}" for c in row)
        conn.execute(
            text(f'INSERT INTO "{table}" ({columns}) VALUES ({params})'),
            {c: _raw(dialect, v) for c, v in row.items()},
        )


def _snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The inserted columns of every table, read with plain SQL."""
    out = {}
    for table, row in ROWS:
        columns = ", ".join(f'"{c}"' for c in row)
        out[table] = [tuple(r) for r in conn.execute(text(f'SELECT {columns} FROM "{table}"'))]
    return out


def test_cli_upgrade_from_the_first_revision_keeps_the_data(db_url, runner):
    store = Store(db_url)
    try:
        first = _first_revision(store)
        assert store.upgrade(first) == (None, first)
        assert store.revision() == first
        with store.write() as conn:
            _insert_plain(conn, store.dialect)
        with store.read() as conn:
            before = _snapshot(conn)
        store.close()

        result = _invoke(runner, db_url, "db", "upgrade")
        assert result.exit_code == 0, result.output
        if first == migrations.HEAD:
            assert "无需升级" in result.output
        else:
            assert f"{first} → {migrations.HEAD}" in result.output

        store = Store(db_url)
        assert store.revision() == migrations.HEAD
        assert _schema_diff(store) == []
        with store.read() as conn:
            assert _snapshot(conn) == before
            for table, row in ROWS:
                t = TABLES[table]
                found = conn.execute(select(*[t.c[c] for c in row])).mappings().all()
                assert len(found) == 1, table
                got = dict(found[0])
                for column, value in row.items():
                    if column in ("mediators", "facts", "payload"):
                        value = json.loads(value)
                    assert got[column] == value, (table, column)
                    if isinstance(value, datetime):
                        assert got[column].utcoffset() is not None, (table, column)
    finally:
        store.close()

    again = _invoke(runner, db_url, "db", "upgrade")
    assert again.exit_code == 0, again.output
    assert "无需升级" in again.output
    assert migrations.HEAD in again.output


def test_the_server_stamps_are_postgresqls_only(empty_store):
    """Revision 0020 adds the server's stamps and their key on PostgreSQL; SQLite's schema
    is unchanged (the models have neither, on either database)."""
    empty_store.upgrade()
    with empty_store.read() as conn:
        if empty_store.dialect == "sqlite":
            columns = {r[1] for r in conn.execute(text("PRAGMA table_info(event)"))}
            tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        else:
            columns = set(
                conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = 'event'"
                    )
                ).scalars()
            )
            tables = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ).scalars()
            )
    stamped = set(stamps.COLUMNS) <= columns and stamps.KEY_TABLE in tables
    assert stamped == (empty_store.dialect == "postgresql")
    assert not set(stamps.COLUMNS) & set(metadata.tables["event"].columns.keys())


def test_head_names_the_newest_revision(empty_store):
    script = ScriptDirectory.from_config(migrations.alembic_config(empty_store))
    assert script.get_heads() == [migrations.HEAD]


# -- the CLI: status, a missing schema, init ------------------------------------------


def test_db_status_reports_current_and_required_revision(db_url, runner):
    result = _invoke(runner, db_url, "db", "status", "--json")
    assert result.exit_code == ExitCode.SCHEMA, result.output  # scripts can test it
    data = json.loads(result.stdout)
    assert data["revision"] is None
    assert data["required"] == migrations.HEAD
    assert data["current"] is False

    assert _invoke(runner, db_url, "db", "upgrade").exit_code == 0
    result = _invoke(runner, db_url, "db", "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["revision"] == migrations.HEAD
    assert data["required"] == migrations.HEAD
    assert data["current"] is True

    text_out = _invoke(runner, db_url, "db", "status")
    assert text_out.exit_code == 0
    assert f"结构版本 {migrations.HEAD}，本程序需要 {migrations.HEAD}" in text_out.output


@pytest.mark.parametrize("command", [["case", "list"], ["org", "list", "--json"]])
def test_commands_without_a_database_say_how_to_create_it(db_url, runner, command):
    result = _invoke(runner, db_url, *command)
    assert result.exit_code == ExitCode.SCHEMA == 7, result.output
    assert "没有调解数据库" in result.stderr
    assert "mediation init" in result.stderr
    assert result.stdout == ""
    if db_url.startswith("sqlite"):  # refusing did not leave an empty file behind
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    s = Store(db_url)
    try:
        assert s.revision() is None
    finally:
        s.close()


def test_commands_on_an_empty_database_say_how_to_create_the_schema(empty_store, runner):
    assert empty_store.revision() is None  # connects: the SQLite file now exists, empty
    empty_store.close()
    result = _invoke(runner, empty_store.url, "case", "list")
    assert result.exit_code == ExitCode.SCHEMA, result.output
    assert "mediation init" in result.stderr
    assert "mediation db upgrade" in result.stderr
    assert result.stdout == ""


def test_a_stale_schema_asks_for_db_upgrade(empty_store, runner):
    empty_store.upgrade()
    with empty_store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    empty_store.close()
    result = _invoke(runner, empty_store.url, "case", "list")
    assert result.exit_code == ExitCode.SCHEMA, result.output
    assert "0000" in result.stderr
    assert "mediation db upgrade" in result.stderr


INIT = [
    "init",
    "--training",
    "--org-code",
    "桥头",
    "--org-name",
    "桥头村人民调解委员会",
    "--level",
    "village",
]


def _orgs(runner: CliRunner, db_url: str) -> list[dict[str, Any]]:
    result = _invoke(runner, db_url, "org", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_init_creates_the_schema_and_the_organisation(db_url, runner):
    result = _invoke(runner, db_url, *INIT)
    assert result.exit_code == 0, result.output
    assert "桥头" in result.output
    orgs = _orgs(runner, db_url)
    assert [(o["code"], o["name"], o["level"], o["parent"]) for o in orgs] == [
        ("桥头", "桥头村人民调解委员会", "village", None)
    ]
    assert orgs[0]["created_at"] == T0.isoformat()
    s = Store(db_url)
    try:
        assert s.revision() == migrations.HEAD
        assert _schema_diff(s) == []
    finally:
        s.close()


def test_init_twice_keeps_one_schema_and_one_organisation(db_url, runner):
    assert _invoke(runner, db_url, *INIT).exit_code == 0
    second = _invoke(runner, db_url, *INIT)
    assert second.exit_code == ExitCode.OK, second.output
    bare = _invoke(runner, db_url, "init")
    assert bare.exit_code == 0, bare.output
    orgs = _orgs(runner, db_url)
    assert [(o["code"], o["name"]) for o in orgs] == [("桥头", "桥头村人民调解委员会")]
    s = Store(db_url)
    try:
        assert s.revision() == migrations.HEAD
    finally:
        s.close()


def test_running_the_same_init_twice_succeeds(db_url, runner):
    assert _invoke(runner, db_url, *INIT).exit_code == 0
    again = _invoke(runner, db_url, *INIT)
    assert again.exit_code == 0, again.output


def test_init_json_reports_the_revisions(db_url, runner):
    result = _invoke(runner, db_url, "init", "--training", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["revision_before"] is None
    assert data["revision"] == migrations.HEAD
    again = json.loads(_invoke(runner, db_url, "init", "--training", "--json").stdout)
    assert again["revision_before"] == again["revision"] == migrations.HEAD


# -- connections and timestamps -------------------------------------------------------


def test_sqlite_is_in_wal_mode_with_foreign_keys_enforced(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'mediation.db'}")
    try:
        store.upgrade()
        with store.read() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        t = Organisation.__table__
        with pytest.raises(IntegrityError), store.write() as conn:
            conn.execute(
                insert(t).values(
                    code="孤儿",
                    name="无上级",
                    kind="people_committee",
                    level="village",
                    parent_id=999,
                    created_at=T0,
                )
            )
        with store.read() as conn:
            assert conn.execute(select(t.c.id)).all() == []
    finally:
        store.close()


def test_timestamps_round_trip_as_aware_instants(empty_store):
    empty_store.upgrade()
    t = Organisation.__table__
    at = datetime(2026, 3, 2, 23, 30, 15, 123456, tzinfo=BUSINESS_TZ)  # 15:30:15 UTC
    with empty_store.write() as conn:
        conn.execute(
            insert(t).values(
                code="桥头",
                name="桥头村人民调解委员会",
                kind="people_committee",
                level="village",
                created_at=at,
            )
        )
    with empty_store.read() as conn:
        got = conn.execute(select(t.c.created_at).where(t.c.code == "桥头")).scalar_one()
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == at
    assert got.astimezone(BUSINESS_TZ) == at
    assert got.astimezone(BUSINESS_TZ).replace(tzinfo=None) == at.replace(tzinfo=None)
    assert got.astimezone(BUSINESS_TZ).date() == date(2026, 3, 2)

    other = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    with empty_store.write() as conn:
        conn.execute(
            insert(t).values(
                code="远方", name="远方", kind="people_committee", level="village", created_at=other
            )
        )
    with empty_store.read() as conn:
        back = conn.execute(select(t.c.created_at).where(t.c.code == "远方")).scalar_one()
    assert back == other and back.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused(empty_store):
    empty_store.upgrade()
    t = Organisation.__table__
    with pytest.raises(StatementError) as raised, empty_store.write() as conn:
        conn.execute(
            insert(t).values(
                code="桥头",
                name="桥头村人民调解委员会",
                kind="people_committee",
                level="village",
                created_at=datetime(2026, 3, 2, 9, 0),
            )
        )
    assert isinstance(raised.value.orig, ValueError)
    assert "naive datetime" in str(raised.value.orig)
    with empty_store.read() as conn:
        assert conn.execute(select(t.c.id)).all() == []


# -- the steps of the flows (revision 0019) ---------------------------------------------


def _steps_held(store: Store) -> set[tuple[str, ...]]:
    with store.read() as conn:
        return {tuple(r) for r in conn.execute(text("SELECT * FROM flow_edge"))}


def test_db_upgrade_puts_back_the_steps_the_code_has(store: Store, runner: CliRunner) -> None:
    """``flow_edge`` holding a step the flows lack and missing one they have (as after an
    update of the program that changed a flow): ``db upgrade`` at the newest revision makes
    it the code's steps again, in the transaction that checks the schema."""
    from mediation.storage.flow_edges import steps

    wanted = steps()
    assert _steps_held(store) == wanted  # the template's migration wrote them
    dropped = ("peoples", "accept", "applied", "accepted")
    assert dropped in wanted
    with store.write() as conn:
        conn.execute(
            text(
                "DELETE FROM flow_edge WHERE flow = :f AND trigger = :t AND source = :s"
                " AND dest = :d"
            ),
            dict(zip("ftsd", dropped, strict=True)),
        )
        conn.execute(
            text("INSERT INTO flow_edge VALUES ('peoples', 'accept', 'applied', 'agreed_written')")
        )
    assert _steps_held(store) == wanted - {dropped} | {
        ("peoples", "accept", "applied", "agreed_written")
    }
    result = _invoke(runner, store.url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert _steps_held(store) == wanted
