"""Least-privilege PostgreSQL roles: the application's service login and per-person logins.

- The **owner** runs ``mediation init`` / ``db upgrade`` and imports, and owns the tables
  (row-level security does not apply to it).
- The **service** login (the application role: the scheduler, a web service that
  authenticates its users itself) gets the privileges :func:`grants_sql` writes: the
  application's tables only, never a row deleted, the history append-only (case and access
  events: insert, and set their hash-chain columns once when sealing), no DDL, never the
  key of the server's MACs (revision 0020, :mod:`mediation.storage.stamps`). A login with
  these privileges and no ``app_user`` row sees every case (revision 0015).
- **Per-person logins** (``mediation user add``: :func:`create_login`) are members of group
  roles ``<prefix>_mediator``, ``_staff``, ``_supervisor``, ``_admin``, NOLOGIN, which carry
  the same privileges except that only admins write users, organisations, calendars and
  signing keys; row-level security (revision 0015) scopes the case tables to the person's
  ``app_user`` row. :func:`grants_sql` creates the groups and records their prefix in the
  database (``mediation_login_groups()``), which ``user add`` / ``user grant`` read.

:func:`grants_sql` writes the statements from the schema itself, so a new table is covered
the day it is added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediation.storage._tables import metadata
from mediation.storage.stamps import KEY_TABLE

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: Tables the application appends to but never rewrites. Of their columns it sets only an
#: access event's hash (it covers the row's id, so it is set just after the insert); an
#: event is inserted linked, and the seal (run as the owner since revision 0015) gives
#: the positions. The service and a person's login alike.
APPEND_ONLY: dict[str, tuple[str, ...]] = {"event": (), "access_event": ("hash",)}
PERSON_APPEND_ONLY = APPEND_ONLY
#: Tables the application reads, and writes only to make a missing row, never to change
#: one: the installation's secret (mediation.storage.secret; the key of party_key) and
#: its settings (mediation.storage.settings: a training database).
WRITE_ONCE = {"installation_secret", "installation_setting"}
#: Tables only admins (and the service) write: users, organisations, calendars, keys.
ADMIN_WRITES = {"app_user", "organisation", "calendar_year", "signing_key"}
#: Tables no login but the owner writes: the chain's head is moved by the seal (as the
#: owner).
SEALED = {"audit_head"}
#: Tables every login reads and none writes: the steps of the flows, derived from the code
#: by ``db upgrade`` (run as the owner; mediation.storage.flow_edges).
READ_ONLY = {"flow_edge"}
#: The group roles of per-person logins, one per role of the program (taxonomy.ROLES).
GROUP_ROLES = ("mediator", "staff", "supervisor", "admin")
#: The default prefix of the group roles (``mediation_mediator``...).
DEFAULT_GROUPS = "mediation"


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def group_name(prefix: str, role: str) -> str:
    """The group role carrying ``role``'s privileges: ``mediation_mediator``."""
    return f"{prefix}_{role}"


def _table_grants(role: str, sch: str, *, person: str | None) -> list[str]:
    """One GRANT per table: for the service (``person`` None) or a person's group."""
    lines = []
    for table in metadata.sorted_tables:
        name = f"{sch}.{_ident(table.name)}"
        chain = (PERSON_APPEND_ONLY if person else APPEND_ONLY).get(table.name)
        if chain is not None:
            columns = f", UPDATE ({', '.join(chain)})" if chain else ""
            privileges = f"SELECT, INSERT{columns}"
        elif table.name in READ_ONLY:
            privileges = "SELECT"
        elif table.name in WRITE_ONCE:
            privileges = "SELECT, INSERT"
        elif table.name in SEALED or (person and table.name in ADMIN_WRITES and person != "admin"):
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE"
        lines.append(f"GRANT {privileges} ON {name} TO {role};")
    return lines


def _common(role: str, sch: str) -> list[str]:
    return [
        # What an earlier version granted goes first (column privileges too): the grants
        # below are all the role has. Run the whole in one transaction (psql -1).
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {sch} FROM {role};",
        f"GRANT USAGE ON SCHEMA {sch} TO {role};",
        f"GRANT SELECT ON {sch}.alembic_version TO {role};",
        # The key of the server's MACs is the owner's alone (revision 0020), whatever an
        # earlier GRANT ... ON ALL TABLES gave.
        f"REVOKE ALL ON {sch}.{KEY_TABLE} FROM {role};",
    ]


