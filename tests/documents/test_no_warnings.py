# ruff: noqa: F811  (the signing tests' fixtures are imported by name)
"""No Python warning reaches a user: the commands that seal and check documents print only
their own words. Run as a user runs them, in a fresh interpreter (the test process has
imported pyHanko long before, and pytest changes the filters), with every warning shown
once (``PYTHONWARNINGS=default``, as ``python -W default``): a warning hidden only by
Python's defaults (a ResourceWarning, a DeprecationWarning outside ``__main__``) is caught
too.

That one run covers a user with ``PYTHONWARNINGS`` unset as well: ``default`` puts a
show-once filter for every category ahead of Python's default filters, which only hide
(``ignore``) some categories and show the rest once, so what an unset user would see is a
part of what this run sees (the program's own ``ignore`` for one pyHanko warning is
inserted ahead of both). The test once ran each command under both settings, in twice the
interpreters, to prove no more than this.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.documents.test_signing import (  # noqa: F401  (fixtures)
    Cli,
    agreed_case,
    cli,
    db,
    env,
    font_cache,
    render_agreement,
    sign_all,
)

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys; sys.argv[0] = 'mediation'; from mediation.cli import main; main()"
#: Every warning shown once (see the module's text).
SHOW_ALL = "default"


def _mediation(
    cwd: Path, *args: str, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARN")}
    environ.update({k: v for k, v in (env or {}).items() if v is not None})
    environ["PYTHONPATH"] = str(ROOT)
    environ["PYTHONWARNINGS"] = SHOW_ALL
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _quiet(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stderr == ""


def test_demo_sign_and_verify_print_no_warning(tmp_path: Path) -> None:
    demo = _mediation(tmp_path, "--db", "demo.db", "demo", "--cases", "2", "--quiet")
    _quiet(demo)  # the demo seals the agreement (doc sign's code path)
    verify = _mediation(tmp_path, "--db", "demo.db", "doc", "verify", "demo-agreement.pdf")
    _quiet(verify)
    assert "验证通过" in verify.stdout


def test_doc_sign_and_doc_verify_print_no_warning(cli: Cli, tmp_path: Path) -> None:
    number = agreed_case(cli, tmp_path)
    sign_all(cli, number)
    render_agreement(cli.db, number)
    cli.ok("keys", "init", "桥头")
    out = tmp_path / "协议书.pdf"
    args = ("--db", cli.db)
    sign = _mediation(
        tmp_path, *args, "doc", "sign", number, "agreement", "-o", str(out),
        env=cli.env,
    )  # fmt: skip
    _quiet(sign)
    assert out.is_file()
    verify = _mediation(
        tmp_path, *args, "doc", "verify", str(out), "--case", number,
        env=cli.env,
    )  # fmt: skip
    _quiet(verify)
    assert "验证通过" in verify.stdout
