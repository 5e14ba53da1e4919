"""The ``mediation`` command: the root app, its options, and the command groups.

The commands live in :mod:`mediation.commands`, one module per group; this module builds
the root app from them. (No ``from __future__ import annotations`` here: typer would
evaluate every string annotation at start-up, ~14 ms a run.)

Heavy modules (the ORM, the engine, document rendering) are imported inside the commands
that need them, so ``mediation --help`` stays quick. Errors are printed with a hint and
exit with the code named in :class:`mediation.errors.ExitCode`.
"""

import sys
from typing import Annotated, Any

import typer

from mediation.commands import _params
from mediation.commands._common import Settings, set_current
from mediation.commands.audit import audit_app
from mediation.commands.calendar import calendar_app, deadline_app
from mediation.commands.case import case_app
from mediation.commands.db import backup, db_app, init
from mediation.commands.demo import demo
from mediation.commands.dispute import dispute_app
from mediation.commands.doc import doc_app
from mediation.commands.intake import intake_app
from mediation.commands.keys import keys_app
from mediation.commands.org import org_app
from mediation.commands.report import report_app
from mediation.commands.scheduler import scheduler_app
from mediation.commands.transfer import export_db, import_db
from mediation.commands.user import user_app
from mediation.commands.workflow import workflow_app
from mediation.errors import MediationError

_params.install()  # plain values converted without importing pydantic (~0.1 s a command)

_ROOT_SETTINGS: dict[str, Any] = {
    "name": "mediation",
    "help": "多元纠纷调解工作流引擎 · Multi-channel dispute-mediation workflow engine.",
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    # Plain help: rich's formatter costs ~0.1 s of every --help.
    "rich_markup_mode": None,
}
app = typer.Typer(**_ROOT_SETTINGS)

_GROUPS = {
    "db": db_app,
    "org": org_app,
    "case": case_app,
    "dispute": dispute_app,
    "intake": intake_app,
    "workflow": workflow_app,
    "calendar": calendar_app,
    "deadline": deadline_app,
    "report": report_app,
    "scheduler": scheduler_app,
    "doc": doc_app,
    "keys": keys_app,
    "user": user_app,
    "audit": audit_app,
}
for _name, _sub in _GROUPS.items():
    app.add_typer(_sub, name=_name)

# The root's own commands, in the order their help lists them.
app.command()(init)
app.command()(backup)
app.command("export")(export_db)
app.command("import")(import_db)
app.command()(demo)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="MEDIATION_DB",
            help="Database: a SQLite path or URL, or postgresql://...",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="MEDIATION_USER",
            help="Act for this user (admins only, recorded). Who acts is the OS account "
            "(SQLite) or the database login (PostgreSQL).",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            envvar="MEDIATION_LOG_LEVEL",
            help="Log to stderr: debug | info | warning | error (personal data masked).",
        ),
    ] = None,
) -> None:
    """多元纠纷调解工作流引擎 · Multi-channel dispute-mediation workflow engine."""
    if log_level:
        from mediation.domain.personal import configure_logging

        try:
            configure_logging(log_level)
        except MediationError as exc:
            raise typer.BadParameter(exc.message, param_hint="--log-level") from None
    if actor is not None and not 0 < len(actor) <= 80:
        raise typer.BadParameter(
            "the acting user's name must be 1-80 characters", param_hint="--as"
        )
    ctx.obj = Settings(db=db, acting_for=actor)
    set_current(ctx.obj)


def _named_group(argv: list[str]) -> str | None:
    """The command group the command line names (``case`` in ``--db X case show 1``)."""
    takes_value = {"--db", "--as", "--log-level"}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in takes_value:
            i += 2
            continue
        if token.startswith("-"):
            if token.split("=", 1)[0] in takes_value:
                i += 1
                continue
            return None  # --help and friends: the whole app answers
        return token if token in _GROUPS else None
    return None


def main() -> None:
    """Console-script entry point.

    Typer builds every command's parameters before running one (~40 ms of start-up for
    the whole tree); when the command line names a group, only that group is built.
    """
    group = _named_group(sys.argv[1:])
    if group is None:
        app(prog_name="mediation")
        return
    lean = typer.Typer(**_ROOT_SETTINGS)
    lean.callback()(root)
    lean.add_typer(_GROUPS[group], name=group)
    lean(prog_name="mediation")


if __name__ == "__main__":
    main()
