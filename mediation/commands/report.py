"""Supervisors' reports: ``report overdue`` / ``due-soon`` / ``stats``."""

import io
from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import (
    check_output,
    current_settings,
    group,
    handled,
    write_csv_out,
    write_file,
    write_out,
)
from mediation.errors import ExitCode
from mediation.i18n import _

report_app = group(_("督导报表：逾期、即将届满、统计。"))


_REPORT_FORMATS = ("table", "csv", "json", "xlsx", "html", "pdf")
#: Formats that are files, never printed on a terminal.
_BINARY_FORMATS = {"xlsx": "Excel 工作簿", "pdf": "PDF"}


def _check_format(fmt: str, output: Path | None, example: str) -> None:
    """Refuse an unknown format, and a binary one without ``-o`` (exit 2), before any work."""
    from mediation.errors import UsageError

    if fmt not in _REPORT_FORMATS:
        raise UsageError(
            f"未知的输出格式 --format {fmt!r}", hint=f"可用：{'、'.join(_REPORT_FORMATS)}"
        )
    if fmt in _BINARY_FORMATS and output is None:
        raise UsageError(
            f"{_BINARY_FORMATS[fmt]}（--format {fmt}）是文件，不能显示在终端上",
            hint=f"请用 -o 指定要保存的文件，例如 -o {example}.{fmt}",
        )
    check_output(output)


def _run_report(
    *,
    title: str,
    as_of: str | None,
    within: int | None,
    org: str | None,
    level: str | None,
    mediator: str | None,
    flow: str | None,
    fmt: str,
    output: Path | None,
) -> int:
    """Write a deadline report; return its number of rows. For none, nothing is printed
    (cron mails what a job prints), except in JSON, where no rows is ``[]``: a program
    reading it gets valid JSON; a file asked for with ``-o`` is written all the same (the
    columns, no rows), so the report of a day with nothing overdue is on file too."""
    from mediation.domain.clock import parse_day
    from mediation.reporting import reports

    _check_format(fmt, output, "report")
    settings = current_settings()
    day = parse_day(as_of, "--as-of") if as_of else settings.clock.today()
    filters = reports.Filters(org=org, level=level, mediator=mediator, flow=flow)
    soon = within is not None
    with settings.api() as api:
        if fmt == "csv":
            buffer = io.StringIO()
            count = api.deadline_csv(buffer, as_of=day, filters=filters, within=within)
        else:
            rows = api.deadline_rows(as_of=day, filters=filters, within=within)
    if fmt == "csv":
        if count or output is not None:
            write_csv_out(buffer.getvalue(), output)
        return count
    if fmt == "json":
        from mediation.reporting.output import to_json

        write_out(to_json(rows), output)
        return len(rows)
    if not rows and output is None:
        return 0
    if fmt == "xlsx":
        assert output is not None
        write_file(output, reports.as_xlsx(rows, as_of=day, title=title))
    elif fmt == "html":
        write_out(reports.as_html(rows, as_of=day, title=title, remaining=soon), output)
    elif fmt == "pdf":
        assert output is not None
        write_file(output, reports.as_pdf(rows, as_of=day, title=title, remaining=soon))
    else:
        write_out(reports.as_table(rows, as_of=day, title=title, remaining=soon), output)
    return len(rows)


ReportOrg = Annotated[str | None, typer.Option("--org", help=_("只看此组织代码。"))]
ReportLevel = Annotated[
    str | None,
    typer.Option("--level", help=_("village | township | county | city（村、乡镇、县、市）")),
]
ReportMediator = Annotated[str | None, typer.Option("--mediator", help=_("只看此调解员的案件。"))]
ReportFlow = Annotated[str | None, typer.Option("--flow", help=_("只看此流程，例如 peoples。"))]
ReportFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help=_("table | csv（UTF-8 带 BOM，供 Excel）| json | xlsx（需 -o）| html | pdf（需 -o）"),
    ),
]
ReportOutput = Annotated[Path | None, typer.Option("-o", "--output", help=_("写到此文件。"))]
ReportAsOf = Annotated[str | None, typer.Option("--as-of", help=_("报表日期（默认：今天）。"))]


