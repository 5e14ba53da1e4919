"""The deadline scheduler: ``scheduler run``."""

from typing import Annotated

import typer

from mediation.commands._common import JsonOpt, current_settings, echo, group, handled

scheduler_app = group("The deadline scheduler: reminders, overdue marks, consequences.")


@scheduler_app.command("run")
@handled
def scheduler_run(
    once: Annotated[
        bool, typer.Option("--once", help="Run one dispatch and exit (for cron).")
    ] = False,
    interval: Annotated[int, typer.Option("--interval", help="Seconds between runs.")] = 300,
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
        if once:
            show(api.dispatch(notifiers))
        else:
            api.run_scheduler(notifiers, interval=interval, on_result=show)
