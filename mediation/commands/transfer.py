"""Moving a database: ``export`` and ``import`` (root commands, registered by mediation.cli)."""

from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, handled
from mediation.i18n import N_, _

#: The help of ``mediation export``.
EXPORT_HELP = N_(
    "把整个数据库无损地写成 JSON 行：用 --reveal 时是一份迁移文件，`mediation import` 可把它载入另一个数据库（SQLite 或 PostgreSQL），用 MEDIATION_EXPORT_PASSPHRASE 中的口令签名（至少 12 个字符；导入的管理员需要同一口令）；不用时是一份遮蔽了身份证号、电话和住址的副本（不能导入）。\n\n示例：mediation export --reveal -o committee-2026-11-23.jsonl"
)


@handled
def export_db(
    fmt: Annotated[
        str, typer.Option("--format", help=_("jsonl（每行一个 JSON 对象）。"))
    ] = "jsonl",
    output: Annotated[
        str, typer.Option("-o", "--output", help=_("新文件（从不覆盖），或 - 表示标准输出。"))
    ] = "-",
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help=_("完整的个人信息，迁移时需要（记入审计链）。"),
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write the whole database as JSON lines, losslessly: with --reveal, a move that
    `mediation import` loads into another database (SQLite or PostgreSQL), signed with the
    passphrase in MEDIATION_EXPORT_PASSPHRASE (at least 12 characters; the importing admin
    needs the same one); without it, a copy with ID and phone numbers and addresses masked
    (which cannot be imported).

    Example: mediation export --reveal -o committee-2026-11-23.jsonl
    """
    from mediation.errors import UsageError
    from mediation.reporting.output import to_json

    if fmt != "jsonl":
        raise UsageError(
            _("没有导出格式 {fmt}").format(fmt=repr(fmt)), hint=_("请用 --format jsonl")
        )
    with current_settings().api() as api:
        out = typer.get_binary_stream("stdout") if output == "-" else Path(output)
        summary = api.export(out, reveal=reveal)
    masked = "（个人信息已遮蔽，不能用于迁移）" if summary.masked else "（已签名）"
    tables = sum(1 for n in summary.counts.values() if n)
    where = "标准输出" if output == "-" else output
    text = f"已导出 {summary.rows} 行（{tables} 张表）到 {where}{masked}"
    # Written to stdout, the export is the output: the summary goes to stderr.
    typer.echo(to_json(summary) if json_out else text, err=output == "-")


#: The help of ``mediation import``.
IMPORT_HELP = N_(
    "在一个事务中把导出文件载入结构版本相同的新空数据库：每行连同其 id，提交前核验审计链。文件的签名须与 MEDIATION_EXPORT_PASSPHRASE 中的口令（导出时所用的口令）相符：被改动的文件被拒绝（退出码 3），不写入任何数据。\n\n示例：mediation --db postgresql://mediation@dbhost/centre import committee-2026-11-23.jsonl"
)


@handled
def import_db(
    file: Annotated[
        str,
        typer.Argument(help=_("由 `mediation export --reveal` 写出的文件，或 - 表示标准输入。")),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Load an export into a new, empty database at the same schema revision, in one
    transaction: every row with its id, the audit chains verified before commit. The
    file's signature must match the passphrase in MEDIATION_EXPORT_PASSPHRASE (the one it
    was exported with): an edited file is refused (exit 3), nothing written.

    Example: mediation --db postgresql://mediation@dbhost/centre import committee-2026-11-23.jsonl
    """
    from mediation.reporting.output import to_json

    with current_settings().api(require_current=False) as api:
        source = typer.get_binary_stream("stdin") if file == "-" else Path(file)
        summary = api.import_(source)
        where = api.store.display_url
    if json_out:
        echo(to_json(summary))
        return
    tables = sum(1 for n in summary.counts.values() if n)
    echo(
        f"已导入 {summary.rows} 行（{tables} 张表）到 {where}；审计链校验通过"
        f"（{summary.head_seq} 条，链头 {summary.head_hash[:12]}…）"
    )
