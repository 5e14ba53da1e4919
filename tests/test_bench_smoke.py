"""The benchmarks still run: each with the smallest arguments, its figures not judged
(targets are met in full runs, printed, never in tests; see docs/benchmarks.md). Three of
them had stopped running when revision 0018 added the case registers, unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: (script, arguments, what its last line starts with)
SMALL = [
    ("transitions.py", ["--cases", "4", "--chunk", "2"], "ratio="),
    ("overdue.py", ["--proceedings", "300", "--repeat", "1"], "ratio="),
    ("stats.py", ["--proceedings", "300", "--repeat", "1"], "seconds="),
    ("audit_verify.py", ["--cases", "12", "--rounds", "1", "--new", "3"], "ratio="),
]


@pytest.mark.parametrize(("script", "args", "last"), SMALL, ids=[s for s, _, _ in SMALL])
def test_the_benchmark_runs(script: str, args: list[str], last: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].startswith(last), done.stdout[-2000:]