def grants_sql(app_role: str, *, schema: str = "public", groups: str = DEFAULT_GROUPS) -> str:
    """The SQL an owner runs (psql) to give ``app_role`` the application's privileges, and
    to set up the group roles of per-person logins (``<groups>_mediator``...; creating them
    needs CREATEROLE, once per server)."""
    role, sch = _ident(app_role), _ident(schema)
    seal = f"{sch}.mediation_seal(boolean)"
    lines = [
        "-- Run as the owner of the mediation tables, after `mediation db upgrade`, in one",
        "-- transaction: psql -1 -f grants.sql",
        f"REVOKE CREATE ON SCHEMA {sch} FROM PUBLIC;",
        *_common(role, sch),
        *_table_grants(role, sch, person=None),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role};",
        # Seals committed events into the database-wide chain (revisions 0008, 0015).
        f"REVOKE EXECUTE ON FUNCTION {seal} FROM PUBLIC;",
        f"GRANT EXECUTE ON FUNCTION {seal} TO {role};",
        "",
        "-- Per-person logins (`mediation user add`) are members of these group roles;",
        "-- row-level security scopes each to its user's cases.",
        "DO $$ BEGIN",
    ]
    names = [_ident(group_name(groups, r)) for r in GROUP_ROLES]
    for name in names:
        bare = name.strip('"')
        lines.append(
            f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{bare}') THEN "
            f"CREATE ROLE {name} NOLOGIN; END IF;"
        )
    lines.append("END $$;")
    for person, name in zip(GROUP_ROLES, names, strict=True):
        lines += _common(name, sch)
        lines += _table_grants(name, sch, person=person)
        lines.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {name};")
        lines.append(f"GRANT EXECUTE ON FUNCTION {seal} TO {name};")
    lines += [
        f"CREATE OR REPLACE FUNCTION {sch}.mediation_login_groups() RETURNS text",
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT '{_ident(groups).strip(chr(34))}'::text $$;",
    ]
    return "\n".join(lines) + "\n"


# -- per-person logins (mediation user add / grant) ----------------------------------------


def login_groups(conn: Connection) -> str | None:
    """The prefix of this database's group roles once ``db grants`` set them up; None
    before, and on SQLite (no logins to make)."""
    if conn.dialect.name != "postgresql":
        return None
    if conn.exec_driver_sql("SELECT to_regprocedure('mediation_login_groups()')").scalar() is None:
        return None  # a schema before revision 0015
    found = conn.exec_driver_sql("SELECT mediation_login_groups()").scalar()
    return None if found is None else str(found)


def _raw(conn: Connection, statement: object) -> None:
    """Run a composed statement (identifiers and literals quoted by psycopg) in ``conn``'s
    transaction, turning the server's refusal into a clear error."""
    from psycopg import errors

    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        raw.execute(statement)  # type: ignore[attr-defined, unused-ignore]
    except errors.InsufficientPrivilege as exc:
        from mediation.errors import PermissionDenied

        me = raw.info.user  # type: ignore[attr-defined, unused-ignore]  # the session's login
        raise PermissionDenied(
            f"数据库拒绝了这项操作：登录 {me!r} 没有创建登录或授予组角色的权限（CREATEROLE）"
            f"（{exc.diag.message_primary}）",
            hint="请以表的所有者或具有 CREATEROLE 权限的管理登录运行本命令，"
            "或请数据库管理员执行 ALTER ROLE 该登录 CREATEROLE",
        ) from None


def role_exists(conn: Connection, login: str) -> bool:
    return bool(
        conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": login}).first()
    )


def create_login(
    conn: Connection, login: str, roles: list[str], *, prefix: str, password: str | None
) -> tuple[str, ...]:
    """Make ``login`` a database login (``password`` or none: the server authenticates it
    otherwise, pg_hba.conf) that is a member of its roles' groups, in ``conn``'s
    transaction; a login that exists already is only made a member. Returns the groups."""
    from psycopg import sql

    from mediation.errors import UsageError

    if len(login.encode()) > 63:
        raise UsageError(
            f"登录名 {login!r} 超过 PostgreSQL 的 63 字节上限", hint="请用较短的登录名"
        )
    if role_exists(conn, login):
        if password is not None:
            raise UsageError(
                f"数据库登录 {login!r} 已存在，不能在此设置其密码",
                hint="去掉 --password-stdin（已有登录的密码由数据库管理员修改）",
            )
    elif password is None:
        _raw(conn, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
    else:
        _raw(
            conn,
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(login), sql.Literal(password)
            ),
        )
    return set_groups(conn, login, roles, prefix=prefix)


def set_groups(conn: Connection, login: str, roles: list[str], *, prefix: str) -> tuple[str, ...]:
    """Make ``login`` a member of exactly its ``roles``' groups; returns them."""
    from psycopg import sql

    held = tuple(group_name(prefix, r) for r in GROUP_ROLES if r in roles)
    for role in GROUP_ROLES:
        group = group_name(prefix, role)
        verb = "GRANT {} TO {}" if group in held else "REVOKE {} FROM {}"
        _raw(conn, sql.SQL(verb).format(sql.Identifier(group), sql.Identifier(login)))
    return held
