"""Flow commands: ``workflow list`` / ``show``."""

from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, echo, group, handled
from mediation.errors import MediationError
from mediation.i18n import _

workflow_app = group(_("流程：声明的状态机。"))


@workflow_app.command(
    "list", help=_("列出各流程及其状态。\n\n示例：mediation workflow list --json")
)
@handled
def workflow_list(json_out: JsonOpt = False) -> None:
    """List the flows with their states.

    Example: mediation workflow list --json
    """
    from mediation.engine.machine import load
    from mediation.reporting.output import table, to_json
    from mediation.workflows import flow_names

    flows = [load(name).flow for name in flow_names()]
    data = [
        {
            "name": f.name,
            "label": f.label,
            "legal_basis": f.legal_basis,
            "states": [{"name": s.name, "label": s.label, "final": s.final} for s in f.states],
        }
        for f in flows
    ]
    if json_out:
        echo(to_json(data))
        return
    echo(
        table(
            [(f["name"], f["label"], len(f["states"]), f["legal_basis"]) for f in data],
            ["flow", "名称", "状态数", "法律依据"],
        )
    )


@workflow_app.command(
    "show",
    help=_(
        "显示流程的状态、转移和期限，或其 Mermaid 图。\n\n示例：mediation workflow show peoples --format mermaid"
    ),
)
@handled
def workflow_show(
    flow: Annotated[str, typer.Argument(help=_("流程名称，例如 peoples。"))],
    format: Annotated[str, typer.Option("--format", help=_("text | mermaid"))] = "text",
    json_out: JsonOpt = False,
) -> None:
    """Show a flow's states, transitions and deadlines, or its Mermaid diagram.

    Example: mediation workflow show peoples --format mermaid
    """
    from mediation.engine.machine import load, mermaid
    from mediation.reporting.output import table, to_json

    if format not in ("text", "mermaid"):
        raise MediationError(
            _("没有这种 --format：{fmt}").format(fmt=repr(format)), hint=_("请用 text 或 mermaid")
        )
    f = load(flow).flow
    if format == "mermaid":
        echo(mermaid(f).rstrip("\n"))
        return
    if json_out:
        echo(to_json(f))
        return
    echo(f"{f.label}（{f.name}） — {f.legal_basis}\n")
    echo(
        table(
            [(s.name, s.label, "终态" if s.final else "") for s in f.states], ["状态", "名称", ""]
        )
    )
    echo("")
    echo(
        table(
            [
                (t.trigger, t.label, ", ".join(t.source), t.dest or "（不变）", t.legal_basis)
                for t in f.transitions
            ],
            ["操作", "说明", "从", "到", "依据"],
        )
    )
    if f.deadlines:
        echo("")
        echo(
            table(
                [
                    (d.kind, d.label, d.period.label, ", ".join(d.starts_on), d.legal_basis)
                    for d in f.deadlines
                ],
                ["期限", "名称", "期间", "起算", "依据"],
            )
        )
