"""Two kinds of message the program does not write itself, in Chinese: click's (an extra
argument: this typer's click says "argument(s)", which the catalog's pattern missed) and
the operating system's (``strerror`` is English whatever the locale)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mediation import i18n
from mediation.cli import app


def test_an_extra_argument_is_refused_in_chinese(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(app, ["--db", db_url, "case", "open", "intake.toml"])
    assert result.exit_code == 2
    assert "多余的参数（intake.toml）" in result.output
    assert "Got unexpected" not in result.output


def test_a_missing_file_is_named_in_chinese(runner: CliRunner, db_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "2027.toml"
    result = runner.invoke(app, ["--db", db_url, "calendar", "load", str(missing)])
    assert result.exit_code == 3, result.output
    assert "文件或文件夹不存在" in result.output
    assert "No such file" not in result.output


def test_english_keeps_the_systems_words(tmp_path: Path) -> None:
    try:
        (tmp_path / "absent").read_bytes()
    except OSError as exc:
        error = exc
    assert i18n.os_error(error) == "文件或文件夹不存在"
    i18n.set_language("en")
    try:
        assert i18n.os_error(error) == "No such file or directory"
    finally:
        i18n.set_language(None)


def test_a_mistyped_command_gets_one_full_stop(runner: CliRunner, db_url: str) -> None:
    # typer appends ". Did you mean ...?" to the message it already translated.
    result = runner.invoke(app, ["--db", db_url, "case", "shw"])
    assert result.exit_code == 2
    assert "没有命令 'shw'。是否想输入 'show'？" in result.output