@report_app.command(
    "overdue",
    help=_(
        "按组织列出逾期的法定期限，含逾期天数、法律依据和责任调解员。没有逾期时不输出任何内容（给了 -o 时仍写出只有表头的文件），退出码为 0（适合 cron）。\n\n示例：mediation report overdue --format csv -o overdue.csv"
    ),
)
@handled
def report_overdue(
    as_of: ReportAsOf = None,
    org: ReportOrg = None,
    level: ReportLevel = None,
    mediator: ReportMediator = None,
    flow: ReportFlow = None,
    fmt: ReportFormat = "table",
    output: ReportOutput = None,
    fail_if_any: Annotated[
        bool, typer.Option("--fail-if-any", help=_("有任何逾期时退出码为 8（供 cron）。"))
    ] = False,
) -> None:
    """Overdue statutory deadlines by organisation, with days overdue, legal basis and the
    responsible mediator. Prints nothing and exits 0 when nothing is overdue (cron-friendly);
    a file named with -o is written all the same, with the columns and no rows.

    Example: mediation report overdue --format csv -o overdue.csv
    """
    count = _run_report(
        title="超期案件督办表",
        as_of=as_of,
        within=None,
        org=org,
        level=level,
        mediator=mediator,
        flow=flow,
        fmt=fmt,
        output=output,
    )
    if count and fail_if_any:
        raise typer.Exit(int(ExitCode.FOUND_OVERDUE))


@report_app.command(
    "due-soon",
    help=_(
        "N 日内（含今天）届满的期限；没有时不输出（给了 -o 时仍写出只有表头的文件）。\n\n示例：mediation report due-soon --within 3 --org 城关"
    ),
)
@handled
def report_due_soon(
    within: Annotated[
        int, typer.Option("--within", help=_("向后多少天，含今天。"), min=0, max=3_660)
    ] = 7,
    as_of: ReportAsOf = None,
    org: ReportOrg = None,
    level: ReportLevel = None,
    mediator: ReportMediator = None,
    flow: ReportFlow = None,
    fmt: ReportFormat = "table",
    output: ReportOutput = None,
) -> None:
    """Deadlines falling due within N days (today included); prints nothing when none.

    Example: mediation report due-soon --within 3 --org 城关
    """
    _run_report(
        title="即将到期案件提醒表",
        as_of=as_of,
        within=within,
        org=org,
        level=level,
        mediator=mediator,
        flow=flow,
        fmt=fmt,
        output=output,
    )


@report_app.command(
    "stats",
    help=_(
        "某期间内开立案件的统计：受理、调解成功（书面/口头）、调解成功率、调解不成、移交、用时、逾期率、调解成功的层级、司法确认、回访和重复纠纷；HTML 和 PDF 附图表。口径说明：docs/reference/statistics.md。\n\n示例：mediation report stats --from 2026-01-01 --to 2026-06-30 --by level --format pdf -o stats.pdf"
    ),
)
@handled
def report_stats(
    date_from: Annotated[
        str | None,
        typer.Option("--from", help=_("开立的第一天（默认：--to 所在年份的 1 月 1 日）。")),
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help=_("开立的最后一天（默认：今天）。"))
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help=_("只看此组织及其下级组织。")),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help=_("level | type | channel | mediator | month（层级、类型、渠道、调解员、月份）"),
        ),
    ] = None,
    as_of: ReportAsOf = None,
    fmt: ReportFormat = "table",
    output: ReportOutput = None,
) -> None:
    """Statistics of the cases opened in a period: received, accepted, settled (written /
    oral), settlement rate, failed, transferred, durations, overdue rate, the level that
    settled them, judicial confirmation, follow-ups and repeat disputes; HTML and PDF add
    charts. Definitions: docs/reference/statistics.md.

    Example: mediation report stats --from 2026-01-01 --to 2026-06-30 --by level --format pdf -o stats.pdf
    """
    from datetime import date

    from mediation.domain.clock import parse_day
    from mediation.reporting import stats

    _check_format(fmt, output, "stats")
    settings = current_settings()
    days: dict[str, date | None] = {
        name: parse_day(text, name) if text else None
        for name, text in (("--from", date_from), ("--to", date_to), ("--as-of", as_of))
    }
    today = days["--as-of"] or settings.clock.today()
    end = days["--to"] or today
    start = days["--from"] or date(end.year, 1, 1)
    selection = stats.Selection(start=start, end=end, as_of=today, org=org, by=by)
    with settings.api() as api:
        report = api.stats(selection)
    if fmt == "csv":
        buffer = io.StringIO()
        stats.write_csv(report, buffer)
        write_csv_out(buffer.getvalue(), output)
    elif fmt == "json":
        from mediation.reporting.output import to_json

        write_out(to_json(report.as_dict()), output)
    elif fmt == "xlsx":
        assert output is not None
        write_file(output, stats.as_xlsx(report))
    elif fmt == "html":
        write_out(stats.as_html(report), output)
    elif fmt == "pdf":
        assert output is not None
        write_file(output, stats.as_pdf(report))
    else:
        write_out(stats.as_table(report), output)
