"""Bulk intake: ``intake import``."""

from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.errors import ExitCode
from mediation.i18n import _

intake_app = group(_("从其他渠道的导出文件批量登记（CSV、Excel .xlsx 或 JSON）。"))


@intake_app.command(
    "import",
    help=_(
        "在一个事务中把导出文件的每一行作为新案件导入，要么全部导入，要么一件不导：任何一行有错都会拒绝整个文件，并写出逐行的错误报告（行、字段、问题、改法）。\n\n示例：mediation intake import 12345-weekly.csv --channel hotline --org 城关"
    ),
)
@handled
def intake_import(
    file: Annotated[
        Path,
        typer.Argument(
            help=_(
                "CSV（UTF-8 或 GBK，有表头行）、Excel .xlsx（第一张工作表，有表头行）或 JSON 记录列表。"
            )
        ),
    ],
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            help=_(
                "hotline | grid | online | court | petition | police | ...（热线、网格、网上、法院、信访、公安等）"
            ),
        ),
    ],
    org: Annotated[
        str | None, typer.Option("--org", help=_("未写调委会的行使用的调委会代码。"))
    ] = None,
    referring_organ: Annotated[
        str | None,
        typer.Option("--referring-organ", help=_("未写移送机关的行使用的移送机关。")),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help=_("错误报告写到哪里（默认 FILE.errors.csv）。")),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Import every row of an export as new cases in one transaction, or none: any bad row
    rejects the file and writes a row-level error report (row, field, problem, fix).

    Example: mediation intake import 12345-weekly.csv --channel hotline --org 城关
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        result = api.import_intake(
            file,
            channel=channel,
            org=org,
            referring_organ=referring_organ,
            report=report,
        )
    if json_out:
        echo(to_json(result))
    elif result.problems:
        typer.echo(
            f"错误：{result.rows} 行中有 {result.rejected_rows} 行有问题（共 {len(result.problems)} 处），"
            f"未导入任何数据。逐行错误报告：{result.report}",
            err=True,
        )
        for p in result.problems[:10]:
            typer.echo(f"  第 {p.row} 行 {p.field}：{p.problem}（{p.fix}）", err=True)
        if len(result.problems) > 10:
            typer.echo(f"  …… 其余 {len(result.problems) - 10} 处见报告", err=True)
    else:
        for d in result.duplicates:
            found = "、".join(f"{c['case_number']}（{c['organisation']}）" for c in d["duplicates"])
            typer.echo(
                f"注意：第 {d['row']} 行（{d['case_number']}）的当事人、纠纷类型与未结案件 {found}"
                "相同，请核实是否重复登记",
                err=True,
            )
        echo(
            f"已导入 {len(result.imported)} 件：{result.imported[0]} … {result.imported[-1]}"
            if result.imported
            else "文件中没有记录"
        )
        if result.duplicates:
            echo(
                f"其中 {len(result.duplicates)} 件可能重复登记（第 "
                + "、".join(str(d["row"]) for d in result.duplicates)
                + " 行）：确属同一纠纷的，可用 `mediation dispute merge` 合并"
            )
    if result.problems:
        raise typer.Exit(int(ExitCode.INVALID_INPUT))
