"""What the command modules share: the root options' :class:`Settings`, error handling,
output helpers and the ``--json`` option.

(No ``from __future__ import annotations`` in the command modules: typer would evaluate
every string annotation at start-up, ~14 ms a run.)

This module imports no command module; heavy modules (the ORM, the engine) are imported
inside the functions that need them.
"""

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from mediation.errors import MediationError
from mediation.i18n import _, os_error

# We use no pydantic plugins; looking for them scans every installed package's entry
# points (~30 ms of every command's start-up).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

if TYPE_CHECKING:
    from mediation.api import Mediation
    from mediation.domain.clock import Clock


def group(help: str) -> typer.Typer:
    """A command group (``mediation case ...``) with plain help."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help=_("输出 JSON 而非文本。"))]


@dataclass
class Settings:
    """What the root options set for every command."""

    db: str | None
    #: ``--as``: the user an admin acts for (checked and recorded by the library).
    acting_for: str | None = None

    def api(self, *, require_current: bool = True) -> "Mediation":
        """The library on the database, acting as the login the library establishes (the
        database login on PostgreSQL, the OS account on SQLite), or for ``--as``: every
        permission and scope check happens there (:mod:`mediation.api`).
        ``require_current=False`` opens a database whose schema is missing or out of date
        (init, upgrade, import, status)."""
        from mediation.api import Mediation
        from mediation.commands._collector import resume

        try:
            return Mediation.connect(
                self.db,
                acting_for=self.acting_for,
                clock=self.clock,
                require_current=require_current,
            )
        finally:
            resume()  # start-up is over (_collector)

    @property
    def clock(self) -> "Clock":
        from mediation.domain.clock import clock_from_env

        return clock_from_env()


_current: Settings | None = None


def set_current(settings: Settings) -> None:
    """Record the settings the root callback parsed for this invocation."""
    global _current
    _current = settings


def current_settings() -> Settings:
    """The settings the root callback parsed for this invocation."""
    return _current or Settings(db=None)


def handled(func: F) -> F:
    """Turn library errors into a message on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MediationError as exc:
            typer.echo(shown(f"错误：{exc.message}"), err=True)
            if exc.hint:
                typer.echo(shown(f"  → {exc.hint}"), err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except Exception as exc:
            refused = database_refusal(exc)
            if refused is None:
                raise
            typer.echo(f"错误：{refused.message}", err=True)
            typer.echo(f"  → {refused.hint}", err=True)
            raise typer.Exit(int(refused.exit_code)) from None

    return wrapper  # type: ignore[return-value]


def database_refusal(exc: Exception) -> MediationError | None:
    """A database error as a message (first line only: no values, no SQL) and a hint."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
    lost = any(word in first for word in ("closed", "terminat", "lost"))
    if exc.connection_invalidated or ("connection" in first.lower() and lost):
        hint = _("与数据库的连接已断开；未写入任何数据——请重新运行命令")
    elif "permission denied" in first or "must be owner" in first:
        hint = _(
            "数据库角色没有此权限；更改数据库结构须由所有者运行（见 docs/admin/postgresql.md 的 Database roles）"
        )
    elif "not a step of its flow" in first:  # revision 0019's trigger on `event`
        hint = (
            "这一步不是该案件流程中的步骤，数据库拒绝写入；若刚更新了程序，"
            "请由数据库所有者运行 mediation db upgrade"
        )
    else:
        hint = _("未写入任何数据（事务已回滚）")
    return MediationError(_("数据库拒绝了这项操作：{reason}").format(reason=first), hint=hint)


def shown(text: str) -> str:
    """``text`` as a user reads it: in Chinese, articles written 第二十六条, not ``art. 26``
    (mediation.domain.articles)."""
    from mediation.i18n import language

    if language() != "zh" or "art" not in text:
        return text
    from mediation.domain.articles import cn_basis

    return cn_basis(text)


def echo(text: str) -> None:
    typer.echo(shown(text))


def read_data(path: Path | None, sets: list[str] | None) -> dict[str, Any]:
    from mediation.domain.intake import read_file
    from mediation.errors import FieldProblem, ValidationError

    data: dict[str, Any] = read_file(path) if path else {}
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                [FieldProblem(f"--set {item}", "应为 KEY=VALUE", "e.g. --set reason=双方分歧过大")],
                source="命令行",
            )
        data[key.strip()] = value
    return data


def warn_calendar(cal: Any, today: Any) -> None:
    from mediation.domain.calendar import missing_next_year_warning

    warning = missing_next_year_warning(today, cal)
    if warning:
        typer.echo(warning, err=True)


def write_out(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    write_file(output, text.encode("utf-8"))


def write_csv_out(text: str, output: Path | None) -> None:
    """CSV for Excel: to a file (``-o``), or to stdout redirected into one (``> a.csv``),
    as UTF-8 with a BOM, which Excel on Chinese Windows needs to read it as UTF-8 rather
    than GBK; on a terminal, as text."""
    from mediation.domain.spreadsheet import csv_bytes

    if output is not None:
        write_file(output, csv_bytes(text))
    elif sys.stdout.isatty():
        typer.echo(text, nl=False)
    else:
        typer.echo(csv_bytes(text), nl=False)


def _symlink_refused(output: Path) -> MediationError:
    from mediation.errors import FieldProblem, ValidationError

    problem = FieldProblem(str(output), "是符号链接，不会写入它指向的文件", "请给出普通文件的路径")
    return ValidationError([problem], source="-o/--output")


def check_output(output: Path | None) -> None:
    """Refuse an output path that is a symbolic link (exit 3) — before a command does its
    work, so that nothing is written (:func:`write_file` checks again when writing)."""
    if output is not None and output.is_symlink():
        raise _symlink_refused(output)


def write_file(output: Path, data: bytes) -> None:
    """Write an output file (``-o``): never through a symbolic link (refused, exit 3: the
    link's target is left alone), and a new file is readable by its owner only (documents
    and reports hold personal data). A file that could not be written whole is removed
    when this call created it."""
    import errno

    check_output(output)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    created = not output.exists()
    try:
        fd = os.open(output, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link since the check above
            raise _symlink_refused(output) from None
        raise MediationError(
            _("无法写入 {path}：{why}").format(path=output, why=os_error(exc)),
            hint=_("请检查文件夹是否存在且可写"),
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        if created:
            output.unlink(missing_ok=True)
        raise MediationError(
            _("无法写入 {path}：{why}").format(path=output, why=os_error(exc)),
            hint=_("请检查磁盘空间后重新运行命令"),
        ) from None
