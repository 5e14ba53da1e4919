"""Shared fixtures: every storage test runs on a real SQLite file and on PostgreSQL.

PostgreSQL comes from ``MEDIATION_TEST_PG`` (default: the local server's ``test``
database). Each test gets its own schema there, dropped afterwards. Without a server the
PostgreSQL cases are skipped locally, but fail under ``CI=true``: CI must test both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mediation.domain.clock import BUSINESS_TZ
from mediation.storage.store import Store

PG_URL = os.environ.get("MEDIATION_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: A fixed moment for tests: a Monday, 2026-03-02 09:00 Beijing time.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)

_pg_problem: str | None = None


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the clock every command reads (``MEDIATION_NOW``) to :data:`T0`, so that no test
    depends on the day it runs; a test that needs another moment sets its own."""
    monkeypatch.setenv("MEDIATION_NOW", T0.isoformat())


def _pg_available() -> str | None:
    global _pg_problem
    if _pg_problem is None:
        try:
            eng = create_engine(PG_URL)
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_problem = ""
        except Exception as exc:
            _pg_problem = f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
    return _pg_problem or None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mediation.db'}"
        return
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI must run every storage test on PostgreSQL)")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated, empty store with the demo ladder of committees."""
    from mediation.engine.organisations import add_organisation

    s = Store(db_url)
    s.upgrade()
    for code, name, level, parent in (
        ("江城", "江城市人民调解委员会", "city", None),
        ("青山", "青山县人民调解委员会", "county", "江城"),
        ("城关", "城关镇人民调解委员会", "township", "青山"),
        ("桥头", "桥头村人民调解委员会", "village", "城关"),
    ):
        add_organisation(s, code=code, name=name, level=level, parent=parent, now=T0)
    yield s
    s.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def intake_record(**overrides: object) -> dict[str, object]:
    """A valid intake record (as parsed from a file), with ``overrides`` applied."""
    record: dict[str, object] = {
        "organisation": "桥头",
        "dispute_type": "neighbourhood",
        "channel": "walk_in",
        "title": "邻里通道堆放杂物纠纷",
        "summary": "张三与李四因通道堆放杂物发生争执。",
        "claims": "请求清理杂物。",
        "parties": [
            {
                "role": "applicant",
                "name": "张三",
                "gender": "male",
                "id_number": "11010519491231002X",
                "phone": "13812345678",
                "address": "浙江省江城市青山县城关镇桥头村12号",
            },
            {"role": "respondent", "name": "李四", "phone": "13987654321"},
        ],
    }
    record.update(overrides)
    return record


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table a case operation, an import or a correction writes, in key
    order: a refused or killed write must leave it equal."""
    from sqlalchemy import select

    from mediation.storage import _tables as t

    tables = (
        t.dispute_table,
        t.dispute_merge_table,
        t.party_table,
        t.proceeding_table,
        t.event_table,
        t.deadline_table,
        t.outbox_table,
        t.case_counter_table,
        t.audit_head_table,
        t.access_event_table,
    )
    with store.read() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in tables
        }
