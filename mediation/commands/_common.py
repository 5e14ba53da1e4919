"""What the command modules share: the root options' :class:`Settings`, error handling,
output helpers and the ``--json`` option.

(No ``from __future__ import annotations`` in the command modules: typer would evaluate
every string annotation at start-up, ~14 ms a run.)

This module imports no command module; heavy modules (the ORM, the engine) are imported
inside the functions that need them.
"""

import functools
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from mediation.errors import MediationError

# We use no pydantic plugins; looking for them scans every installed package's entry
# points (~30 ms of every command's start-up).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

if TYPE_CHECKING:
    from mediation.domain.clock import Clock
    from mediation.engine.users import User
    from mediation.storage.store import Store


def group(help: str) -> typer.Typer:
    """A command group (``mediation case ...``) with plain help."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@dataclass
class Settings:
    """What the root options set for every command."""

    db: str | None
    actor: str
    user: "User | None" = None

    def store(self, *, require_current: bool = True) -> "Store":
        """The database, with the acting user's role checked for this command (a store
        opened with ``require_current=False`` is checked by :meth:`authorize` once its
        schema is up to date)."""
        from mediation.storage.store import Store, resolve_url

        store = Store(resolve_url(self.db))
        if require_current:
            try:
                store.require_current()
                self.authorize(store)
            except MediationError:
                store.close()
                raise
        return store

    def authorize(self, store: "Store") -> None:
        """Check the acting user may run the current command (mediation.engine.users)."""
        from mediation.engine.users import authorize

        with store.read() as conn:
            self.user = authorize(conn, self.actor, _command_name())

    def authorize_if_current(self, store: "Store") -> None:
        """:meth:`authorize` on a database already at the schema this code needs (one not
        created or not yet upgraded has no users' roles to check), creating nothing."""
        from mediation.storage.migrations import HEAD

        if store.exists() and store.revision() == HEAD:
            self.authorize(store)

    def check_case(self, store: "Store", case: str | int, *, acting: bool = False) -> None:
        """Refuse a mediator a case (number or id) outside their organisation and
        assignments; reads nothing when there is no one to refuse."""
        from mediation.engine.users import may_act_on
        from mediation.errors import PermissionDenied
        from mediation.storage._tables import proceeding_table as p
        from mediation.storage.refs import resolve

        user = self.user
        if user is None or (not acting and user.roles - {"mediator"}):
            return
        with store.read() as conn:
            pid = case if isinstance(case, int) else resolve(conn, case)[0]
            row = conn.execute(
                p.select()
                .with_only_columns(
                    p.c.case_number, p.c.organisation_id, p.c.mediator, p.c.mediators
                )
                .where(p.c.id == pid)
            ).first()
        if row is not None and not may_act_on(user, row):
            raise PermissionDenied(
                f"{row.case_number} belongs to another organisation and is not assigned to "
                f"{self.actor!r}",
                hint="ask a supervisor to reassign it, or act as its mediator",
            )

    def reveal(self, store: "Store", subject: str) -> None:
        """Allow ``--reveal`` only to permitted roles; record the reveal in the chain."""
        from mediation.engine.users import REVEAL_ROLES, record_reveal, require_role

        with store.write() as conn:
            require_role(conn, self.actor, REVEAL_ROLES, "--reveal (unmasked personal data)")
            record_reveal(
                conn,
                actor=self.actor,
                command=_command_name(),
                subject=subject,
                now=self.clock.now(),
            )

    @property
    def clock(self) -> "Clock":
        from mediation.domain.clock import clock_from_env

        return clock_from_env()


_current: Settings | None = None


def _command_name() -> str:
    """The running command as users type it: ``case show``, ``report overdue``."""
    # typer (pinned exactly) vendors click as typer._click; the context names the command.
    from typer._click.globals import get_current_context

    path = get_current_context().command_path.split()
    return " ".join(path[1:])


def set_current(settings: Settings) -> None:
    """Record the settings the root callback parsed for this invocation."""
    global _current
    _current = settings


def current_settings() -> Settings:
    """The settings the root callback parsed for this invocation."""
    return _current or Settings(db=None, actor=default_actor(None))


def default_actor(given: str | None) -> str:
    if given:
        return given
    env = os.environ.get("MEDIATION_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def handled(func: F) -> F:
    """Turn library errors into a message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MediationError as exc:
            typer.echo(f"错误：{exc.message}", err=True)
            if exc.hint:
                typer.echo(f"  → {exc.hint}", err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except Exception as exc:
            refused = database_refusal(exc)
            if refused is None:
                raise
            typer.echo(f"错误：{refused.message}", err=True)
            typer.echo(f"  → {refused.hint}", err=True)
            raise typer.Exit(int(refused.exit_code)) from None

    return wrapper  # type: ignore[return-value]


def database_refusal(exc: Exception) -> MediationError | None:
    """A database error as a message (first line only: no values, no SQL) and a hint."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
    lost = any(word in first for word in ("closed", "terminat", "lost"))
    if exc.connection_invalidated or ("connection" in first.lower() and lost):
        hint = "the database connection was lost; nothing was written — run the command again"
    elif "permission denied" in first or "must be owner" in first:
        hint = (
            "the database role lacks this privilege; schema changes run as the owner "
            "(README: Database roles)"
        )
    else:
        hint = "nothing was written (the transaction was rolled back)"
    return MediationError(f"the database refused: {first}", hint=hint)


def echo(text: str) -> None:
    typer.echo(text)


def read_data(path: Path | None, sets: list[str] | None) -> dict[str, Any]:
    from mediation.domain.intake import read_file
    from mediation.errors import FieldProblem, ValidationError

    data: dict[str, Any] = read_file(path) if path else {}
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                [FieldProblem(f"--set {item}", "应为 KEY=VALUE", "e.g. --set reason=双方分歧过大")],
                source="command line",
            )
        data[key.strip()] = value
    return data


def warn_calendar(cal: Any, today: Any) -> None:
    from mediation.domain.calendar import missing_next_year_warning

    warning = missing_next_year_warning(today, cal)
    if warning:
        typer.echo(warning, err=True)


def write_out(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    write_file(output, text.encode("utf-8"))


def write_file(output: Path, data: bytes) -> None:
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise MediationError(
            f"cannot write {output}: {exc.strerror}",
            hint="check that the folder exists and is writable",
        ) from None
