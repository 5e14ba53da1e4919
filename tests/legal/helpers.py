"""Driving the real CLI for the legal-dates tests: one helper per command they use.

Every step runs ``mediation`` through ``typer.testing.CliRunner`` on the fixture's database
with ``MEDIATION_NOW`` set to the step's moment (Beijing time).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.errors import ExitCode
from tests.conftest import intake_record

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
ACTOR = "mediator1"
ORG_NAME = "桥头村人民调解委员会"  # tests.conftest.LADDER
_files = itertools.count()


def at(day: str, time: str = "09:00") -> str:
    """``MEDIATION_NOW`` for ``day`` at ``time``, Beijing time."""
    return f"{day}T{time}:00+08:00"


class Cli:
    """``mediation --db DB --as ACTOR ...`` at a given moment."""

    def __init__(self, runner: CliRunner, db: str, tmp_path: Path) -> None:
        self.runner, self.db, self.tmp_path = runner, db, tmp_path

    def __call__(self, *args: str, day: str, actor: str = ACTOR) -> Result:
        return self.runner.invoke(app, ["--db", self.db, *args], env={"MEDIATION_NOW": at(day)})

    def ok(self, *args: str, day: str, actor: str = ACTOR) -> Result:
        result = self(*args, day=day, actor=actor)
        assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr)
        return result

    def refused(self, *args: str, day: str, actor: str = ACTOR) -> Result:
        """A refusal: exit 5 (not allowed), with the reason on stderr."""
        result = self(*args, day=day, actor=actor)
        assert result.exit_code == ExitCode.NOT_ALLOWED, (
            args,
            result.exit_code,
            result.stdout,
            result.stderr,
        )
        return result

    def json(self, *args: str, day: str) -> Any:
        return json.loads(self.ok(*args, "--json", day=day).stdout)

    # -- cases --------------------------------------------------------------------------

    def open(self, day: str, **changes: Any) -> str:
        """Open a case from an intake record (tests.conftest.intake_record + ``changes``)."""
        path = self.tmp_path / f"intake-{next(_files)}.json"
        path.write_text(json.dumps(intake_record(**changes), ensure_ascii=False), "utf-8")
        number: str = self.json("case", "open", "--from", str(path), day=day)["case_number"]
        return number

    def advance(self, case: str, trigger: str, day: str, *extra: str, **sets: str) -> Result:
        args = ["case", "advance", case, trigger, *extra]
        for key, value in sets.items():
            args += ["--set", f"{key}={value}"]
        return self(*args, day=day)

    def step(self, case: str, trigger: str, day: str, *extra: str, **sets: str) -> Result:
        result = self.advance(case, trigger, day, *extra, **sets)
        assert result.exit_code == 0, (trigger, result.exit_code, result.stdout, result.stderr)
        return result

    def to_agreement(self, case: str, day: str) -> None:
        """applied → accepted → assigned → informed → mediating → agreed_written, on ``day``."""
        self.step(case, "accept", day)
        self.step(case, "assign", day, "--data", str(EXAMPLES / "assign.toml"))
        self.step(case, "inform", day)
        self.step(case, "record_session", day, kind="mediation", summary="双方陈述，调解员释法。")
        self.step(case, "agree_written", day, "--data", str(EXAMPLES / "agreement.toml"))

    def sign(self, case: str, signer: str, kind: str, day: str) -> Result:
        method = {"party": "sign", "mediator": "sign", "committee": "seal"}[kind]
        return self.ok(
            "doc", "record-signature", case, "--signer", signer, f"--{kind}",
            "--method", method, day=day,
        )  # fmt: skip

    def sign_all(self, case: str, day: str) -> None:
        """Both parties, the mediator (data/examples/assign.toml) and the committee's seal."""
        self.sign(case, "张三", "party", day)
        self.sign(case, "李四", "party", day)
        self.sign(case, "周明", "mediator", day)
        self.sign(case, ORG_NAME, "committee", day)

    def apply_confirmation(self, case: str, day: str) -> Result:
        return self.advance(
            case, "apply_confirmation", day, court="青山县人民法院", consented_by="张三、李四"
        )

    def deadline(self, case: str, kind: str, day: str) -> dict[str, Any]:
        """The case's latest deadline row of ``kind``."""
        rows = [
            d for d in self.json("case", "show", case, day=day)["deadlines"] if d["kind"] == kind
        ]
        assert rows, f"no {kind} deadline on {case}"
        found: dict[str, Any] = max(rows, key=lambda d: d["id"])
        return found

    def state(self, case: str, day: str) -> str:
        state: str = self.json("case", "show", case, day=day)["proceeding"]["state"]
        return state

    def events(self, case: str, day: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.json("case", "history", case, day=day)["events"]
        return found

    def scheduler(self, day: str) -> Any:
        return self.json("scheduler", "run", "--once", day=day)
