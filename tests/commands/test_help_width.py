"""``--help`` fits the terminal: click wraps by characters, and a Chinese character takes
two columns, so without :class:`mediation.commands._click_text._WideTextWrapper` the help
of ``case advance`` ran to 105 columns in an 80-column terminal and cut ``YYYY-MM-DD`` at
its hyphen."""

from __future__ import annotations

from unicodedata import east_asian_width

import pytest
import typer.main
from typer.testing import CliRunner

from mediation.cli import app


def _width(line: str) -> int:
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in line)


def _commands() -> list[list[str]]:
    """Every command path of the CLI (groups included)."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        found.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("columns", [60, 80])
def test_every_help_fits_the_terminal(runner: CliRunner, columns: int) -> None:
    too_wide = []
    commands = _commands()
    assert len(commands) > 40  # the walk found the command tree
    for path in commands:
        # The runner forces 80 columns; click leaves two of a terminal's columns free.
        result = runner.invoke(app, [*path, "--help"], terminal_width=columns - 2)
        assert result.exit_code == 0, (path, result.output)
        for line in result.output.splitlines():
            # A line may overflow only when it is one unbreakable word (a long path).
            if _width(line) > columns and " " in line.strip():
                too_wide.append((" ".join(path), _width(line), line))
    assert too_wide == []


def test_dates_are_not_cut_at_their_hyphens(runner: CliRunner) -> None:
    result = runner.invoke(app, ["case", "advance", "--help"], terminal_width=78)
    lines = result.output.splitlines()
    assert not any(line.rstrip().endswith(("YYYY-", "YYYY-MM-")) for line in lines)
    assert max(_width(line) for line in lines) <= 80


def _wrap(text: str, width: int) -> list[str]:
    from mediation.commands import _click_text

    return _click_text._WideTextWrapper(width).wrap(text)


def test_the_wrapper_never_overflows_a_full_line() -> None:
    for width in range(6, 16):
        for text in ("xxxxxxxxx data/examples/intake.toml", "xxxxxxxx 环境变量：MEDIATION_EXPORT"):
            assert all(_width(line) <= width for line in _wrap(text, width)), (width, text)


def test_brackets_and_times_stay_with_what_they_hold() -> None:
    text = "由操作系统账户或数据库登录名（PostgreSQL）决定，时间写成 HH:MM 或 1.5 小时"
    for width in range(12, 40):
        lines = _wrap(text, width)
        assert not any(line.rstrip().endswith(("（", "(")) for line in lines), lines
        joined = "\n".join(lines)
        assert "HH:MM" in joined and "1.5" in joined, lines
