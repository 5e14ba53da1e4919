"""The deadline scheduler: ``scheduler run``."""

from typing import TYPE_CHECKING, Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled
from mediation.i18n import _

if TYPE_CHECKING:
    from mediation.engine.scheduler import DispatchPlan

scheduler_app = group(_("期限调度器：提醒、逾期标记、法定后果。"))


@scheduler_app.command(
    "run",
    help=_(
        "发送提醒、标记逾期期限并执行法定后果，现在执行一次，之后每隔 --interval 秒执行一次。可安全停止、重启或在两台机器上运行。\n\n示例：MEDIATION_NOTIFY_LOG=/var/log/mediation/notices.log mediation scheduler run"
    ),
)
@handled
def scheduler_run(
    once: Annotated[bool, typer.Option("--once", help=_("执行一次后退出（供 cron）。"))] = False,
    interval: Annotated[int, typer.Option("--interval", help=_("两次执行间隔的秒数。"))] = 300,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help=_(
                "只显示现在运行一次将做什么（提醒、标记超期、自动处理、发送通知），不写入、不发送。"
            ),
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Send reminders, mark overdue deadlines and fire statutory consequences, now and then
    every --interval seconds. Safe to stop, restart, or run on two machines.

    Example: MEDIATION_NOTIFY_LOG=/var/log/mediation/notices.log mediation scheduler run
    """
    from mediation.engine import scheduler
    from mediation.engine.notifiers import notifiers_from_env
    from mediation.reporting.output import to_json

    api = current_settings().api()
    notifiers = notifiers_from_env()

    def show(result: scheduler.DispatchResult) -> None:
        if json_out:
            echo(to_json(result))
        elif not result.ran:
            echo("另一个调度进程正在运行，本次跳过")
        else:
            echo(
                f"提醒 {result.reminders} · 超期 {result.overdue} · 自动处理 "
                f"{len(result.consequences)} · 已发送 {result.delivered}"
                + (f" · 发送失败 {result.failed_deliveries}" if result.failed_deliveries else "")
            )

    with api:
        if dry_run:
            planned = api.plan_dispatch()
            echo(to_json(planned) if json_out else _render_plan(planned))
        elif once:
            show(api.dispatch(notifiers))
        else:
            api.run_scheduler(notifiers, interval=interval, on_result=show)


def _render_plan(plan: "DispatchPlan") -> str:
    """The dry run's plan as the lines a person reads."""
    lines = [
        f"演练（--dry-run）：若于 {plan.as_of:%Y-%m-%d %H:%M} 运行一次，将执行以下操作；本次未写入、未发送任何内容"
    ]
    sections = (
        (
            "发送期限提醒",
            [f"{r['case_number']} {r['deadline']} {r['due']} 届满" for r in plan.reminders],
        ),
        ("标记超期", [f"{r['case_number']} {r['deadline']} {r['due']} 届满" for r in plan.overdue]),
        (
            "期满自动处理",
            [
                f"{c['case_number']} {c['trigger']} → {c['to_state_label']}"
                for c in plan.consequences
            ],
        ),
        ("发送通知", [f"{n['subject']}" for n in plan.notifications]),
    )
    for title, items in sections:
        lines.append(f"{title} {len(items)} 项" + ("：" if items else ""))
        lines.extend(f"  {item}" for item in items)
    return "\n".join(lines)
