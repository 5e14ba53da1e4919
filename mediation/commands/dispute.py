"""Dispute commands: ``dispute show`` / ``merge`` / ``split``."""

from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.i18n import _

dispute_app = group(_("纠纷：贯穿每个程序和移交的同一身份。"))


@dispute_app.command(
    "show",
    help=_("以树形显示纠纷及其各程序的沿革（移交、上报）。\n\n示例：mediation dispute show case:1"),
)
@handled
def dispute_show(
    dispute: Annotated[
        str, typer.Argument(help=_("纠纷 id（纠纷 #N），或 case:CASE 表示某案件的纠纷。"))
    ],
    reveal: Annotated[bool, typer.Option(help=_("不遮蔽显示身份证号、电话和住址。"))] = False,
    json_out: JsonOpt = False,
) -> None:
    """Show a dispute and the lineage of its proceedings (hand-offs, escalations) as a tree.

    Example: mediation dispute show case:1
    """
    from mediation.reporting.output import to_json, when

    with current_settings().api() as api:
        data = api.dispute(dispute, reveal=reveal).as_dict()
    if json_out:
        echo(to_json(data))
        return
    d = data["dispute"]
    echo(
        f"纠纷 #{d['id']}「{d['title']}」 {d['dispute_type_label']} · 来源：{d['channel_label']}"
        + (f"（{d['referring_organ']} {d['referral_ref']}）" if d["referring_organ"] else "")
    )
    echo("当事人：" + "；".join(f"{p['role_label']} {p['name']}" for p in data["parties"]))
    by_id = {p["id"]: p for p in data["proceedings"]}

    def draw(pid: int, prefix: str, last: bool, top: bool) -> None:
        p = by_id[pid]
        branch = "" if top else ("└─ " if last else "├─ ")
        closed = f" → {when(p['closed_at'])}" if p["closed_at"] else ""
        why = f"（{p['handoff_reason']}）" if p["handoff_reason"] and not top else ""
        echo(
            f"{prefix}{branch}{p['case_number']} {p['flow_label']} @ {p['organisation_name']}"
            f"（{p['level_label']}） 「{p['state_label']}」 {when(p['opened_at'])}{closed}{why}"
        )
        kids = p["children"]
        for i, kid in enumerate(kids):
            child_prefix = prefix if top else prefix + ("   " if last else "│  ")
            draw(kid, child_prefix, i == len(kids) - 1, False)

    for p in data["proceedings"]:
        if p["parent_id"] is None:
            draw(p["id"], "", True, True)
    for m in data["merges"]:
        status = (
            f"，{when(m['split_at'])} 由 {m['split_by']} 拆分：{m['split_reason']}"
            if m["split_at"]
            else ""
        )
        echo(
            f"合并：纠纷 #{m['merged_id']} 并入 #{m['kept_id']}（{m['merged_by']} "
            f"{when(m['merged_at'])}：{m['reason']}{status}）"
        )


@dispute_app.command(
    "merge",
    help=_(
        '把经第二个渠道报来的纠纷合并到第一个；两份登记记录都保留，合并留有记录。\n\n示例：mediation dispute merge 12 15 --reason "12345工单与网格上报为同一纠纷"'
    ),
)
@handled
def dispute_merge(
    keep: Annotated[int, typer.Argument(help=_("保留的纠纷（其 id）。"))],
    merged: Annotated[int, typer.Argument(help=_("重复报来的同一纠纷（其 id）。"))],
    reason: Annotated[str, typer.Option("--reason", help=_("认定为同一纠纷的理由。"))],
    json_out: JsonOpt = False,
) -> None:
    """Merge a dispute reported through a second channel into the first; both intake
    records are kept, and the merge is recorded.

    Example: mediation dispute merge 12 15 --reason "12345工单与网格上报为同一纠纷"
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        result = api.merge_disputes(keep, merged, reason=reason)
    echo(to_json(result.as_dict()) if json_out else f"已合并：纠纷 #{merged} 并入 #{keep}")


@dispute_app.command(
    "split",
    help=_(
        '撤销错误的合并：该纠纷重新独立；合并记录仍保留。\n\n示例：mediation dispute split 15 --reason "当事人不同，误合并"'
    ),
)
@handled
def dispute_split(
    merged: Annotated[int, typer.Argument(help=_("被合并掉的纠纷（其 id）。"))],
    reason: Annotated[str, typer.Option("--reason", help=_("合并错误的理由。"))],
    json_out: JsonOpt = False,
) -> None:
    """Undo a wrong merge: the dispute stands on its own again; the merge stays on record.

    Example: mediation dispute split 15 --reason "当事人不同，误合并"
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        result = api.split_dispute(merged, reason=reason)
    echo(
        to_json(result.as_dict()) if json_out else f"已拆分：纠纷 #{merged} 不再并入 #{result.kept}"
    )
