"""The generated Core tables (mediation/storage/_tables.py) match the SQLModel schema."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mediation.storage import _tables
from mediation.storage._tablegen import TARGET, render
from mediation.storage.stamps import in_models
from mediation.storage.store import Store


def test_generated_file_is_current() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "mediation/storage/_tables.py is stale: run python -m mediation.storage._tablegen --write"
    )


def test_mirror_matches_the_migrated_schema(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.upgrade()
        with store.read() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": in_models}
            )
            assert compare_metadata(ctx, _tables.metadata) == []
    finally:
        store.close()


def test_reading_commands_do_not_build_the_orm() -> None:
    code = (
        "import sys, mediation.cli, mediation.engine.queries, mediation.engine.cases, mediation.reporting.reports; "
        "mediation.cli.app; "  # the whole command tree, every command module imported
        "print(sorted(m for m in sys.modules if m.startswith(('sqlmodel', 'sqlalchemy.orm'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
