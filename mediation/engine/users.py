"""Users, their roles, and what each command needs.

Four roles (taxonomy.ROLES):

- **mediator** (调解员): opens and advances cases of their own organisation, and cases
  they are assigned to anywhere;
- **staff** (工作人员): renders and signs documents;
- **supervisor** (督办/主管): reports, any organisation's cases, approving statutory
  extensions, merging disputes, verifying the audit chain;
- **admin** (系统管理员): users, organisations, calendars, keys, schema, backups, moves.

A user may hold several roles. The acting user is ``--as`` / ``MEDIATION_USER`` / the OS
login. **Set-up mode:** until the first user is added, a database has nobody to check
against and every command is allowed; the first user added must be an admin, and from
then on every command checks the acting user's roles. (Anyone who can write the SQLite
file can change it anyway; on PostgreSQL the application's database role bounds what the
program itself can do — see docs/admin/postgresql.md, "Database roles".)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from mediation.domain.taxonomy import ROLES
from mediation.errors import NotFoundError, PermissionDenied, UsageError
from mediation.storage import audit
from mediation.storage._tables import app_user_table, organisation_table

_U = app_user_table

#: Who may run each command (``None``: touches no case data, anyone may). A test checks
#: that every command of the CLI is listed here.
COMMAND_ROLES: dict[str, frozenset[str] | None] = {}


def _allow(roles: str, *commands: str) -> None:
    allowed = frozenset(roles.split()) if roles else None
    for command in commands:
        COMMAND_ROLES[command] = allowed


_ANY = "mediator staff supervisor admin"
_allow("admin", "init", "db upgrade", "backup", "import", "demo")
_allow("admin", "org add", "org set-period", "calendar load", "keys init", "keys import")
_allow("admin", "user add", "user list", "user grant")
_allow(_ANY, "org list", "calendar show", "keys list")
_allow("", "db status")  # the URL and the schema revision: no case data
_allow("mediator supervisor", "case open", "case advance", "case amend-party", "intake import")
_allow(_ANY, "case list", "case show", "case history", "case next", "dispute show")
_allow("supervisor", "dispute merge", "dispute split", "case reassign")
_allow("supervisor", "report overdue", "report due-soon", "report stats", "scheduler run")
_allow("supervisor admin", "audit verify", "export")
_allow("staff", "doc render", "doc render-all", "doc sign")
_allow("staff mediator", "doc record-signature")
_allow("", "workflow list", "workflow show", "deadline compute", "doc verify", "db grants")

#: Roles allowed to reveal personal data (``--reveal``); each reveal is an access event.
REVEAL_ROLES = frozenset({"supervisor", "admin"})

_LOGIN = re.compile(r"^[\w.@-]{1,80}$")


@dataclass(frozen=True)
class User:
    login: str
    name: str
    roles: frozenset[str]
    organisation_id: int | None
    organisation: str | None = None
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "name": self.name,
            "roles": sorted(self.roles),
            "organisation": self.organisation,
            "active": self.active,
        }


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UsageError(
            f"unknown role {', '.join(unknown)}" if unknown else "no role given",
            hint=f"roles are: {', '.join(ROLES)}",
        )
    return sorted(set(roles))


def _org_id(conn: Connection, code: str | None) -> int | None:
    if code is None:
        return None
    found = conn.execute(
        select(organisation_table.c.id).where(organisation_table.c.code == code)
    ).scalar()
    if found is None:
        raise NotFoundError(
            f"no organisation {code!r}", hint="see `mediation org list` for the codes"
        )
    return int(found)


def users_exist(conn: Connection) -> bool:
    return bool(conn.execute(select(func.count()).select_from(_U)).scalar())


def get_user(conn: Connection, login: str) -> User | None:
    row = conn.execute(
        select(_U, organisation_table.c.code.label("org_code"))
        .outerjoin(organisation_table, organisation_table.c.id == _U.c.organisation_id)
        .where(_U.c.login == login)
    ).first()
    if row is None:
        return None
    return User(
        login=row.login,
        name=row.name,
        roles=frozenset(row.roles or ()),
        organisation_id=row.organisation_id,
        organisation=row.org_code,
        active=bool(row.active),
    )


def add_user(
    conn: Connection,
    login: str,
    *,
    name: str,
    roles: list[str],
    organisation: str | None,
    actor: str,
    now: datetime,
) -> User:
    """Add a user (an access event records it). The first user must be an admin."""
    if not _LOGIN.match(login):
        raise UsageError(
            f"login {login!r} is not usable",
            hint="1-80 letters, digits, '.', '_', '@' or '-'",
        )
    wanted = _check_roles(roles)
    if not users_exist(conn) and "admin" not in wanted:
        raise UsageError(
            "the first user must be an admin (until then every command is allowed)",
            hint=f"mediation user add {login} --role admin",
        )
    if "mediator" in wanted and organisation is None:
        raise UsageError(
            "a mediator belongs to an organisation", hint="add --org CODE (see `org list`)"
        )
    if get_user(conn, login) is not None:
        raise UsageError(
            f"user {login!r} exists", hint=f"mediation user grant {login} ROLE to add a role"
        )
    conn.execute(
        insert(_U).values(
            login=login,
            name=name or login,
            roles=wanted,
            organisation_id=_org_id(conn, organisation),
            active=True,
            created_at=now,
        )
    )
    audit.append_access(
        conn,
        action="user_add",
        actor=actor,
        subject=login,
        detail={"roles": wanted, "organisation": organisation},
        now=now,
    )
    user = get_user(conn, login)
    assert user is not None
    return user


def grant(
    conn: Connection,
    login: str,
    roles: list[str],
    *,
    revoke: bool,
    organisation: str | None,
    actor: str,
    now: datetime,
) -> User:
    """Add (or with ``revoke`` remove) roles; optionally move the user to an organisation."""
    user = get_user(conn, login)
    if user is None:
        raise NotFoundError(f"no user {login!r}", hint="see `mediation user list`")
    changed = set(_check_roles(roles))
    new = sorted(user.roles - changed if revoke else user.roles | changed)
    if user.roles and "admin" in user.roles and "admin" not in new:
        others = conn.execute(select(_U.c.login, _U.c.roles).where(_U.c.login != login)).all()
        if not any("admin" in (r.roles or ()) for r in others):
            raise UsageError("this would leave no admin", hint="grant admin to someone else first")
    values: dict[str, Any] = {"roles": new}
    if organisation is not None:
        values["organisation_id"] = _org_id(conn, organisation)
    conn.execute(update(_U).where(_U.c.login == login).values(**values))
    audit.append_access(
        conn,
        action="user_revoke" if revoke else "user_grant",
        actor=actor,
        subject=login,
        detail={"roles": sorted(changed), "now": new, "organisation": organisation},
        now=now,
    )
    updated = get_user(conn, login)
    assert updated is not None
    return updated


def list_users(conn: Connection) -> list[User]:
    logins = conn.execute(select(_U.c.login).order_by(_U.c.login)).scalars().all()
    return [u for u in (get_user(conn, login) for login in logins) if u is not None]


def _role_names(roles: frozenset[str]) -> str:
    return " or ".join(f"{r} ({ROLES[r]})" for r in sorted(roles))


def authorize(conn: Connection, login: str, command: str) -> User | None:
    """The acting user if they may run ``command``; None in set-up mode or for commands
    that touch no case data.

    :raises PermissionDenied: naming the role the command needs.
    """
    if command not in COMMAND_ROLES:
        raise PermissionDenied(
            f"no permission is declared for `{command}`",
            hint="this is a bug: add the command to mediation.engine.users.COMMAND_ROLES",
        )
    needed = COMMAND_ROLES[command]
    if needed is None or not users_exist(conn):
        return None
    user = get_user(conn, login)
    if user is None or not user.active:
        raise PermissionDenied(
            f"`{command}` needs the role {_role_names(needed)}; {login!r} is not a user here",
            hint="act as a user with --as LOGIN, or ask an admin: mediation user add",
        )
    if not user.roles & needed:
        raise PermissionDenied(
            f"`{command}` needs the role {_role_names(needed)}; {login!r} has "
            f"{', '.join(sorted(user.roles)) or 'no role'}",
            hint=f"ask an admin: mediation user grant {login} {sorted(needed)[0]}",
        )
    return user


def require_role(conn: Connection, login: str, roles: frozenset[str], what: str) -> None:
    """Refuse ``what`` unless ``login`` holds one of ``roles`` (set-up mode allows it)."""
    if not users_exist(conn):
        return
    user = get_user(conn, login)
    if user is None or not user.roles & roles:
        raise PermissionDenied(
            f"{what} needs the role {_role_names(roles)}",
            hint=f"ask an admin: mediation user grant {login} {sorted(roles)[0]}",
        )


def may_act_on(user: User | None, proceeding: Any) -> bool:
    """Whether ``user`` may act on a case: supervisors anywhere; mediators on their
    organisation's cases and the cases they are assigned to."""
    if user is None or "supervisor" in user.roles:
        return True
    if user.organisation_id == proceeding.organisation_id:
        return True
    assigned = {proceeding.mediator, *(proceeding.mediators or ())}
    return user.login in assigned or user.name in assigned


def record_reveal(
    conn: Connection, *, actor: str, command: str, subject: str, now: datetime
) -> None:
    """A reveal of personal data, as an access event in the chain."""
    audit.append_access(
        conn,
        action="reveal",
        actor=actor,
        subject=subject[:200],
        detail={"command": command},
        now=now,
    )
