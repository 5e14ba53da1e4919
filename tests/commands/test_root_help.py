"""``mediation --help`` is answered from the help stored in the package
(mediation/commands/root_help.py) without importing typer: the stored text is the one
typer prints, byte for byte, and any command line the stored text does not answer exactly
goes through typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediation import docs
from mediation.docs import stored_help

#: Runs the command line after it through the entry point, then reports whether typer was
#: imported on the way (on stderr, after the command's own output).
_ENTRY = (
    "import sys\n"
    "from mediation.cli import main\n"
    "sys.argv = ['mediation', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
    "sys.stderr.write(f'typer={\"typer\" in sys.modules}')\n"
    "sys.exit(code)\n"
)
#: The same command line through typer only.
_TYPER = (
    "import sys\n"
    "from mediation.commands.root import run\n"
    "sys.argv = ['mediation', *sys.argv[1:]]\n"
    "run()\n"
)


def _run(
    script: str, *args: str, columns: int = 100, **env: str
) -> subprocess.CompletedProcess[bytes]:
    environ = {**os.environ, "COLUMNS": str(columns)}
    environ.pop("_MEDIATION_COMPLETE", None)
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**environ, **env},
        capture_output=True,
        check=False,
    )


def _without_report(stderr: bytes) -> tuple[bytes, bool]:
    text, _, report = stderr.rpartition(b"typer=")
    return text, report == b"True"


def test_the_stored_help_is_current() -> None:
    assert not stored_help.help_is_stale(), (
        "the stored root help differs from typer's; run `.venv/bin/python -m mediation.docs --write`"
    )


def test_help_is_typers_without_importing_typer() -> None:
    stored = _run(_ENTRY, "--help")
    typer = _run(_TYPER, "--help")
    assert (stored.returncode, typer.returncode) == (0, 0)
    assert stored.stdout == typer.stdout
    assert stored.stdout.startswith("用法：mediation [OPTIONS] COMMAND [ARGS]...\n".encode())
    assert _without_report(stored.stderr) == (b"", False)


def test_no_arguments_is_typers_usage_error_without_importing_typer() -> None:
    stored = _run(_ENTRY)
    typer = _run(_TYPER)
    assert (stored.returncode, typer.returncode) == (2, 2)
    assert stored.stdout == typer.stdout == b""
    assert _without_report(stored.stderr) == (typer.stderr, False)


@pytest.mark.parametrize(
    "args", [["-h"], ["--db", "x.db", "--help"], ["case", "--help"], ["--help", "case"]]
)
def test_other_command_lines_go_through_typer(args: list[str]) -> None:
    stored = _run(_ENTRY, *args)
    typer = _run(_TYPER, *args)
    assert stored.returncode == typer.returncode
    assert stored.stdout == typer.stdout
    assert _without_report(stored.stderr) == (typer.stderr, True)


def test_a_narrow_terminal_gets_typers_layout() -> None:
    stored = _run(_ENTRY, "--help", columns=60)
    typer = _run(_TYPER, "--help", columns=60)
    assert stored.stdout == typer.stdout
    # wrapped for 60 columns
    assert "数据库：SQLite 文件路径或 URL，或\n".encode() in stored.stdout
    assert _without_report(stored.stderr) == (b"", True)


def test_shell_completion_goes_through_typer() -> None:
    stored = _run(_ENTRY, "--help", _MEDIATION_COMPLETE="bash_source")
    typer = _run(_TYPER, "--help", _MEDIATION_COMPLETE="bash_source")
    assert (stored.returncode, stored.stdout) == (typer.returncode, typer.stdout)
    assert _without_report(stored.stderr) == (typer.stderr, True)


def test_a_closed_pipe_exits_1_quietly_as_typer_does() -> None:
    """`mediation --help | head -1`: no traceback, no error at exit, exit status 1."""
    done = {}
    for name, script in (("stored", _ENTRY), ("typer", _TYPER)):
        read, write = os.pipe()
        os.close(read)  # nobody reads: the first write fails with EPIPE
        try:
            done[name] = subprocess.run(
                [sys.executable, "-c", script, "--help"],
                env={**os.environ, "COLUMNS": "100"},
                stdout=write,
                stderr=subprocess.PIPE,
                check=False,
            )
        finally:
            os.close(write)
    assert done["stored"].returncode == done["typer"].returncode == 1
    assert _without_report(done["stored"].stderr) == (done["typer"].stderr, False)
    assert done["typer"].stderr == b""


def test_check_names_stale_help_and_write_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "root_help.py"
    module.write_text('ROOT_HELP = "Usage: outdated\\n"\n', encoding="utf-8")
    monkeypatch.setattr(stored_help, "HELP_MODULE", module)
    assert docs.main(["--check"]) == 1
    assert f"{module}: stale stored help" in capsys.readouterr().err
    assert docs.main(["--write"]) == 0
    assert module.read_text(encoding="utf-8") == stored_help.render_help_module()
    assert docs.main(["--check"]) == 0
