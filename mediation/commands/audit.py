"""Tamper-evident history: ``audit verify`` and ``audit checkpoint``."""

from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.errors import ExitCode
from mediation.i18n import _

audit_app = group(_("防篡改历史：核验哈希链，保存签名检查点。"))

SinceOpt = Annotated[
    Path | None,
    typer.Option(
        "--since",
        help=_("检查点文件（`audit checkpoint` 写出）：只核验其后写入的内容。"),
    ),
]


@audit_app.command(
    "verify",
    help=_(
        "重新计算每个事件的哈希和两条链（每个纠纷的链和整个数据库的链），并据此核对案件、用户、密钥和已盖章文书；报告每一处被修改、删除或插入的记录及其位置。发现任何断裂时退出码为 10。\n\n使用 --since 时，先核对检查点的签名以及链是否仍从它记录的链头延续，然后只核对其后写入的记录及其涉及的行：历史一年与一天一样快。\n\n示例：mediation audit verify --since /srv/anchors/audit-2026-11-22.json"
    ),
)
@handled
def audit_verify(since: SinceOpt = None, json_out: JsonOpt = False) -> None:
    """Recompute every event's hash and both chains (each dispute's, and the database's),
    and check the cases, users, keys and sealed documents against them; report each
    edited, deleted or inserted entry with where it is. Exit 10 on any break.

    With --since, check a checkpoint's signature and that the chain still extends the head
    it recorded, then only the entries written after it and the rows they touch: as fast
    with a year of history as with a day's.

    Example: mediation audit verify --since /srv/anchors/audit-2026-11-22.json
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        # one moment of the database, while others go on writing
        report = api.verify_audit(since=since)
    if json_out:
        echo(to_json(report.as_dict()))
    elif report.ok:
        after = "检查点之后：" if since is not None else ""
        echo(
            f"审计链完整：{after}{report.events} 条案件事件、{report.access_events} 条访问记录，"
            f"{report.disputes} 个纠纷；链头 #{report.head_seq} {report.head_hash}"
        )
        if report.pending:
            echo(
                f"另有 {report.pending} 条记录尚待并入全库链（其内容和所属纠纷的链已核对；"
                "在 PostgreSQL 上下一次写入会将其并入，定时任务 scheduler run 每次都会并入）"
            )
    else:
        echo(f"审计链被破坏：发现 {len(report.problems)} 处问题")
        for problem in report.problems:
            echo(f"  {problem}")
    if not report.ok:
        raise typer.Exit(int(ExitCode.TAMPERED))


@audit_app.command(
    "checkpoint",
    help=_(
        "核验审计链（全部，或自上一个检查点起），并写出其链头的签名检查点：位置、链头哈希、时间、数据库标识。请把它保存在数据库之外（另一台机器）；`audit verify --since FILE` 从那里开始核验。核验发现问题时退出码为 10，不写任何文件。\n\n示例：mediation audit checkpoint -o /srv/anchors/audit-2026-11-23.json"
    ),
)
@handled
def audit_checkpoint(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help=_("新文件（从不覆盖）；默认为标准输出。")),
    ] = None,
    since: SinceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify the audit chain (all of it, or since a previous checkpoint) and write a
    signed checkpoint of its head: position, head hash, time, the database's identity.
    Keep it outside the database (another machine); `audit verify --since FILE` checks
    from there. Exit 10, writing nothing, when the verification finds a problem.

    Example: mediation audit checkpoint -o /srv/anchors/audit-2026-11-23.json
    """
    from mediation.commands._common import check_output, write_file
    from mediation.errors import UsageError
    from mediation.reporting.output import to_json, when

    if output is not None and (output.exists() or output.is_symlink()):
        check_output(output)
        raise UsageError(
            _("{path} 已存在").format(path=output), hint=_("请换一个新文件名；不会覆盖任何文件")
        )
    with current_settings().api() as api:
        checkpoint = api.audit_checkpoint(since=since)
    if output is None:
        typer.echo(checkpoint.to_json(), nl=False)
        return
    write_file(output, checkpoint.to_json().encode("utf-8"))
    if json_out:
        echo(to_json(checkpoint.as_dict()))
    else:
        echo(
            f"已写入检查点 {output}：链头 #{checkpoint.position} {checkpoint.head}"
            f"（{when(checkpoint.taken_at)}，数据库标识 {checkpoint.database[:12]}…）"
        )
