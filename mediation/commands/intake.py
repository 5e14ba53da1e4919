"""Bulk intake: ``intake import``."""

from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.errors import ExitCode

intake_app = group("Bulk intake from other channels' exports (CSV, Excel .xlsx or JSON).")


@intake_app.command("import")
@handled
def intake_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8 or GBK, header row), Excel .xlsx (first sheet, header row) "
            "or JSON list of records."
        ),
    ],
    channel: Annotated[
        str,
        typer.Option("--channel", help="hotline | grid | online | court | petition | police | ..."),
    ],
    org: Annotated[
        str | None, typer.Option("--org", help="Committee code for rows that name none.")
    ] = None,
    referring_organ: Annotated[
        str | None,
        typer.Option("--referring-organ", help="Referring organ for rows that name none."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Where to write the error report (default FILE.errors.csv)."),
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
