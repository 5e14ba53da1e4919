"""The ``store`` fixture hands out copies of one migrated template (tests/conftest.py): each
copy must hold exactly what migrating an empty database and registering the ladder gives,
and on PostgreSQL the reset between tests must undo whatever a test did."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, text

from mediation.domain import intake
from mediation.engine import cases
from mediation.storage import stamps
from mediation.storage.store import Store
from tests.conftest import PG_URL, T0, _migrate_as, intake_record, pg_schema_url

#: Columns two migrations of empty databases fill differently: the time of the migration,
#: random secrets, and what follows from them (PostgreSQL's stamps, revision 0020).
VOLATILE = {
    "audit_head": {"updated_at"},
    "installation_secret": {"secret", "created_at"},
    "event": {"recorded_at", "db_mac"},
    "access_event": {"recorded_at", "db_mac"},
    "audit_mac_key": {"inner_pad", "outer_pad", "created_at"},
}


def _contents(url: str) -> dict[str, Any]:
    """Every table's rows in key order (but :data:`VOLATILE` columns), and on PostgreSQL
    every sequence's position."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        with engine.connect() as conn:
            meta.reflect(conn)
            found: dict[str, Any] = {}
            for table in meta.sorted_tables:
                skip = VOLATILE.get(table.name, set())
                columns = [c for c in table.columns if c.name not in skip]
                order = list(table.primary_key.columns) or columns
                found[table.name] = [
                    tuple(r)
                    for r in conn.execute(
                        table.select().with_only_columns(*columns).order_by(*order)
                    )
                ]
            if engine.dialect.name == "postgresql":
                found["sequences"] = sorted(
                    conn.execute(
                        text(
                            "SELECT sequencename, last_value FROM pg_sequences "
                            "WHERE schemaname = current_schema()"
                        )
                    ).all()
                )
        return found
    finally:
        engine.dispose()


@contextmanager
def _freshly_migrated(kind: str, tmp_path: Path, template: str = "store") -> Iterator[str]:
    """A database of ``kind`` migrated and filled as ``template`` the slow way, in this
    test."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        _migrate_as(template, url)
        yield url
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        _migrate_as(template, pg_schema_url(schema))
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.upgraded
def test_an_upgraded_database_holds_what_db_upgrade_gives(db_url: str, tmp_path: Path) -> None:
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with _freshly_migrated(kind, tmp_path, "upgraded") as fresh:
        expected = _contents(fresh)
    assert _contents(db_url) == expected
    assert expected["organisation"] == [] and expected["app_user"] == []
    assert expected["alembic_version"] and expected["flow_edge"]


@pytest.mark.no_runner
def test_a_store_without_runner_holds_the_ladder_and_no_user(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    store.close()
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with _freshly_migrated(kind, tmp_path, "no_runner") as fresh:
        expected = _contents(fresh)
    assert _contents(db_url) == expected
    assert len(expected["organisation"]) == 4 and expected["app_user"] == []


def test_a_store_holds_what_migrating_an_empty_database_gives(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    store.close()
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with _freshly_migrated(kind, tmp_path) as fresh:
        expected = _contents(fresh)
    assert _contents(db_url) == expected
    assert "organisation" in expected and len(expected["organisation"]) == 4


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("change", ["rows", "schema", "steps"])
def test_the_postgresql_template_is_put_back_after_a_test(
    store: Store, db_url: str, tmp_path: Path, request: pytest.FixtureRequest, change: str
) -> None:
    """Rows written (and sequences moved) are undone, the steps of the flows put back if a
    test emptied them; a changed schema is migrated anew."""
    template = request.getfixturevalue("_pg_templates").template("store")
    with _freshly_migrated("postgresql", tmp_path) as fresh:
        expected = _contents(fresh)
    cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    if change == "schema":
        with store.write() as conn:
            conn.execute(text("CREATE INDEX ix_test_extra ON party (name)"))
    if change == "steps":
        with store.write() as conn:
            conn.execute(text("DELETE FROM flow_edge"))
    store.close()
    assert _contents(db_url) != expected
    url = template.fresh()
    assert _contents(url) == expected
    # The events put back are stamped again by the server, under the key kept in place.
    restored = Store(url)
    try:
        with restored.read() as conn:
            assert stamps.check(conn) == []
            stamped = conn.execute(
                text("SELECT count(*), count(db_mac) FROM access_event WHERE NOT recorded_by_owner")
            ).one()
            assert stamped == (0, 0)  # the owner put them back
            assert conn.execute(text("SELECT count(db_mac) FROM access_event")).scalar()
    finally:
        restored.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            extra = conn.execute(
                text(
                    "SELECT count(*) FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND indexname = 'ix_test_extra'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert extra == 0
