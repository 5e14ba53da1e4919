"""Demo data: ``demo`` (a root command, registered by mediation.cli)."""

from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import current_settings, echo, handled
from mediation.i18n import N_, _

#: The help of ``mediation demo``.
DEMO_HELP = N_(
    "创建演示数据（各层级的调委会、各状态的案件），并让一件案件走完整个人民调解流程，逐步输出。\n\n示例：mediation --db demo.db demo --cases 50 --seed 7"
)


@handled
def demo(
    cases: Annotated[int, typer.Option("--cases", help=_("开立多少件演示案件。"))] = 20,
    seed: Annotated[int, typer.Option("--seed", help=_("随机种子（相同种子，相同数据）。"))] = 2026,
    quiet: Annotated[bool, typer.Option(help=_("只输出摘要。"))] = False,
    agreement: Annotated[
        Path | None,
        typer.Option(
            "--agreement",
            help=_(
                "把演示案件的已签名协议书写到这里（SQLite 默认：数据库旁的 DB-agreement.pdf，演示密钥在 DB-keys/）。"
            ),
        ),
    ] = None,
) -> None:
    """Create demo data (committees on every level, cases in every state) and walk one
    case through the whole people's mediation flow, printing each step.

    Example: mediation --db demo.db demo --cases 50 --seed 7
    """
    api = current_settings().api(require_current=False)
    key_dir = None
    if agreement is None and api.store.dialect == "sqlite":
        from sqlalchemy.engine import make_url

        base = Path(make_url(api.store.url).database or "mediation-demo.db")
        agreement = base.with_name(f"{base.stem}-agreement.pdf")
        key_dir = base.with_name(f"{base.stem}-keys")
    elif agreement is not None:
        key_dir = agreement.with_name(f"{agreement.stem}-keys")
    with api:
        rows = api.demo(
            cases=cases,
            seed=seed,
            say=echo,
            quiet=quiet,
            agreement_pdf=agreement,
            key_dir=key_dir,
        )
    if not quiet:
        from mediation.reporting import reports

        today = api.clock.today()
        echo("\n$ mediation report overdue")
        echo(
            reports.as_table(rows, as_of=today, title="超期案件督办表")
            if rows
            else "（无超期案件）"
        )
