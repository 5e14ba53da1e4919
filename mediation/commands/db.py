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

db_app = group("Database schema: create and upgrade.")


@handled
def init(
    org_code: Annotated[
        str | None, typer.Option(help="Also register this committee (code used in case numbers).")
    ] = None,
    org_name: Annotated[str | None, typer.Option(help="The committee's full name.")] = None,
    level: Annotated[str, typer.Option(help="village | township | county | city")] = "village",
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="More roles for the first admin (repeatable): mediator | staff | supervisor.",
        ),
    ] = None,
    training: Annotated[
        bool,
        typer.Option(
            "--training",
            help="Make a new database a training one: MEDIATION_NOW is honoured there, "
            "and every document says 培训演示.",
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


@db_app.command("upgrade")
@handled
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision (default: the newest).")] = "head",
) -> None:
    """Bring an existing database's schema up to date (safe to run at any time).

    Example: mediation --db postgresql://mediation@db/centre db upgrade
    """
    with current_settings().api(require_current=False) as api:
        done = api.upgrade(revision)
    before, after = done.before, done.after
    if before == after:
        echo(f"schema already at {after}: nothing to do")
    else:
        echo(f"schema upgraded: {before or '(empty)'} → {after}")
    echo(f"已按新规则重新计算 {len(done.recomputed)} 个期限")


@db_app.command("status")
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
            f"{data['database']}: revision {found or '(none)'}, required {required}"
            + ("" if found == required else " — run `mediation db upgrade`")
        )
    if found != required:
        raise typer.Exit(int(ExitCode.SCHEMA))


@db_app.command("grants")
@handled
def db_grants(
    role: Annotated[str, typer.Argument(help="The application's PostgreSQL login role.")],
    schema: Annotated[str, typer.Option(help="The schema holding the tables.")] = "public",
    groups: Annotated[
        str,
        typer.Option(
            "--groups",
            help="Prefix of the group roles of per-person logins (PREFIX_mediator, ...): "
            "give each database on one server its own.",
        ),
    ] = "mediation",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the SQL to this file.")
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

        raise UsageError(str(exc), hint="use a plain name: letters, digits, _") from None
    if output is None:
        echo(sql.rstrip("\n"))
    else:
        write_file(output, sql.encode("utf-8"))
        echo(f"已写入 {output}：以表的所有者身份执行 psql -f {output}")


@handled
def backup(
    file: Annotated[Path, typer.Argument(help="The new backup file (never overwritten).")],
) -> None:
    """Copy the SQLite database consistently while it is in use (PostgreSQL: pg_dump).

    Example: mediation backup /srv/backup/centre-2026-11-23.db
    """
    with current_settings().api() as api:
        pages = api.backup(file)
    echo(f"已备份到 {file}（{pages} 页）")
