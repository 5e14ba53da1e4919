"""Tamper-evident history: ``audit verify``."""

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.errors import ExitCode

audit_app = group("Tamper-evident history: verify the hash chains.")


@audit_app.command("verify")
@handled
def audit_verify(json_out: JsonOpt = False) -> None:
    """Recompute every event's hash and both chains (each dispute's, and the database's);
    report each edited, deleted or inserted event with where it is. Exit 10 on any break.

    Example: mediation audit verify
    """
    from mediation.reporting.output import to_json

    with current_settings().api() as api:
        report = api.verify_audit()  # one moment of the database, while others go on writing
    if json_out:
        echo(to_json(report.as_dict()))
    elif report.ok:
        echo(
            f"审计链完整：{report.events} 条案件事件、{report.access_events} 条访问记录，"
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
