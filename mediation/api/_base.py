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

from mediation.domain.clock import Clock
from mediation.engine.permissions import (
    Action,
    authorize,
    check_case_scope,
    record_reveal,
    require_role,
)
from mediation.errors import MediationError
from mediation.storage.refs import resolve

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mediation.engine.users import User
    from mediation.storage.store import Store


class Session:
    """A store, the acting user's login and a clock. Not thread-safe: one per request."""

    def __init__(self, store: Store, actor: str, *, clock: Clock | None = None) -> None:
        """:param store: an open :class:`~mediation.storage.store.Store`.
        :param actor: the acting user's login (recorded on every change).
        :param clock: the clock (default: the wall clock).
        """
        self.store = store
        self.actor = actor
        self.clock = clock or Clock()

    @classmethod
    def connect(
        cls,
        db: str | None,
        actor: str,
        *,
        clock: Clock | None = None,
        require_current: bool = True,
    ) -> Self:
        """Open the database ``db`` (a SQLite path or URL; ``None``: the default one).

        :raises SchemaError: (exit 7) when ``require_current`` and the schema is missing or
            out of date.
        """
        from mediation.storage.store import Store, resolve_url

        store = Store(resolve_url(db))
        if require_current:
            try:
                store.require_current()
            except MediationError:
                store.close()
                raise
        return cls(store, actor, clock=clock)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- checks -------------------------------------------------------------------------

    def _authorize(self, action: Action, conn: Connection | None = None) -> User | None:
        """The acting user, checked for ``action`` (None in set-up mode or for an action
        that touches no case data).

        :raises PermissionDenied: (exit 9) naming the role ``action`` needs.
        """
        if conn is not None:
            return authorize(conn, self.actor, action)
        with self.store.read() as read:
            return authorize(read, self.actor, action)

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
        user = authorize(conn, self.actor, action)
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
