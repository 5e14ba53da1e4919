"""The root app of ``mediation``: its options and the command groups.

The commands live beside this module, one module per group; :func:`build` wires them into
the root app, and :func:`run` runs a command line. :mod:`mediation.cli` is the entry point
that calls it. (No ``from __future__ import annotations`` here: typer would evaluate every
string annotation at start-up, ~14 ms a run.)

Heavy modules (the ORM, the engine, document rendering) are imported inside the commands
that need them, and a group's module only when the command line names that group (or the
whole app is built), so a command pays for little more than its own group. Errors are
printed with a hint and exit with the code named in :class:`mediation.errors.ExitCode`.
"""

import copy
import functools
import importlib
import os
import sys
from typing import Annotated, Any

import typer
import typer.main

from mediation import i18n
from mediation.commands import _click_text, _params
from mediation.commands._common import Settings, set_current
from mediation.errors import MediationError
from mediation.i18n import _

_params.install()  # plain values converted without importing pydantic (~0.1 s a command)
_click_text.install()  # click's own words ("Usage:", "Options") in the user's language

#: The command users type.
PROG = "mediation"

_ROOT_SETTINGS: dict[str, Any] = {
    "name": PROG,
    "help": _("多元纠纷调解工作流引擎。"),
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    # Plain help: rich's formatter costs ~0.1 s of every --help.
    "rich_markup_mode": None,
}

#: Group name → (its module under mediation.commands, the group's attribute there), in
#: the order the help lists them. Imported by name so that a command imports its own
#: group's module only.
_GROUPS: dict[str, tuple[str, str]] = {
    "db": ("db", "db_app"),
    "org": ("org", "org_app"),
    "case": ("case", "case_app"),
    "dispute": ("dispute", "dispute_app"),
    "intake": ("intake", "intake_app"),
    "sweep": ("sweep", "sweep_app"),
    "workflow": ("workflow", "workflow_app"),
    "calendar": ("calendar", "calendar_app"),
    "deadline": ("calendar", "deadline_app"),
    "report": ("report", "report_app"),
    "scheduler": ("scheduler", "scheduler_app"),
    "doc": ("doc", "doc_app"),
    "keys": ("keys", "keys_app"),
    "user": ("user", "user_app"),
    "audit": ("audit", "audit_app"),
}


def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="MEDIATION_DB",
            help=_("数据库：SQLite 文件路径或 URL，或 postgresql://..."),
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="MEDIATION_USER",
            help=_(
                "代表此用户操作（仅管理员，留有记录）。操作人是操作系统账户（SQLite）"
                "或数据库登录名（PostgreSQL）。"
            ),
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            envvar="MEDIATION_LOG_LEVEL",
            help=_("日志写到标准错误：debug | info | warning | error（个人信息已遮蔽）。"),
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            envvar="MEDIATION_LANG",
            help=_("界面语言：zh（中文，默认）或 en（英文）；默认按 LANG 等环境变量。"),
        ),
    ] = None,
) -> None:
    """多元纠纷调解工作流引擎。"""
    if lang:
        try:
            i18n.set_language(lang)
        except ValueError:
            raise typer.BadParameter(
                _("不支持的语言 {lang}：请用 zh 或 en").format(lang=lang), param_hint="--lang"
            ) from None
    if log_level:
        from mediation.domain.personal import configure_logging

        try:
            configure_logging(log_level)
        except MediationError as exc:
            raise typer.BadParameter(exc.message, param_hint="--log-level") from None
    if actor is not None and not 0 < len(actor) <= 80:
        raise typer.BadParameter(_("代理的用户名须为 1–80 个字符"), param_hint="--as")
    ctx.obj = Settings(db=db, acting_for=actor)
    set_current(ctx.obj)


def _group(name: str) -> typer.Typer:
    module, attribute = _GROUPS[name]
    group: typer.Typer = getattr(importlib.import_module(f"mediation.commands.{module}"), attribute)
    return group


def _only(group: typer.Typer, command: str) -> typer.Typer:
    """``group`` with its command ``command`` alone, if it has one of that name (else the
    whole group, so that a mistyped name gets click's error and suggestions)."""

    def name(info: typer.models.CommandInfo) -> str | None:
        if info.name or info.callback is None:
            return info.name
        return typer.main.get_command_name(info.callback.__name__)

    chosen = [info for info in group.registered_commands if name(info) == command]
    if not chosen:
        return group
    only = copy.copy(group)
    only.registered_commands = chosen
    return only


def build(group: str | None = None, command: str | None = None) -> typer.Typer:
    """The root app: with every group and the root's own commands, or with one group only.

    :param group: build the root options and this group alone (what running one of its
        commands needs; typer builds every command's parameters before running one,
        ~40 ms for the whole tree).
    :param command: and of that group, this command alone (~5 ms less for ``case show``
        than the whole ``case`` group).
    """
    app = typer.Typer(**_ROOT_SETTINGS)
    app.callback()(root)
    if group is not None:
        built = _group(group) if command is None else _only(_group(group), command)
        app.add_typer(built, name=group)
        return app
    for name in _GROUPS:
        app.add_typer(_group(name), name=name)

    from mediation.commands.db import BACKUP_HELP, INIT_HELP, backup, init
    from mediation.commands.demo import DEMO_HELP, demo
    from mediation.commands.transfer import EXPORT_HELP, IMPORT_HELP, export_db, import_db

    # The root's own commands, in the order their help lists them.
    app.command(help=_(INIT_HELP))(init)
    app.command(help=_(BACKUP_HELP))(backup)
    app.command("export", help=_(EXPORT_HELP))(export_db)
    app.command("import", help=_(IMPORT_HELP))(import_db)
    app.command(help=_(DEMO_HELP))(demo)
    return app


@functools.cache
def full_app() -> typer.Typer:
    """The whole app (built once): what ``mediation --help`` shows and the docs document."""
    return build()


def _named_command(argv: list[str]) -> tuple[str | None, str | None]:
    """The command group the command line names and the command in it (``case`` and
    ``show`` in ``--db X case show 1``), each None when not named."""
    takes_value = {"--db", "--as", "--log-level", "--lang"}
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
            return None, None  # --help and friends: the whole app answers
        if token not in _GROUPS:
            return None, None
        following = argv[i + 1] if i + 1 < len(argv) else "-"
        return token, None if following.startswith("-") else following
    return None, None


def run() -> None:
    """Run the command line in :data:`sys.argv`: with only the group and command it
    names, if any."""
    if "_MEDIATION_COMPLETE" in os.environ:
        # Shell completion (docs/admin/configuration.md#shell-completion): typer registers
        # its shells only with add_completion, which would cost every start-up its options.
        from typer._completion_classes import completion_init

        completion_init()
    group, command = _named_command(sys.argv[1:])
    app = full_app() if group is None else build(group, command)
    app(prog_name=PROG)
