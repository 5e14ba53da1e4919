"""The crontab lines of the README and of docs/admin/scheduler.md work as written.

Each ``cron`` block is parsed from its page; its lines are run the way cron runs them (the
five time fields dropped, ``\\%`` unescaped, by ``/bin/sh``, the block's ``NAME=value``
lines in the environment) against a database set up as the pages say: created by ``init``,
and the account the lines run as made a supervisor with ``mediation user grant``. On a quiet
day every line exits 0 and prints nothing: cron sends no mail.

What the test cannot have is replaced, and only that: ``/srv/anchors`` and
``/tmp/audit-verify.txt`` by folders of the test's own, ``scp`` by a copy into a folder
standing for the other machine, and the installed ``mediation`` (``/opt/mediation/...`` or
the one on ``PATH``) by this checkout's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediation.cli import app
from mediation.docs import DOCS_DIR, README_PATH
from mediation.storage.store import Store

NOW = "2026-03-10T09:00:00+08:00"
_ENV_LINE = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$")


def cron_lines(markdown: str) -> tuple[dict[str, str], list[str]]:
    """The environment lines and the commands of the page's ``cron`` blocks."""
    env: dict[str, str] = {}
    commands: list[str] = []
    for block in re.findall(r"```cron\n(.*?)```", markdown, re.S):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            assignment = _ENV_LINE.match(line)
            if assignment:
                env[assignment[1]] = assignment[2]
                continue
            fields = line.split(None, 5)
            assert len(fields) == 6, f"not a crontab line: {line!r}"
            commands.append(fields[5].replace("\\%", "%"))  # cron's own unescaping
    return env, commands


def _cli(db_url: str, *args: str) -> None:
    result = CliRunner().invoke(app, ["--db", db_url, *args], env={"MEDIATION_NOW": NOW})
    assert result.exit_code == 0, result.output


@pytest.fixture
def quiet_day(db_url: str, tmp_path: Path) -> str:
    """A database as the pages set it up, with one case whose deadline is weeks away."""
    _cli(
        db_url,
        "init",
        "--training",
        "--org-code",
        "城关",
        "--org-name",
        "城关镇人民调解委员会",
        "--level",
        "township",
    )
    _cli(
        db_url,
        "org",
        "add",
        "桥头",
        "桥头村人民调解委员会",
        "--level",
        "village",
        "--parent",
        "城关",
    )
    login = Store(db_url).login()
    _cli(db_url, "user", "grant", login, "supervisor")  # cron runs as this account
    examples = Path(__file__).resolve().parents[1] / "data" / "examples"
    _cli(db_url, "case", "open", "--from", str(examples / "intake.toml"))
    _cli(db_url, "case", "advance", "1", "accept")  # due 2026-04-02: nothing to remind of yet
    return db_url


def _shell(tmp_path: Path, db_url: str, page_env: dict[str, str]) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mediation = bin_dir / "mediation"
    mediation.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mediation.cli "$@"\n')
    backup = tmp_path / "backup"
    backup.mkdir()
    scp = bin_dir / "scp"  # the other machine is a folder here
    scp.write_text(f'#!/bin/sh\n[ "$1" = -q ] && shift\nexec cp "$1" "{backup}/"\n')
    for tool in (mediation, scp):
        tool.chmod(0o755)
    (tmp_path / "anchors").mkdir()
    root = Path(__file__).resolve().parents[1]
    return {
        **{k: v for k, v in os.environ.items() if k not in ("MEDIATION_DB", "MEDIATION_USER")},
        **page_env,
        "MEDIATION_DB": db_url,
        "MEDIATION_NOW": NOW,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": str(root),
    }


def _as_here(command: str, tmp_path: Path) -> str:
    return (
        command.replace("/opt/mediation/.venv/bin/mediation", "mediation")
        .replace("/srv/anchors", str(tmp_path / "anchors"))
        .replace("/tmp/audit-verify.txt", str(tmp_path / "audit-verify.txt"))
    )


@pytest.mark.parametrize("page", ["README.md", "admin/scheduler.md"])
def test_the_crontab_lines_are_silent_on_a_quiet_day(
    page: str, quiet_day: str, tmp_path: Path
) -> None:
    path = README_PATH if page == "README.md" else DOCS_DIR / page
    page_env, commands = cron_lines(path.read_text(encoding="utf-8"))
    assert any("report overdue" in c for c in commands)
    assert any("audit checkpoint" in c for c in commands)
    assert any("audit verify --since" in c for c in commands)
    env = _shell(tmp_path, quiet_day, page_env)
    for command in commands:
        ran = subprocess.run(
            ["/bin/sh", "-c", _as_here(command, tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", ""), command
    assert len(list((tmp_path / "backup").glob("audit-*.json"))) == 1


def test_without_the_role_cron_mails_the_reason(db_url: str, tmp_path: Path) -> None:
    """The account cron runs as is only an admin: the overdue report says which role it
    lacks and how to grant it, and exits 9."""
    _cli(
        db_url,
        "init",
        "--training",
        "--org-code",
        "城关",
        "--org-name",
        "城关镇人民调解委员会",
        "--level",
        "township",
    )
    _, commands = cron_lines(README_PATH.read_text(encoding="utf-8"))
    report = next(c for c in commands if "report overdue" in c)
    ran = subprocess.run(
        ["/bin/sh", "-c", report],
        env=_shell(tmp_path, db_url, {}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 9
    assert "supervisor" in ran.stderr and "mediation user grant" in ran.stderr
