"""The session every API call runs in: one store, one acting user, one clock.

Each public method of :class:`mediation.api.Mediation` names its :class:`Action`; the
session checks the acting user's roles for it (:meth:`Session._authorize`) and, for an
action on one case, the case's scope (:meth:`Session._scope`), inside the transaction
that then does the work, so a check and the change it allows are one moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from mediation.domain.clock import Clock, PinnedClock
from mediation.engine.permissions import (
    Action,
    authorize,
    check_case_scope,
    record_reveal,
    require_role,
)
from mediation.storage.refs import resolve

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mediation.engine.users import User
    from mediation.storage.store import Store


#: Actions that neither record a time nor decide by one: a pinned clock does not matter.
CLOCK_FREE = frozenset({Action.AUDIT_VERIFY, Action.IMPORT})


class Session:
    """A store, the acting user's login and a clock. Not thread-safe: one per request."""

    def __init__(
        self,
        store: Store,
        actor: str,
        *,
        clock: Clock | None = None,
        acting_admin: str | None = None,
    ) -> None:
        """A session for ``actor``, whom the caller vouches for: a service that
        authenticates its users itself (a web server's login) constructs one per request.
        The command line uses :meth:`connect`, which establishes the actor itself.

        :param store: an open :class:`~mediation.storage.store.Store`.
        :param actor: the acting user's login (their roles apply; recorded on every change).
        :param clock: the clock (default: the wall clock).
        :param acting_admin: the admin acting for ``actor`` (support): checked to be an
            active admin and recorded in the chain with every action.
        """
        self.store = store
        self.actor = actor
        self.clock = clock or Clock()
        self.acting_admin = acting_admin
        self._training_checked = False

    @classmethod
    def connect(
        cls,
        db: str | None,
        *,
        acting_for: str | None = None,
        clock: Clock | None = None,
        require_current: bool = True,
    ) -> Self:
        """Open the database ``db`` (a SQLite path or URL; ``None``: the default one),
        acting as the login the caller cannot fake (:mod:`mediation.storage.identity`: the
        database login on PostgreSQL, the operating-system account on SQLite).

        :param acting_for: act for this user instead (``--as``): only an admin may, and
            every action is recorded as the admin's, for that user.
        :raises SchemaError: (exit 7) when ``require_current`` and the schema is missing or
            out of date.
        """
        from mediation.storage.store import Store, resolve_url

        store = Store(resolve_url(db))
        try:
            login = store.current_login() if require_current else store.login()
        except BaseException:
            store.close()
            raise
        if acting_for and acting_for != login:
            return cls(store, acting_for, clock=clock, acting_admin=login)
        return cls(store, login, clock=clock)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- checks -------------------------------------------------------------------------

    def _authorize(self, action: Action, conn: Connection | None = None) -> User | None:
        """The acting user, checked for ``action`` (None for an action that touches no
        case data, or one that may run before the first user exists).

        :raises PermissionDenied: (exit 9) naming the role ``action`` needs.
        """
        if conn is not None:
            self._check_acting_admin(action, conn)
            user = authorize(conn, self.actor, action)
            self._check_clock(action, conn)
            return user
        with self.store.read() as read:
            self._check_acting_admin(action, read)
            user = authorize(read, self.actor, action)
            self._check_clock(action, read)
            return user

    def _check_clock(self, action: Action, conn: Connection) -> None:
        """Refuse a clock the user pinned (``MEDIATION_NOW``) unless the database is a
        training database: elsewhere it would date the record as the user pleases. (Not
        for the actions that neither record a time nor decide by one: :data:`CLOCK_FREE`.)"""
        if (
            not isinstance(self.clock, PinnedClock)
            or self._training_checked
            or action in CLOCK_FREE
        ):
            return
        from mediation.storage.settings import is_training

        if not is_training(conn):
            raise_pinned_clock_refused()
        self._training_checked = True

    def _check_acting_admin(self, action: Action, conn: Connection) -> None:
        """With ``--as``: refuse unless the real login is an active admin, and record that
        it acted for :attr:`actor`: in ``conn``'s transaction when it writes (the record
        stands or falls with the action), else in a transaction of its own on a second
        connection (a read stays a read, and the attempt is on record either way)."""
        if self.acting_admin is None:
            return
        from mediation.engine.permissions import record_acting_for

        now = self.clock.now()
        if conn.get_execution_options().get("mediation_write"):
            record_acting_for(
                conn, admin=self.acting_admin, actor=self.actor, action=action, now=now
            )
            return
        from mediation.storage.store import Store

        with Store(self.store.url) as second, second.write() as write:
            record_acting_for(
                write, admin=self.acting_admin, actor=self.actor, action=action, now=now
            )

    def _require(self, conn: Connection, action: Action) -> None:
        """A second permission within one action (``--reveal`` on an export)."""
        from mediation.engine.permissions import ROLES_FOR

        roles = ROLES_FOR[action]
        if roles is not None:
            require_role(conn, self.actor, roles, action.label)

    def _case(
        self,
        conn: Connection,
        action: Action,
        ref: str | int,
        *,
        acting: bool = False,
    ) -> int:
        """Authorise ``action`` on case ``ref`` (number or id) and return its id.

        :raises NotFoundError: (exit 4) when there is no such case.
        :raises PermissionDenied: (exit 9) outside the user's roles or scope.
        """
        user = self._authorize(action, conn)
        pid = resolve(conn, ref)[0]
        check_case_scope(conn, user, pid, acting=acting)
        return pid

    def _reveal(
        self, conn: Connection, action: Action, subject: str, *, cases: list[int] | None = None
    ) -> None:
        """Allow unmasked personal data only to permitted roles, or to a mediator for the
        ``cases`` assigned to them; record the reveal in the chain."""
        from mediation.engine.permissions import may_reveal, scope_row
        from mediation.engine.users import get_user

        user = get_user(conn, self.actor)
        if not cases or not any(may_reveal(user, scope_row(conn, pid)) for pid in cases):
            self._require(conn, Action.REVEAL)
        record_reveal(
            conn, actor=self.actor, command=action.value, subject=subject, now=self.clock.now()
        )

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self.store.write() as conn:
            yield conn


def raise_pinned_clock_refused() -> None:
    """:raises PermissionDenied: (exit 9) a pinned clock on a database that is not a
    training one."""
    from mediation.errors import PermissionDenied

    raise PermissionDenied(
        "MEDIATION_NOW（指定时间）只能用于培训演示数据库：正式数据库的记录时间以本机时钟为准",
        hint="取消设置 MEDIATION_NOW；补记已发生的步骤请用 --at 写明实际时间。"
        "培训请另建数据库：mediation --db 培训.db init --training",
    )
