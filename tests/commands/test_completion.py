"""Shell completion installs with the one line docs/admin/configuration.md gives, and the
installed script completes commands and options (typer's own completion options stay off:
they would cost every start-up)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mediation.docs import DOCS_DIR

ROOT = Path(__file__).resolve().parents[2]


def _install_line(shell: str) -> str:
    page = (DOCS_DIR / "admin" / "configuration.md").read_text(encoding="utf-8")
    block = re.search(r"## Shell completion\n.*?```sh\n(.*?)```", page, re.S)
    assert block, "the page has no shell-completion block"
    lines = [line for line in block[1].splitlines() if f"source_{shell}" in line]
    assert len(lines) == 1, f"one install line for {shell}"
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An account's environment: its own home, and ``mediation`` (this checkout) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mediation = bin_dir / "mediation"
    mediation.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mediation.cli "$@"\n')
    mediation.chmod(0o755)
    (tmp_path / "home").mkdir()
    return {
        "HOME": str(tmp_path / "home"),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
    }


def _complete(env: dict[str, str], script: Path, *words: str) -> list[str]:
    """What bash completion offers for ``words`` (the last one being typed)."""
    probe = (
        f'source "{script}"; COMP_WORDS=({" ".join(words)}); '
        f"COMP_CWORD={len(words) - 1}; _mediation_completion mediation; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    ran = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


def test_the_documented_bash_line_installs_a_working_completion(home: dict[str, str]) -> None:
    ran = subprocess.run(
        ["bash", "-c", _install_line("bash")],
        env=home,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ran.returncode, ran.stderr) == (0, "")
    script = Path(home["HOME"]) / ".local/share/bash-completion/completions/mediation"
    assert "complete -o default -F _mediation_completion mediation" in script.read_text()
    assert _complete(home, script, "mediation", "ca") == ["case", "calendar"]
    assert _complete(home, script, "mediation", "case", "adv") == ["advance"]
    assert _complete(home, script, "mediation", "scheduler", "run", "--dry") == ["--dry-run"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_the_documented_zsh_and_fish_lines_write_their_scripts(
    shell: str, home: dict[str, str]
) -> None:
    ran = subprocess.run(
        ["bash", "-c", _install_line(shell)], env=home, capture_output=True, text=True, timeout=60
    )
    assert (ran.returncode, ran.stderr) == (0, "")
    target = Path(home["HOME"]) / _install_line(shell).rsplit("~/", 1)[1]
    text = target.read_text()
    assert "_MEDIATION_COMPLETE=complete_" + shell in text
