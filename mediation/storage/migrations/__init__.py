"""Alembic migrations, run from code (no alembic.ini): ``mediation db upgrade``.

Every schema change is a revision in ``versions/``; ``HEAD`` names the newest one, and a
test fails when the models and the migrated schema differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

    from mediation.storage.store import Store

#: The schema revision this version of the code needs.
HEAD = "0008"

_HERE = Path(__file__).parent


def alembic_config(store: Store) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade ``store`` to ``revision`` in one transaction; return (before, after)."""
    from alembic import command

    before = store.revision()
    cfg = alembic_config(store)
    from alembic.util import CommandError

    from mediation.errors import UsageError

    try:
        with store.write() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except CommandError as exc:
        raise UsageError(f"cannot upgrade to {revision!r}: {exc}", hint="omit --revision") from None
    return before, store.revision()
