"""Alembic environment: runs on the connection handed over by ``mediation.storage.migrations``."""

from __future__ import annotations

from alembic import context

from mediation.storage.models import metadata
from mediation.storage.stamps import in_models

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through mediation.storage.migrations
    raise RuntimeError("run migrations through `mediation db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=in_models,  # the server's stamps (revision 0020) are not in the models
)
context.run_migrations()
