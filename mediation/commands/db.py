"""Database commands: ``init``, ``db upgrade`` / ``status`` / ``grants``, ``backup``."""

from pathlib import Path
from typing import Annotated, Any

import typer

from mediation.commands._common import (
    JsonOpt,
    current_settings,
    echo,
    group,
    handled,
    write_file,
)
from mediation.errors import ExitCode
from mediation.i18n import N_, _

db_app = group(_("数据库结构：创建和升级。"))


#: The help of ``mediation init``.
INIT_HELP = N_(
    "创建数据库（或升级到最新），可同时登记第一个调委会。在新数据库上运行它的人成为第一位管理员（SQLite 上是操作系统账户，PostgreSQL 上是数据库登录名）。\n\n示例：mediation init --org-code 桥头 --org-name 桥头村人民调解委员会 --role mediator"
)


@handled
def init(
    org_code: Annotated[
        str | None, typer.Option(help=_("同时登记此调委会（代码用于案件编号）。"))
    ] = None,
    org_name: Annotated[str | None, typer.Option(help=_("调委会全称。"))] = None,
    level: Annotated[
        str, typer.Option(help=_("village | township | county | city（村、乡镇、县、市）"))
    ] = "village",
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help=_("第一位管理员的其他角色（可重复）：mediator | staff | supervisor。"),
        ),
    ] = None,
    training: Annotated[
        bool,
        typer.Option(
            "--training",
            help=_("把新数据库设为培训库：其中 MEDIATION_NOW 生效，每份文书都标明“培训演示”。"),
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Create the database (or bring it up to date), optionally with a first committee.
    Whoever runs it on a new database becomes its first admin (the OS account on SQLite,
    the database login on PostgreSQL).

    Example: mediation init --org-code 桥头 --org-name 桥头村人民调解委员会 --role mediator
    """
    from mediation.reporting.output import to_json

    with current_settings().api(require_current=False) as api:
        done = api.init(
            org_code=org_code,
            org_name=org_name,
            level=level,
            roles=role or (),
            training=training,
        )
    result: dict[str, Any] = {
        "database": done.database,
        "revision_before": done.revision_before,
        "revision": done.revision,
        "first_admin": done.first_admin,
        "training": done.training,
    }
    if org_code:
        result["organisation"] = done.organisation
    if json_out:
        echo(to_json(result))
        return
    echo(f"数据库已就绪：{result['database']}（schema {done.revision}）")
    if org_code:
        echo(f"已登记调委会：{org_code}")
    if done.first_admin:
        echo(f"第一位系统管理员：{done.first_admin}（添加其他用户：mediation user add）")
    if done.training:
        echo("培训演示数据库：可用 MEDIATION_NOW 指定时间，生成的文书均标注「培训演示」")


@db_app.command(
    "upgrade",
    help=_(
        "把现有数据库的结构升级到最新（随时可安全运行）。\n\n示例：mediation --db postgresql://mediation@db/centre db upgrade"
    ),
)
@handled
def db_upgrade(
    revision: Annotated[str, typer.Option(help=_("目标版本（默认：最新）。"))] = "head",
) -> None:
    """Bring an existing database's schema up to date (safe to run at any time).

    Example: mediation --db postgresql://mediation@db/centre db upgrade
    """
    with current_settings().api(require_current=False) as api:
        done = api.upgrade(revision)
    before, after = done.before, done.after
    if before == after:
        echo(_("数据库结构已是 {after}，无需升级").format(after=after))
    else:
        echo(
            _("数据库结构已升级：{before} → {after}").format(
                before=before or _("（空）"), after=after
            )
        )
    echo(f"已按新规则重新计算 {len(done.recomputed)} 个期限")


@db_app.command(
    "status",
    help=_(
        "显示数据库 URL 及其结构版本与本版本所需版本的对比；结构缺失或过期，或 SQLite 文件不存在时退出码为 7（这里从不创建文件）。\n\n示例：mediation db status"
    ),
)
@handled
def db_status(json_out: JsonOpt = False) -> None:
    """Show the database URL and its schema revision against the one this version needs;
    exits 7 when the schema is missing or out of date, or the SQLite file does not exist
    (it is never created here).

    Example: mediation db status
    """
    from mediation.reporting.output import to_json

    with current_settings().api(require_current=False) as api:
        data = api.status().as_dict()
        missing = api.store.missing_file()
    found, required = data["revision"], data["required"]
    if json_out:
        echo(to_json(data))
    if missing is not None:
        raise missing
    if not json_out:
        echo(
            _("{database}：结构版本 {found}，本程序需要 {required}").format(
                database=data["database"], found=found or _("（无）"), required=required
            )
            + ("" if found == required else _("——请运行 mediation db upgrade"))
        )
    if found != required:
        raise typer.Exit(int(ExitCode.SCHEMA))


@db_app.command(
    "grants",
    help=_(
        "输出给 PostgreSQL 角色最小权限的 SQL：只能访问本应用的表，不能 DELETE，历史只能追加，不能执行 DDL；并建立按人登录（`user add`）所加入的组角色（请以所有者身份、具有 CREATEROLE 权限用 psql 运行）。\n\n示例：mediation db grants mediation_app --schema public"
    ),
)
@handled
def db_grants(
    role: Annotated[str, typer.Argument(help=_("应用程序的 PostgreSQL 登录角色。"))],
    schema: Annotated[str, typer.Option(help=_("存放数据表的 schema。"))] = "public",
    groups: Annotated[
        str,
        typer.Option(
            "--groups",
            help=_(
                "按人登录的组角色前缀（PREFIX_mediator 等）：同一服务器上的每个数据库各用一个。"
            ),
        ),
    ] = "mediation",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help=_("把 SQL 写到此文件。"))
    ] = None,
) -> None:
    """Print the SQL giving a PostgreSQL role least privilege: the application's tables
    only, no DELETE, history append-only, no DDL; and setting up the group roles that
    per-person logins (`user add`) join (run it with psql as the owner, with CREATEROLE).

    Example: mediation db grants mediation_app --schema public
    """
    from mediation.storage.pgroles import grants_sql

    try:
        sql = grants_sql(role, schema=schema, groups=groups)
    except ValueError as exc:
        from mediation.errors import UsageError

        raise UsageError(str(exc), hint=_("请用简单的名称：字母、数字和下划线")) from None
    if output is None:
        echo(sql.rstrip("\n"))
    else:
        write_file(output, sql.encode("utf-8"))
        echo(f"已写入 {output}：以表的所有者身份执行 psql -f {output}")


#: The help of ``mediation backup``.
BACKUP_HELP = N_(
    "在使用中一致地复制 SQLite 数据库（PostgreSQL 请用 pg_dump）。\n\n示例：mediation backup /srv/backup/centre-2026-11-23.db"
)


@handled
def backup(
    file: Annotated[Path, typer.Argument(help=_("新的备份文件（从不覆盖）。"))],
) -> None:
    """Copy the SQLite database consistently while it is in use (PostgreSQL: pg_dump).

    Example: mediation backup /srv/backup/centre-2026-11-23.db
    """
    with current_settings().api() as api:
        pages = api.backup(file)
    echo(f"已备份到 {file}（{pages} 页）")
