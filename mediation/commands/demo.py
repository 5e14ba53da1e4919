"""Demo data: ``demo`` (a root command, registered by mediation.cli)."""

from pathlib import Path
from typing import Annotated

import typer

from mediation.commands._common import current_settings, echo, handled


@handled
def demo(
    cases: Annotated[int, typer.Option("--cases", help="How many demo cases to open.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 2026,
    quiet: Annotated[bool, typer.Option(help="Only print the summary.")] = False,
    agreement: Annotated[
        Path | None,
        typer.Option(
            "--agreement",
            help="Write the walked case's signed agreement here (default, on SQLite: "
            "DB-agreement.pdf next to the database, its demo key in DB-keys/).",
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
