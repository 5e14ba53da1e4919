"""The least-privilege application role on PostgreSQL (mediation.storage.pgroles): it runs the
program but cannot run DDL, delete rows, or rewrite history."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.engine.organisations import add_organisation
from mediation.storage import audit
from mediation.storage.pgroles import GROUP_ROLES, grants_sql, group_name
from mediation.storage.store import Store
from tests.conftest import PG_URL, T0, _pg_available, intake_record


@dataclass
class AppDatabase:
    """A fresh schema with the application's grants: its owner's URL (the superuser the
    tests run as), the application role's, the group roles' prefix, and the extra roles
    a test made (dropped with it)."""

    owner_url: str
    app_url: str
    schema: str
    groups: str
    roles: list[str] = field(default_factory=list)

    def url_for(self, login: str) -> str:
        return make_url(self.owner_url).set(username=login).render_as_string(hide_password=False)


@contextmanager
def app_database() -> Iterator[AppDatabase]:
    """:class:`AppDatabase`; every role it made (cluster-wide: the application role, the
    group roles, and the ones a test adds to ``roles``) is dropped at the end, even when
    setting it up fails."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    suffix = uuid.uuid4().hex[:10]
    schema, role, groups = f"r_{suffix}", f"mediation_app_{suffix}", f"g_{suffix}"
    sep = "&" if "?" in PG_URL else "?"
    owner_url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    db = AppDatabase(
        owner_url, make_url(owner_url).set(username=role).render_as_string(False), schema, groups
    )
    db.roles.append(role)
    db.roles += [group_name(groups, r) for r in GROUP_ROLES]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        owner = Store(owner_url)
        owner.upgrade()
        add_organisation(owner, code="桥头", name="桥头村人民调解委员会", level="village", now=T0)
        with owner.engine.begin() as conn:
            conn.exec_driver_sql(grants_sql(role, schema=schema, groups=groups))
        owner.close()
        yield db
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            for name in reversed(db.roles):
                if conn.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}
                ).first():
                    conn.execute(text(f'DROP OWNED BY "{name}"'))
                    conn.execute(text(f'DROP ROLE "{name}"'))
        admin.dispose()


@pytest.fixture
def app_db() -> Iterator[tuple[str, str]]:
    """(owner URL, application URL) for a fresh schema with the application's grants."""
    with app_database() as db:
        yield db.owner_url, db.app_url


def test_the_application_role_runs_cases_but_no_ddl_or_rewrites(app_db) -> None:
    _owner_url, app_url = app_db
    store = Store(app_url)
    store.require_current()
    opened = cases.open_case(store, intake.validate(intake_record()), actor="m", now=T0)
    cases.advance(store, opened.proceeding_id, "accept", actor="m", now=T0)
    with store.read() as conn:
        assert audit.verify(conn).ok
    refused = {
        "create": "CREATE TABLE evil (id int)",
        "alter": "ALTER TABLE event ADD COLUMN x int",
        "drop": "DROP TABLE deadline",
        "delete": "DELETE FROM event",
        "rewrite": "UPDATE event SET actor = 'x'",
        "delete party": "DELETE FROM party",
        "migrate": "UPDATE alembic_version SET version_num = '0001'",
        "change the secret": "UPDATE installation_secret SET secret = 'x'",
    }
    for sql in refused.values():
        with (
            pytest.raises(ProgrammingError, match=r"permission denied|must be owner"),
            store.engine.begin() as conn,
        ):
            conn.execute(text(sql))
    store.close()


def test_creating_tables_as_the_application_role_fails_cleanly(app_db) -> None:
    """No DDL at run time: `init` on a schema the role may only use is refused, cleanly."""
    _owner_url, app_url = app_db
    role = make_url(app_url).username
    schema = f"e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
    try:
        url = app_url.replace(app_url.split("csearch_path%3D")[1], schema)
        out = CliRunner().invoke(app, ["--db", url, "init", "--training"])
        assert out.exit_code == 1
        assert "permission denied" in out.stderr and "Database roles" in out.stderr
        assert out.exception is None or isinstance(out.exception, SystemExit)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_grants_cover_every_table() -> None:
    from mediation.storage._tables import metadata

    sql = grants_sql("app")
    for table in metadata.sorted_tables:
        assert f'"public"."{table.name}"' in sql
    assert "DELETE" not in sql
    # History is appended, never rewritten: an event is inserted linked and positioned by
    # the seal (as the owner), which alone moves the head; an access event's hash is set
    # just after its insert.
    assert 'GRANT SELECT, INSERT ON "public"."event" TO "app";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE (hash) ON "public"."access_event" TO "app";' in sql
    assert 'GRANT SELECT ON "public"."audit_head" TO "app";' in sql


def test_a_password_is_for_postgresql_person_logins_only(tmp_path, monkeypatch) -> None:
    """SQLite's users are the OS accounts: `user add --password-stdin` is refused there."""
    monkeypatch.delenv("MEDIATION_NOW")  # a real database: the wall clock
    db = str(tmp_path / "m.db")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "init"]).exit_code == 0
    out = runner.invoke(
        app,
        ["--db", db, "user", "add", "wang", "--role", "staff", "--password-stdin"],
        input="a-long-enough-password\n",
    )
    assert out.exit_code == 2 and "--password-stdin" in out.stderr, out.output
    listed = runner.invoke(app, ["--db", db, "user", "list"])
    assert "wang" not in listed.stdout


def test_grants_run_again_take_back_what_an_earlier_version_gave() -> None:
    """An earlier version let the service UPDATE events' chain columns and the head; the
    grants, run again, leave it only what they list."""
    with app_database() as db:
        app = make_url(db.app_url).username
        owner = create_engine(db.owner_url)
        try:
            with owner.begin() as conn:
                conn.execute(text(f'GRANT UPDATE (chain_seq, hash) ON event TO "{app}"'))
                conn.execute(text(f'GRANT UPDATE ON audit_head TO "{app}"'))
                conn.exec_driver_sql(grants_sql(app, schema=db.schema, groups=db.groups))
            with owner.connect() as conn:
                held = conn.execute(
                    text(
                        "SELECT has_column_privilege(:r, 'event', 'hash', 'UPDATE'), "
                        "has_table_privilege(:r, 'audit_head', 'UPDATE'), "
                        "has_column_privilege(:r, 'access_event', 'hash', 'UPDATE')"
                    ),
                    {"r": app},
                ).one()
        finally:
            owner.dispose()
    assert tuple(held) == (False, False, True)
