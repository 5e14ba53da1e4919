"""No Python warning reaches a user: the commands that seal and check documents print only
their own words. Run as a user runs them, in a fresh interpreter with Python's default
warning filters (the test process has imported pyHanko long before, and pytest changes the
filters)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys; sys.argv[0] = 'mediation'; from mediation.cli import main; main()"


def _mediation(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARN")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_sign_and_verify_print_no_warning(tmp_path: Path) -> None:
    demo = _mediation(tmp_path, "--db", "demo.db", "demo", "--cases", "2", "--quiet")
    assert demo.returncode == 0, demo.stderr
    assert demo.stderr == ""  # the demo seals the agreement (doc sign's code path)
    verify = _mediation(tmp_path, "--db", "demo.db", "doc", "verify", "demo-agreement.pdf")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stderr == ""
    assert "验证通过" in verify.stdout
