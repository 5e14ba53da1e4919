"""Settings of the installation, fixed when its database is made: ``installation_setting``.

One so far, ``training``: a training database (``mediation init --training``, ``demo``).
Only there is a pinned clock (``MEDIATION_NOW``) honoured, so that a course can replay a
case's weeks in an afternoon, and every document it renders says 「培训演示」. Elsewhere a
pinned clock is refused: it would let anyone date an event as they please.

A database becomes a training one only while it is new (no users, no cases), never
afterwards: otherwise marking it would open the way to backdating in a real one. The
row is written once (the application role on PostgreSQL may insert, not update or delete
it) and the marking is an access event in the audit chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from mediation.errors import UsageError
from mediation.storage._sql import Prepared
from mediation.storage._tables import (
    app_user_table,
    installation_setting_table,
    proceeding_table,
)

#: The setting's name, and its value when set.
TRAINING = "training"
_YES = "yes"


#: The training setting's value (read by every command that pins its clock).
_TRAINING_VALUE = Prepared(
    select(installation_setting_table.c.value).where(installation_setting_table.c.name == TRAINING)
)


def is_training(conn: Connection) -> bool:
    """Whether the database is a training database."""
    return bool(_TRAINING_VALUE(conn, {}).scalar() == _YES)


def mark_training(conn: Connection, *, actor: str, now: datetime) -> bool:
    """Make a new database (no users, no cases) a training database, in ``conn``'s write
    transaction, recorded in the chain; False when it is one already.

    :raises UsageError: (exit 2) when the database holds users or cases: a database in
        use never becomes a training one.
    """
    if is_training(conn):
        return False
    users = conn.execute(select(func.count()).select_from(app_user_table)).scalar_one()
    cases = conn.execute(select(func.count()).select_from(proceeding_table)).scalar_one()
    if users or cases:
        raise UsageError(
            "已在使用的数据库不能改为培训演示数据库（--training 只用于新建的数据库）",
            hint="培训请另建数据库：mediation --db 培训.db init --training …",
        )
    conn.execute(
        installation_setting_table.insert().values(name=TRAINING, value=_YES, created_at=now)
    )
    from mediation.storage import audit

    audit.append_access(
        conn, action="training_database", actor=actor, subject=TRAINING, detail={}, now=now
    )
    return True
