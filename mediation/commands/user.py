"""Users and roles: ``user add`` / ``list`` / ``grant``."""

from typing import Annotated, Any

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled

user_app = group("Users and roles: mediator, staff, supervisor, admin.")


RolesOpt = Annotated[
    list[str], typer.Option("--role", help="mediator | staff | supervisor | admin (repeatable).")
]


def _user_line(u: Any) -> str:
    roles = "、".join(f"{r}" for r in sorted(u.roles)) or "（无角色）"
    return f"{u.login}\t{u.name}\t{roles}\t{u.organisation or '—'}"


def _groups_line(u: Any) -> str:
    if not u.login_groups:
        return ""
    return f"\n数据库登录 {u.login} 的组角色：{'、'.join(u.login_groups)}"


def _read_password() -> str:
    """The first line of standard input (the library checks it)."""
    import sys

    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("add")
@handled
def user_add(
    login: Annotated[
        str,
        typer.Argument(help="Login: the OS account (SQLite) or the database login (PostgreSQL)."),
    ],
    role: RolesOpt,
    name: Annotated[str, typer.Option(help="Full name.")] = "",
    org: Annotated[
        str | None, typer.Option("--org", help="Organisation code (required for mediators).")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="PostgreSQL: read the new database login's password from the first line "
            "of standard input (without it the server authenticates the login otherwise).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a user with one or more roles (the first admin is whoever ran `init`). On
    PostgreSQL with per-person logins set up (`db grants`), this also creates the user's
    database login, a member of its roles' group roles; run it as a login with CREATEROLE.

    Example: mediation user add zhangsan --name 张三 --role mediator --org 桥头
    """
    from mediation.reporting.output import to_json

    password = _read_password() if password_stdin else None
    with current_settings().api() as api:
        user = api.add_user(login, name=name, roles=role, organisation=org, password=password)
    if json_out:
        echo(to_json(user.as_dict()))
    else:
        echo(f"已添加用户：{_user_line(user)}{_groups_line(user)}")


@user_app.command("list")
@handled
def user_list(json_out: JsonOpt = False) -> None:
    """List users with their roles and organisation.

    Example: mediation user list --json
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        users = api.users()
    if json_out:
        echo(to_json([u.as_dict() for u in users]))
        return
    if not users:
        echo("（尚无用户：运行 mediation init 的账户成为第一位系统管理员）")
    for u in users:
        echo(_user_line(u))


@user_app.command("grant")
@handled
def user_grant(
    login: Annotated[str, typer.Argument(help="The user's login.")],
    roles: Annotated[list[str], typer.Argument(help="Roles to grant (or revoke).")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Remove the roles instead.")] = False,
    org: Annotated[str | None, typer.Option("--org", help="Move to this organisation.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Grant roles to a user (or --revoke them); recorded in the audit chain.

    Example: mediation user grant zhangsan supervisor
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        user = api.grant(login, roles, revoke=revoke, organisation=org)
    if json_out:
        echo(to_json(user.as_dict()))
    else:
        echo(f"已更新用户：{_user_line(user)}{_groups_line(user)}")
