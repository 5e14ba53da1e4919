"""What the procedure tests (tests/legal/test_procedures_*.py) share: the ``cli`` fixture
over both databases, organisations added through the CLI, and reading a hand-off's new case.
"""

from __future__ import annotations

import json
from typing import Any

from tests.legal.helpers import Cli


def add_org(cli: Cli, code: str, name: str, kind: str, day: str = "2026-01-02") -> None:
    cli.ok("org", "add", code, name, "--level", "county", "--kind", kind, day=day)


def advance_json(cli: Cli, case: str, trigger: str, day: str, **sets: str) -> dict[str, Any]:
    """``case advance ... --json``: the step's result (state, clocks, hand-off)."""
    args = ["case", "advance", case, trigger, "--json"]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    found: dict[str, Any] = json.loads(cli.ok(*args, day=day).stdout)
    return found


def show(cli: Cli, case: str, day: str) -> dict[str, Any]:
    found: dict[str, Any] = cli.json("case", "show", case, day=day)
    return found


def deadlines(cli: Cli, case: str, kind: str, day: str) -> list[dict[str, Any]]:
    """Every clock ``kind`` of the case, oldest first."""
    rows = [d for d in show(cli, case, day)["deadlines"] if d["kind"] == kind]
    return sorted(rows, key=lambda d: d["id"])
