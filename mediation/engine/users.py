"""Users and their roles (who may do what: :mod:`mediation.engine.permissions`).

Four roles (taxonomy.ROLES):

- **mediator** (调解员): opens and advances cases of their own organisation, and cases
  they are assigned to anywhere;
- **staff** (工作人员): renders and signs documents;
- **supervisor** (督办/主管): reports, any organisation's cases, approving statutory
  extensions, merging disputes, verifying the audit chain;
- **admin** (系统管理员): users, organisations, calendars, keys, schema, backups, moves.

A user may hold several roles. The acting user is established by
:mod:`mediation.storage.identity` (the database login on PostgreSQL, the operating-system
account on SQLite); an admin may act for another (``--as``), recorded. Whoever runs
``mediation init`` becomes the first admin. (Anyone who can write the SQLite file can
change it anyway; on PostgreSQL the application's database role bounds what the program
itself can do — see docs/admin/postgresql.md, "Database roles".)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from mediation.domain.taxonomy import ROLES
from mediation.errors import FieldProblem, NotFoundError, UsageError, ValidationError
from mediation.i18n import _
from mediation.storage._sql import Prepared
from mediation.storage._tables import app_user_table, organisation_table

_U = app_user_table

_LOGIN = re.compile(r"^[\w.@-]{1,80}$")
#: A new database login's password (``user add --password-stdin``), like a key's passphrase.
MIN_PASSWORD_CHARS = 12


@dataclass(frozen=True)
class User:
    login: str
    name: str
    roles: frozenset[str]
    organisation_id: int | None
    organisation: str | None = None
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    #: PostgreSQL: the group roles the database login was made a member of by this
    #: ``user add`` / ``user grant`` (mediation.storage.pgroles); empty otherwise.
    login_groups: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = {
            "login": self.login,
            "name": self.name,
            "roles": sorted(self.roles),
            "organisation": self.organisation,
            "active": self.active,
        }
        if self.login_groups:
            out["login_groups"] = list(self.login_groups)
        return out


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UsageError(
            (
                _("未知角色：{roles}").format(roles="、".join(unknown))
                if unknown
                else _("没有给出角色")
            ),
            hint=_("角色可为：{roles}").format(roles="、".join(ROLES)),
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
            _("没有代码为 {code} 的组织").format(code=repr(code)),
            hint=_("用 `mediation org list` 查看组织代码"),
        )
    return int(found)


def users_exist(conn: Connection) -> bool:
    return bool(conn.execute(select(func.count()).select_from(_U)).scalar())


#: A user and their committee's code (every command's permission check reads it).
_USER = Prepared(
    select(_U, organisation_table.c.code.label("org_code"))
    .outerjoin(organisation_table, organisation_table.c.id == _U.c.organisation_id)
    .where(_U.c.login == bindparam("login")),
    typed=True,
)


def get_user(conn: Connection, login: str) -> User | None:
    row = _USER(conn, {"login": login}).first()
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
    password: str | None = None,
) -> User:
    """Add a user (an access event records it). The first user must be an admin.

    On PostgreSQL, once ``mediation db grants`` has set up the group roles, the user's
    database login is made too, in the same transaction (:func:`_database_login`)."""
    if not _LOGIN.match(login):
        raise UsageError(
            _("登录名 {login} 不可用").format(login=repr(login)),
            hint=_("登录名为 1 至 80 个字母、数字或 .、_、@、- 字符"),
        )
    wanted = _check_roles(roles)
    if not users_exist(conn) and "admin" not in wanted:
        raise UsageError(
            "第一位用户必须是系统管理员",
            hint="运行 mediation init：运行它的账户成为第一位系统管理员",
        )
    if "mediator" in wanted and organisation is None:
        raise UsageError(
            _("调解员必须属于一个调解组织（用 --org 指定）"),
            hint=_("请加上 --org CODE（见 `mediation org list`）"),
        )
    if get_user(conn, login) is not None:
        raise UsageError(
            _("用户 {login} 已存在").format(login=repr(login)),
            hint=_("要增加角色请用 mediation user grant {login} 角色").format(login=login),
        )
    groups = _database_login(conn, login, wanted, password=password)
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
    from mediation.storage import audit  # ~2 ms of start-up at module level

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
    return replace(user, login_groups=groups)


def _database_login(
    conn: Connection, login: str, roles: list[str], *, password: str | None
) -> tuple[str, ...]:
    """PostgreSQL with per-person logins set up: make ``login``'s database login, member
    of its roles' group roles (row-level security then scopes it to its cases)."""
    from mediation.storage import pgroles

    prefix = pgroles.login_groups(conn)
    if prefix is None:
        if password is not None:
            raise UsageError(
                "--password-stdin 只用于已设置个人数据库登录的 PostgreSQL 数据库",
                hint="先由表的所有者执行 mediation db grants 生成的 SQL（建立组角色）；"
                "SQLite 上用户即本机账户，没有密码",
            )
        return ()
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        problem = FieldProblem(
            "--password-stdin",
            f"密码过短（{len(password)} 个字符，至少 {MIN_PASSWORD_CHARS} 个）",
            "从标准输入读入一行：printf '%s\\n' \"$PW\" | mediation user add … --password-stdin",
        )
        raise ValidationError([problem], source="数据库登录的密码")
    return pgroles.create_login(conn, login, roles, prefix=prefix, password=password)


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
        raise NotFoundError(
            _("没有用户 {login}").format(login=repr(login)),
            hint=_("用 `mediation user list` 查看用户"),
        )
    changed = set(_check_roles(roles))
    new = sorted(user.roles - changed if revoke else user.roles | changed)
    if user.roles and "admin" in user.roles and "admin" not in new:
        others = conn.execute(select(_U.c.login, _U.c.roles).where(_U.c.login != login)).all()
        if not any("admin" in (r.roles or ()) for r in others):
            raise UsageError(_("这样将不再有任何系统管理员"), hint=_("请先把管理员角色授予他人"))
    values: dict[str, Any] = {"roles": new}
    if organisation is not None:
        values["organisation_id"] = _org_id(conn, organisation)
    conn.execute(update(_U).where(_U.c.login == login).values(**values))
    from mediation.storage import pgroles

    prefix = pgroles.login_groups(conn)
    groups: tuple[str, ...] = ()
    if prefix is not None and pgroles.role_exists(conn, login):
        groups = pgroles.set_groups(conn, login, new, prefix=prefix)
    from mediation.storage import audit  # ~2 ms of start-up at module level

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
    return replace(updated, login_groups=groups)


def list_users(conn: Connection) -> list[User]:
    logins = conn.execute(select(_U.c.login).order_by(_U.c.login)).scalars().all()
    return [u for u in (get_user(conn, login) for login in logins) if u is not None]
