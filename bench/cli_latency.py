"""Start-up latency of the ``mediation`` command against a baseline measured in the same run.

A person at a mediation centre types ``mediation case show ...`` many times a day, so the
time from Enter to output matters more than throughput. Nearly all of that time is Python
start-up and imports, not the query. The targets (from the issue) are:

- ``mediation --help`` takes at most 0.1 s (it must not import the ORM or the engine);
- ``mediation --db DB case show 1`` takes at most 1.3x ``python -c "import sqlalchemy"``:
  a read command may pay for the ORM it needs, but little more than that.

The machines this runs on are shared and noisy, so absolute figures from different runs
cannot be compared. The baseline (``import sqlalchemy``) is therefore measured in the same
run, and the commands are interleaved round-robin (a, b, c, d, a, b, c, d, ...) so that a
burst of load hits all of them alike; medians (and minima) of N rounds are reported after
warm-up rounds that fill the OS file cache. ``python -c pass`` is the interpreter floor,
shown for information only.

A temporary SQLite database with demo data is created first (not timed).

Usage: python bench/cli_latency.py [--rounds N]
The last line is ``ratio=<median(case show)/median(import sqlalchemy)> target<=1.3 ok|FAIL``.
The figures are reported, not asserted: the exit status is 0 whether or not a target is
met (a missed target is marked FAIL), and non-zero only when a command itself fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HELP_TARGET_SECONDS = 0.1
RATIO_TARGET = 1.3
WARMUP_ROUNDS = 2


def mediation_command() -> list[str]:
    """The ``mediation`` console script next to this interpreter, else ``-m mediation.cli``."""
    script = Path(sys.executable).parent / "mediation"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "mediation.cli"]


def run(argv: Sequence[str], cwd: Path) -> float:
    """Run ``argv`` to completion; return its wall time in seconds. Fails loudly on error."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(
            f"command failed with exit code {proc.returncode}: {' '.join(argv)}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}\n"
        )
        raise SystemExit(f"benchmark aborted: {' '.join(argv)} exited {proc.returncode}")
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=15, help="timed rounds after warm-up (default 15)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    mediation = mediation_command()
    with tempfile.TemporaryDirectory(prefix="mediation-bench-") as tmp:
        # The working directory is the empty temporary folder, so that nothing in the
        # caller's current directory (e.g. bench/transitions.py) shadows a package.
        cwd = Path(tmp)
        db = str(cwd / "bench.db")
        run([*mediation, "--db", db, "demo", "--cases", "30", "--seed", "1", "--quiet"], cwd)
        # As installed, the package has its bytecode (pip compiles it; setup.sh does for
        # the editable install); the sqlalchemy baseline has its own in site-packages.
        package = Path(__file__).resolve().parent.parent / "mediation"
        run([sys.executable, "-m", "compileall", "-q", str(package)], cwd)

        commands: dict[str, list[str]] = {
            "import sqlalchemy": [sys.executable, "-c", "import sqlalchemy"],
            "mediation --help": [*mediation, "--help"],
            "mediation case show 1": [*mediation, "--db", db, "case", "show", "1"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_no in range(WARMUP_ROUNDS + args.rounds):
            for name, cmd in commands.items():
                elapsed = run(cmd, cwd)
                if round_no >= WARMUP_ROUNDS:
                    times[name].append(elapsed)

    medians = {name: statistics.median(values) for name, values in times.items()}
    width = max(len(name) for name in commands)
    # Without written bytecode every run compiles the project's modules from source.
    no_pyc = os.environ.get("PYTHONDONTWRITEBYTECODE") or "unset"
    print(
        f"python={sys.executable} rounds={args.rounds} warmup={WARMUP_ROUNDS}"
        f" PYTHONDONTWRITEBYTECODE={no_pyc}"
    )
    for name, values in times.items():
        print(f"{name:<{width}}  median={medians[name]:.3f}s  min={min(values):.3f}s")

    help_seconds = medians["mediation --help"]
    help_ok = "ok" if help_seconds <= HELP_TARGET_SECONDS else "FAIL"
    print(f"help_seconds={help_seconds:.3f} target<={HELP_TARGET_SECONDS} {help_ok}")

    ratio = medians["mediation case show 1"] / medians["import sqlalchemy"]
    ratio_ok = "ok" if ratio <= RATIO_TARGET else "FAIL"
    print(f"ratio={ratio:.3f} target<={RATIO_TARGET} {ratio_ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
