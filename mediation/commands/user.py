"""Users and roles: ``user add`` / ``list`` / ``grant``."""

from typing import Annotated, Any

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.i18n import _

user_app = group(_("用户和角色：调解员、工作人员、督导人员、管理员。"))


RolesOpt = Annotated[
    list[str], typer.Option("--role", help=_("mediator | staff | supervisor | admin（可重复）。"))
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


@user_app.command(
    "add",
    help=_(
        "添加用户并授予一个或多个角色（第一位管理员是运行 `init` 的人）。在 PostgreSQL 上设置了按人登录（`db grants`）时，同时创建该用户的数据库登录名，加入其角色对应的组角色；请用具有 CREATEROLE 权限的登录名运行。\n\n示例：mediation user add zhangsan --name 张三 --role mediator --org 桥头"
    ),
)
@handled
def user_add(
    login: Annotated[
        str,
        typer.Argument(help=_("登录名：操作系统账户（SQLite）或数据库登录名（PostgreSQL）。")),
    ],
    role: RolesOpt,
    name: Annotated[str, typer.Option(help=_("姓名。"))] = "",
    org: Annotated[str | None, typer.Option("--org", help=_("组织代码（调解员必填）。"))] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help=_(
                "PostgreSQL：从标准输入的第一行读取新数据库登录名的口令（没有时由服务器以其他方式认证该登录）。"
            ),
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


@user_app.command("list", help=_("列出用户及其角色和组织。\n\n示例：mediation user list --json"))
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


@user_app.command(
    "grant",
    help=_(
        "给用户授予角色（或用 --revoke 撤销）；记入审计链。\n\n示例：mediation user grant zhangsan supervisor"
    ),
)
@handled
def user_grant(
    login: Annotated[str, typer.Argument(help=_("用户的登录名。"))],
    roles: Annotated[list[str], typer.Argument(help=_("要授予（或撤销）的角色。"))],
    revoke: Annotated[bool, typer.Option("--revoke", help=_("改为撤销这些角色。"))] = False,
    org: Annotated[str | None, typer.Option("--org", help=_("调到此组织。"))] = None,
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
