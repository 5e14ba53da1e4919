"""Dispute sweeps (矛盾纠纷排查): ``sweep add`` / ``list``."""

from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.i18n import _

sweep_app = group(_("矛盾纠纷排查：登记、列出。"))


@sweep_app.command(
    "add",
    help=_(
        "登记由调委会或其网格员开展的矛盾纠纷排查（由你开展）：该组织的调解员或工作人员，或督导人员。\n\n示例：mediation sweep add --org 桥头 --on 2026-03-02 --found 3 --area 桥头村一组至三组"
    ),
)
@handled
def sweep_add(
    org: Annotated[str, typer.Option("--org", help=_("开展排查的组织代码。"))],
    on: Annotated[str, typer.Option("--on", help=_("开展日期，YYYY-MM-DD。"))],
    found: Annotated[
        int, typer.Option("--found", help=_("排查出的纠纷数（没有则为 0）。"), min=0, max=100_000)
    ],
    opened: Annotated[
        int | None,
        typer.Option("--opened", help=_("其中立案的件数（默认：--case 的个数）。"), min=0),
    ] = None,
    case: Annotated[
        list[str] | None,
        typer.Option("--case", help=_("由此开立的案件（编号或 id）；每件重复一次。")),
    ] = None,
    area: Annotated[str, typer.Option("--area", help=_("排查的区域或范围。"))] = "",
    note: Annotated[str, typer.Option("--note", help=_("发现的情况和处理措施。"))] = "",
    json_out: JsonOpt = False,
) -> None:
    """File a dispute sweep held by a committee or its grid workers (you held it): a
    mediator or staff member of that organisation, or a supervisor.

    Example: mediation sweep add --org 桥头 --on 2026-03-02 --found 3 --area 桥头村一组至三组
    """
    from mediation.domain.clock import parse_day
    from mediation.reporting.output import to_json

    day = parse_day(on, "--on")
    with current_settings().api() as api:
        sweep = api.add_sweep(
            org,
            held_on=day,
            found=found,
            opened=opened,
            cases=case or [],
            area=area,
            note=note,
        )
    if json_out:
        echo(to_json(sweep.as_dict()))
        return
    echo(
        f"已登记矛盾纠纷排查 #{sweep.id}：{sweep.organisation_name}（{sweep.organisation}）"
        f" {sweep.held_on}，发现纠纷 {sweep.found} 件，其中已立案 {sweep.opened} 件"
    )


@sweep_app.command(
    "list",
    help=_(
        "列出已开展的排查，按时间由近及远，含合计。\n\n示例：mediation sweep list --org 城关 --from 2026-01-01 --to 2026-03-31"
    ),
)
@handled
def sweep_list(
    org: Annotated[
        str | None,
        typer.Option("--org", help=_("只看此组织及其下级组织。")),
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help=_("第一天，YYYY-MM-DD。"))] = None,
    end: Annotated[str | None, typer.Option("--to", help=_("最后一天，YYYY-MM-DD。"))] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the sweeps held, latest first, with their totals.

    Example: mediation sweep list --org 城关 --from 2026-01-01 --to 2026-03-31
    """
    from mediation.domain.clock import parse_day
    from mediation.reporting.output import table, to_json

    first = parse_day(start, "--from") if start else None
    last = parse_day(end, "--to") if end else None
    with current_settings().api() as api:
        result = api.sweeps(org=org, start=first, end=last)
    if json_out:
        echo(to_json(result.as_dict()))
        return
    rows = [
        (s.id, s.held_on, s.organisation, s.held_by, s.area, s.found, s.opened, s.note)
        for s in result.sweeps
    ]
    if rows:
        echo(table(rows, ["编号", "日期", "组织", "排查人", "范围", "发现纠纷", "已立案", "备注"]))
    echo(f"共 {result.held} 次排查，发现纠纷 {result.found} 件，其中已立案 {result.opened} 件")
