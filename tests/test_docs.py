"""The README is checked against the code: generated sections current, every command
documented with an example that parses, and the Quick start exactly as CI runs it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from mediation import docs
from mediation.errors import ExitCode

README = docs.README_PATH
QUICK_START = ["bash setup.sh", ".venv/bin/python -m pytest"]


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def group() -> Any:
    """The CLI's click group, built once (building it is the slow part)."""
    return docs.cli_group()


@pytest.fixture(scope="module")
def commands(group: Any) -> list[docs.CommandDoc]:
    return docs.cli_commands(group)


def _section(text: str, name: str) -> str:
    match = re.search(
        rf"<!-- BEGIN GENERATED: {name} -->\n(.*?)<!-- END GENERATED: {name} -->", text, re.S
    )
    assert match, f"README has no generated section {name!r}"
    return match[1]


def test_generated_sections_are_current() -> None:
    stale = docs.check(README)
    assert not stale, (
        f"README sections {', '.join(stale)} differ from the code;"
        " run `.venv/bin/python -m mediation.docs --write`"
    )


def test_every_command_is_in_the_readme(readme: str, commands: list[docs.CommandDoc]) -> None:
    reference = _section(readme, "commands")
    missing = [c.name for c in commands if f"| `{c.name}` |" not in reference]
    assert not missing, f"commands missing from the README's command reference: {missing}"


def test_every_command_has_an_example(commands: list[docs.CommandDoc]) -> None:
    # cli_commands() raises when one lacks it; this also catches an empty walk.
    assert commands
    assert all(re.search(rf"(^|\s){docs.PROG}\s", c.example) for c in commands)


def test_a_command_without_an_example_is_refused() -> None:
    app = typer.Typer()

    @app.command()
    def documented() -> None:
        """Has one.

        Example: mediation documented
        """

    @app.command()
    def undocumented() -> None:
        """Has none."""

    with pytest.raises(docs.DocsError, match="mediation undocumented"):
        docs.cli_commands(typer.main.get_command(app))


def test_each_example_runs_its_own_command(group: Any, commands: list[docs.CommandDoc]) -> None:
    wrong = {}
    for c in commands:
        try:
            path = docs.example_command_path(c.example, group)
        except docs.DocsError as exc:
            wrong[c.name] = str(exc)
            continue
        if path != c.path:
            wrong[c.name] = f"its example runs `{' '.join((docs.PROG, *path))}`"
    assert not wrong, wrong


def test_example_parser_rejects_what_a_user_would_get_wrong(group: Any) -> None:
    for bad in (
        "mediation case opne --from x.toml",
        "mediation case show",  # missing argument
        "mediation case list --no-such-option",
        "mediation --db",
        "mediation case",
        "python -m mediation",
    ):
        with pytest.raises(docs.DocsError):
            docs.example_command_path(bad, group)
    line = "MEDIATION_NOW=2026-03-02 mediation --db x.db --as 周明 case next 1"
    assert docs.example_command_path(line, group) == (
        "case",
        "next",
    )


def _quick_start_block(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"^#+\s+Quick start\s*$", line)), None
    )
    assert start is not None, "README has no 'Quick start' heading"
    fence = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    return [line.strip() for line in lines[fence + 1 : end] if line.strip()]


def test_quick_start_is_exactly_the_two_commands(readme: str) -> None:
    assert _quick_start_block(readme) == QUICK_START


def _readme_command_lines(text: str) -> list[str]:
    """``$ mediation ...`` lines of console blocks, without environment assignments."""
    found = []
    for line in text.splitlines():
        if not line.startswith("$ "):
            continue
        words = shlex.split(line[2:])
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words.pop(0)
        if words and words[0] in (docs.PROG, f".venv/bin/{docs.PROG}"):
            found.append(shlex.join([docs.PROG, *words[1:]]))
    return found


def test_readme_command_lines_parse(group: Any, readme: str) -> None:
    lines = _readme_command_lines(readme)
    assert len(lines) >= 10, "the walk-through should show real commands"
    wrong = {}
    for line in lines:
        try:
            docs.example_command_path(line, group)
        except docs.DocsError as exc:
            wrong[line] = str(exc)
    assert not wrong, wrong


def test_commands_named_in_the_prose_exist(group: Any, readme: str) -> None:
    """`mediation X Y ...` in inline code names a real command (placeholders allowed)."""
    spans = re.findall(r"`((?:\.venv/bin/)?mediation [^`]+)`", readme)
    assert spans
    wrong = {}
    for span in spans:
        words = span.split()
        words[0] = docs.PROG
        try:
            docs.example_command_path(shlex.join(words), group, parse_arguments=False)
        except docs.DocsError as exc:
            wrong[span] = str(exc)
    assert not wrong, wrong


def test_every_exit_code_but_success_has_a_meaning() -> None:
    codes = docs.exit_codes()
    assert [c.value for c in codes] == [int(m) for m in ExitCode]
    assert all(c.meaning for c in codes if c.value != 0), codes


def test_check_names_a_stale_section_and_write_fixes_it(
    tmp_path: Path, readme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "README.md"
    copy.write_text(
        readme.replace(_section(readme, "exit-codes"), "| 0 | `OK` | outdated |\n"),
        encoding="utf-8",
    )
    assert docs.main(["--check", "--readme", str(copy)]) == 1
    assert "'exit-codes'" in capsys.readouterr().err
    assert docs.main(["--write", "--readme", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == docs.rewrite(readme)
    assert docs.main(["--check", "--readme", str(copy)]) == 0


def test_missing_markers_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "README.md"
    copy.write_text("# mediation\n", encoding="utf-8")
    assert docs.main(["--check", "--readme", str(copy)]) == 1
    assert docs.main(["--write", "--readme", str(copy)]) == 1
    assert "no markers" in capsys.readouterr().err


def test_importing_the_module_has_no_side_effects() -> None:
    code = (
        "import sys, mediation.docs; "
        "assert 'mediation.cli' not in sys.modules, 'imports the CLI'; "
        "assert 'sqlalchemy' not in sys.modules, 'imports the ORM'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
