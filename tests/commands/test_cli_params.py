"""Command-line values are converted without pydantic (mediation.commands._params): the
same values as typer's own conversion, messages in Chinese, and no pydantic import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mediation.cli import app


def test_a_command_run_does_not_import_pydantic(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from mediation import cli\n"
        "sys.argv = ['mediation', '--db', sys.argv[1], 'deadline', 'compute', '2026-01-31',"
        " '--months', '1']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines() == ["2026-01-31 起 1个月，至 2026-02-28", "False"]


def test_integers_ranges_paths_and_lists_convert_as_before(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "none.db")
    bad = runner.invoke(app, ["--db", db, "case", "list", "--limit", "x"])
    assert bad.exit_code == 2 and "'x' 不是整数" in bad.output
    low = runner.invoke(app, ["--db", db, "case", "list", "--limit", "0"])
    assert low.exit_code == 2 and "应不小于 1（给出的是 0）" in low.output
    high = runner.invoke(app, ["--db", db, "deadline", "compute", "2026-01-31", "--days", "99999"])
    assert high.exit_code == 2 and "应不大于 36600" in high.output
    ok = runner.invoke(app, ["--db", db, "deadline", "compute", "2026-01-31", "--days", " 3 "])
    assert ok.exit_code == 0 and "至 2026-02-03" in ok.output
