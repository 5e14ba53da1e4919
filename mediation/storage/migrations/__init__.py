"""Alembic migrations, run from code (no alembic.ini): ``mediation db upgrade``.

Every schema change is a revision in ``versions/``; ``HEAD`` names the newest one, and a
test fails when the models and the migrated schema differ.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text

from mediation.i18n import _
from mediation.storage._sql import Prepared

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection


class Migratable(Protocol):
    """What migrating needs of a database: its URL, its current revision and a write
    transaction (:class:`mediation.storage.store.Store` is one; this module does not import
    it, the store imports this module)."""

    @property
    def url(self) -> str: ...

    def revision(self) -> str | None: ...

    def write(self) -> AbstractContextManager[Connection]: ...

    def migrating(self) -> AbstractContextManager[Connection]: ...


#: The schema revision this version of the code needs.
HEAD = "0020"

_HERE = Path(__file__).parent


def alembic_config(store: Migratable) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def upgrade(store: Migratable, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade ``store`` to ``revision`` in one transaction; return (before, after)."""
    from alembic import command

    before = store.revision()
    cfg = alembic_config(store)
    from alembic.util import CommandError

    from mediation.errors import UsageError

    try:
        with store.migrating() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            if stored_revision(conn) == HEAD:
                # The steps of the flows as this version's code has them (the trigger on
                # `event` refuses others): an update may change the flows, not the schema.
                from mediation.storage.flow_edges import refresh

                refresh(conn)
    except CommandError as exc:
        raise UsageError(
            _("无法升级到 {revision}：{why}").format(revision=repr(revision), why=exc),
            hint=_("请去掉 --revision"),
        ) from None
    return before, store.revision()


def stored_revision(conn: Connection) -> str | None:
    """The revision in ``alembic_version``, read in ``conn``'s transaction (a plain query:
    schema reflection would cost the command line a slow import). Raises the driver's error
    when the table is missing (an empty database)."""
    found: str | None = _REVISION(conn, {}).scalar()
    return found


_REVISION = Prepared(text("SELECT version_num FROM alembic_version"))


def downgrade(store: Migratable, revision: str) -> None:
    """Take ``store`` back to ``revision`` in one transaction (tests and recovery)."""
    from alembic import command

    cfg = alembic_config(store)
    with store.migrating() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
