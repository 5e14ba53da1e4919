"""Organisation commands: ``org add`` / ``edit`` / ``retire`` / ``set-period`` /
``set-court-code`` / ``list``."""

from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.errors import MediationError
from mediation.i18n import _

org_app = group(_("组织：层级体系中的调委会和中心。"))


@org_app.command(
    "add",
    help=_(
        "登记调委会、中心或机关。\n\n示例：mediation org add 城关 城关镇人民调解委员会 --level township --parent 青山"
    ),
)
@handled
def org_add(
    code: Annotated[str, typer.Argument(help=_("用于案件编号的简称代码，例如 城关。"))],
    name: Annotated[str, typer.Argument(help=_("全称，例如 城关镇人民调解委员会。"))],
    level: Annotated[
        str, typer.Option(help=_("village | township | county | city（村、乡镇、县、市）"))
    ],
    kind: Annotated[
        str,
        typer.Option(
            help=_(
                "people_committee | professional_committee | centre | ...（人民调解委员会、行业性专业性调委会、中心等）"
            )
        ),
    ] = "people_committee",
    parent: Annotated[str | None, typer.Option(help=_("上一级组织的代码。"))] = None,
    court_code: Annotated[
        str | None,
        typer.Option(help=_("法院用于案件编号的法院代字，例如 浙0681。")),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Register a committee, centre or organ.

    Example: mediation org add 城关 城关镇人民调解委员会 --level township --parent 青山
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        added = api.add_organisation(
            code, name, level=level, kind=kind, parent=parent, court_code=court_code
        )
    echo(to_json(added.as_dict()) if json_out else f"已登记：{added.code} {added.name}")


@org_app.command(
    "edit",
    help=_(
        "更正组织名称，或调整其层级：层级和上一级组织（上报的去向）。记入审计链（管理员操作）。\n\n示例：mediation org edit 桥头 --parent 城关"
    ),
)
@handled
def org_edit(
    code: Annotated[str, typer.Argument(help=_("组织代码（不可更改）。"))],
    name: Annotated[str | None, typer.Option(help=_("更正后的全称。"))] = None,
    parent: Annotated[
        str | None,
        typer.Option(help=_('上一级组织的代码（"" 表示去掉上级）。')),
    ] = None,
    level: Annotated[
        str | None, typer.Option(help=_("village | township | county | city（或 村/社区 等）。"))
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Correct an organisation's name, or move it on the ladder: its level and its parent
    one level up (where escalations go). Recorded in the audit chain (admins).

    Example: mediation org edit 桥头 --parent 城关
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        edited = api.edit_organisation(code, name=name, parent=parent, level=level)
    if json_out:
        echo(to_json(edited.as_dict()))
        return
    if not edited.changed:
        echo(f"{edited.code}：没有变化")
    for key, change in edited.changed.items():
        label = {"name": "名称", "level": "层级", "parent": "上级"}[key]
        echo(
            f"{edited.code} {label}：{change['before'] or '（无）'} → {change['after'] or '（无）'}"
        )


@org_app.command(
    "retire",
    help=_(
        "撤销组织（合并或解散）：不再接收新案件、上报或移交；其案件仍可查看，进行中的案件办结为止。记入审计链（管理员操作）。\n\n示例：mediation org retire 桥头 --reason 并入城关镇人民调解委员会"
    ),
)
@handled
def org_retire(
    code: Annotated[str, typer.Argument(help=_("组织代码。"))],
    reason: Annotated[
        str | None, typer.Option(help=_("理由，例如 并入城关镇人民调解委员会。"))
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Retire an organisation (merged or dissolved): it receives no new case and no
    escalation or hand-off; its cases stay readable and open ones are worked to their end.
    Recorded in the audit chain (admins).

    Example: mediation org retire 桥头 --reason 并入城关镇人民调解委员会
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        retired = api.retire_organisation(code, reason=reason)
    if json_out:
        echo(to_json(retired.as_dict()))
        return
    echo(f"已撤销：{retired.code} {retired.name}（不再受理新案件或接收移交）")
    if retired.open_cases:
        echo(f"  尚有 {retired.open_cases} 件未结案件，仍由本组织办结")
    if retired.children:
        echo(
            f"  下级组织 {'、'.join(retired.children)} 的上级已撤销，请为其另设上级："
            f"mediation org edit {retired.children[0]} --parent 上级代码"
        )


@org_app.command(
    "set-period",
    help=_(
        "在法律交由地方规定之处（行政调解）设定本组织自己的期间；此后受理的案件适用。\n\n示例：mediation org set-period 青山司法局 administrative mediation_period --working-days 30"
    ),
)
@handled
def org_set_period(
    code: Annotated[str, typer.Argument(help=_("组织代码。"))],
    flow: Annotated[str, typer.Argument(help=_("流程，例如 administrative。"))],
    kind: Annotated[str, typer.Argument(help=_("期限种类，例如 mediation_period。"))],
    days: Annotated[int | None, typer.Option("--days", min=1, max=3660)] = None,
    working_days: Annotated[int | None, typer.Option("--working-days", min=1, max=1000)] = None,
    months: Annotated[int | None, typer.Option("--months", min=1, max=120)] = None,
    json_out: JsonOpt = False,
) -> None:
    """Set this organisation's own period where the law leaves it to local rules (行政调解);
    cases accepted from now on use it.

    Example: mediation org set-period 青山司法局 administrative mediation_period --working-days 30
    """
    from mediation.reporting.output import to_json

    given = [
        (n, u) for n, u in ((days, "days"), (working_days, "working_days"), (months, "months")) if n
    ]
    if len(given) != 1:
        raise MediationError(
            _("请只给出 --days、--working-days、--months 中的一项"),
            hint=_("例如 --working-days 30"),
        )
    with current_settings().api() as api:
        result = api.set_period(code, flow=flow, kind=kind, count=given[0][0], unit=given[0][1])
    echo(
        to_json(result.as_dict()) if json_out else f"已设定：{code} {flow}.{kind} = {result.period}"
    )


@org_app.command(
    "set-court-code",
    help=_(
        "设定法院代字：此后开立的本院案件编号为 （2026）浙0681民初123号 / （2026）浙0681民特45号，其民事调解书和民事裁定书打印该编号。\n\n示例：mediation org set-court-code 青山法院 浙0681"
    ),
)
@handled
def org_set_court_code(
    code: Annotated[str, typer.Argument(help=_("法院的组织代码。"))],
    court_code: Annotated[str, typer.Argument(help=_("法院代字，例如 浙0681。"))],
    json_out: JsonOpt = False,
) -> None:
    """Set a court's code (法院代字): its own cases opened from now on are numbered
    （2026）浙0681民初123号 / （2026）浙0681民特45号, and its 民事调解书 and 民事裁定书
    print that number.

    Example: mediation org set-court-code 青山法院 浙0681
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        result = api.set_court_code(code, court_code)
    echo(
        to_json(result.as_dict())
        if json_out
        else f"已设定：{result.code} {result.name} 法院代字 {result.court_code}"
    )


@org_app.command(
    "list", help=_("列出各组织及其层级、上级和案件数。\n\n示例：mediation org list --json")
)
@handled
def org_list(json_out: JsonOpt = False) -> None:
    """List organisations with their level, parent and number of cases.

    Example: mediation org list --json
    """
    from mediation.reporting.output import table, to_json

    with current_settings().api() as api:
        rows = api.organisations()
    if json_out:
        echo(to_json(rows))
        return
    echo(
        table(
            [
                (
                    r["code"],
                    r["name"],
                    r["level_label"],
                    r["parent"] or "",
                    r["cases"],
                    f"已撤销（{r['retired_at'][:10]}）" if r["retired_at"] else "",
                )
                for r in rows
            ],
            ["代码", "名称", "层级", "上级", "案件数", "状态"],
        )
    )
