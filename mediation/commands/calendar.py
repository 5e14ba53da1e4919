"""Holiday calendar and statutory periods: ``calendar load`` / ``show``, ``deadline compute``."""

from pathlib import Path
from typing import Annotated, Any

import typer

from mediation.commands._common import (
    JsonOpt,
    current_settings,
    echo,
    group,
    handled,
    warn_calendar,
)
from mediation.i18n import _

calendar_app = group(_("节假日日历：载入和查看年份。"))
deadline_app = group(_("法定期间：计算届满日。"))


@calendar_app.command(
    "load",
    help=_(
        "载入一年的节假日日历，并重新计算暂定期限（一个事务）。\n\n示例：mediation calendar load data/holidays/2026.toml"
    ),
)
@handled
def calendar_load(
    file: Annotated[
        Path,
        typer.Argument(help=_("年度日历文件（TOML 或 JSON），格式同 data/holidays/2026.toml。")),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Load a year's holiday calendar and recompute provisional deadlines (one transaction).

    Example: mediation calendar load data/holidays/2027.toml
    """
    from mediation.domain.calendar import read_year_file
    from mediation.reporting.output import to_json

    year = read_year_file(file)
    with current_settings().api() as api:
        result = api.load_calendar(year)
    if json_out:
        echo(to_json(result.as_dict()))
        return
    verb = "已更新" if result.replaced else "已载入"
    echo(
        f"{verb} {year.year} 年节假日安排（{len(year.holidays)} 天放假，{len(year.workdays)} 天调休上班）"
    )
    echo(f"重新计算的期限：{len(result.recomputed)} 件")
    for r in result.recomputed:
        echo(f"  {r['case_number']} {r['kind']}：{r['previous_due']} → {r['due']}")


@calendar_app.command(
    "show",
    help=_(
        "显示一年中工作日的节假日和周末调休上班日，以及其来源。\n\n示例：mediation calendar show 2026"
    ),
)
@handled
def calendar_show(
    year: Annotated[int, typer.Argument(help=_("年份，例如 2026。"), min=1949, max=2200)],
    json_out: JsonOpt = False,
) -> None:
    """Show a year's weekday holidays and weekend working days, and where they come from.

    Example: mediation calendar show 2026
    """
    from mediation.api.admin_results import CalendarYear
    from mediation.domain.calendar import default_calendar
    from mediation.errors import SchemaError
    from mediation.reporting.output import to_json

    try:
        with current_settings().api() as api:
            shown = api.calendar_year(year)
    except SchemaError:  # no database: the package's calendar alone
        shown = CalendarYear.of(default_calendar().year_view(year))
    if json_out:
        echo(to_json(shown.as_dict()))
        return
    source = {
        "loaded": "已载入的数据文件",
        "package": "chinesecalendar 软件包",
        "provisional": "暂定（仅周末及固定节日）",
    }
    echo(f"{year} 年：{source[shown.source]} {shown.document}".rstrip())
    echo("工作日放假：" + (" ".join(d.isoformat() for d in shown.weekday_holidays) or "无"))
    echo("周末调休上班：" + (" ".join(d.isoformat() for d in shown.weekend_workdays) or "无"))


def _calendar_for_settings() -> Any:
    """The database's calendar when there is a database, else the package's alone."""
    from mediation.domain.calendar import default_calendar
    from mediation.errors import SchemaError

    try:
        api = current_settings().api()
    except SchemaError:
        return default_calendar()
    with api:
        return api.working_calendar()


@deadline_app.command(
    "compute",
    help=_(
        "按引擎的同一规则计算届满日（起算日不计入，月末对齐，最后一日为休息日的顺延至下一个工作日，计入调休）。\n\n示例：mediation deadline compute 2026-01-30 --months 1 --json"
    ),
)
@handled
def deadline_compute(
    start: Annotated[
        str, typer.Argument(help=_("引起期间开始的事件日期（YYYY-MM-DD），不计入期间。"))
    ],
    days: Annotated[int | None, typer.Option("--days", help=_("N 日。"), min=0, max=36_600)] = None,
    working_days: Annotated[
        int | None,
        typer.Option("--working-days", help=_("N 个工作日。"), min=0, max=10_000),
    ] = None,
    months: Annotated[
        int | None, typer.Option("--months", help=_("N 个月。"), min=0, max=1_200)
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Compute a due date with exactly the engine's rules (start day not counted, month-end
    clamping, a last rest day rolls to the next working day, 调休 counted).

    Example: mediation deadline compute 2026-01-30 --months 1 --json
    """
    from mediation.domain.clock import parse_day
    from mediation.engine.deadlines import compute
    from mediation.reporting.output import to_json

    start_date = parse_day(start, "START")
    cal = _calendar_for_settings()
    result = compute(start_date, days=days, working_days=working_days, months=months, cal=cal)
    warn_calendar(cal, current_settings().clock.today())
    if json_out:
        echo(to_json({"due": result["due"], "provisional": result["provisional"]}))
        return
    flag = "（暂定：该年节假日安排尚未载入）" if result["provisional"] else ""
    echo(f"{result['start']} 起 {result['period']}，至 {result['due']}{flag}")
