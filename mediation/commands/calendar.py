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

calendar_app = group("Holiday calendar: load and show years.")
deadline_app = group("Statutory periods: compute due dates.")


@calendar_app.command("load")
@handled
def calendar_load(
    file: Annotated[
        Path,
        typer.Argument(
            help="Year calendar file (TOML or JSON), written like data/holidays/2026.toml."
        ),
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


@calendar_app.command("show")
@handled
def calendar_show(
    year: Annotated[int, typer.Argument(help="Year, e.g. 2026.", min=1949, max=2200)],
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


@deadline_app.command("compute")
@handled
def deadline_compute(
    start: Annotated[
        str, typer.Argument(help="Date of the triggering event (YYYY-MM-DD); not counted.")
    ],
    days: Annotated[
        int | None, typer.Option("--days", help="N days (日).", min=0, max=36_600)
    ] = None,
    working_days: Annotated[
        int | None,
        typer.Option("--working-days", help="N working days (个工作日).", min=0, max=10_000),
    ] = None,
    months: Annotated[
        int | None, typer.Option("--months", help="N months (个月).", min=0, max=1_200)
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
