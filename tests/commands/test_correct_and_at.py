"""Correcting a recorded step (``case correct``) and declaring when a step happened
(``case advance --at``, ``doc record-signature --at``): issue 15 "Data entry that cannot
trap anyone", issue 13 point 1 ("time is the client's").

Through the real CLI on both databases, the clock pinned by ``MEDIATION_NOW``; the
documents are read back with ``pdftotext``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.errors import ExitCode
from mediation.storage.store import Store
from tests.conftest import add_users, intake_record

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
MEDIATOR = "med1"  # a mediator of 桥头, the cases' committee
ELSEWHERE = "med_cg"  # a mediator of 城关
SUPERVISOR = "sup1"
CLERK = "clerk1"  # staff of 桥头
SESSION = {"kind": "mediation", "summary": "双方陈述各自意见，调解员释法说理。", "place": "村委会"}


def at(day: str, time: str = "09:00") -> str:
    return f"2026-{day}T{time}:00+08:00"


@pytest.fixture
def db(store: Store, db_url: str) -> Iterator[str]:
    add_users(store, MEDIATOR, roles=("mediator",))
    add_users(store, CLERK, roles=("staff",))
    add_users(store, SUPERVISOR, roles=("mediator", "supervisor"))
    add_users(store, ELSEWHERE, roles=("mediator", "staff"), organisation="城关")
    store.close()
    yield db_url


class Cli:
    def __init__(self, runner: CliRunner, db: str, tmp_path: Path) -> None:
        self.runner, self.db, self.tmp_path = runner, db, tmp_path

    def __call__(self, *args: str, now: str, actor: str = MEDIATOR) -> Result:
        acting = ["--as", actor] if actor else []  # the runner (an admin) acts for them
        return self.runner.invoke(
            app, ["--db", self.db, *acting, *args], env={"MEDIATION_NOW": now}
        )

    def ok(self, *args: str, now: str, actor: str = MEDIATOR) -> Result:
        result = self(*args, now=now, actor=actor)
        assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr)
        return result

    def fails(self, code: ExitCode, *args: str, now: str, actor: str = MEDIATOR) -> str:
        """The command exits ``code``; its message (stderr)."""
        result = self(*args, now=now, actor=actor)
        assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result.stderr

    def json(self, *args: str, now: str, actor: str = MEDIATOR) -> Any:
        return json.loads(self.ok(*args, "--json", now=now, actor=actor).stdout)

    @staticmethod
    def advance(case: str, trigger: str, *extra: str, **sets: str) -> list[str]:
        """The arguments of ``case advance``."""
        args = ["case", "advance", case, trigger, *extra]
        for key, value in sets.items():
            args += ["--set", f"{key}={value}"]
        return args

    def step(self, case: str, trigger: str, *extra: str, now: str, **sets: str) -> Result:
        return self.ok(*self.advance(case, trigger, *extra, **sets), now=now)

    def open(self, now: str) -> str:
        path = self.tmp_path / "intake.json"
        path.write_text(json.dumps(intake_record(), ensure_ascii=False), encoding="utf-8")
        number: str = self.json("case", "open", "--from", str(path), now=now)["case_number"]
        return number

    def to_informed(self, now: str) -> str:
        """A case opened, accepted, assigned and informed at ``now`` (events #1-#4)."""
        case = self.open(now)
        self.step(case, "accept", now=now)
        self.step(case, "assign", "--data", str(EXAMPLES / "assign.toml"), now=now)
        self.step(case, "inform", now=now)
        return case

    def history(self, case: str, now: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.json("case", "history", case, now=now)["events"]
        return found

    def record_pdf(self, case: str, now: str) -> str:
        """The 人民调解记录 (the 调解笔录) as ``doc render`` writes it, as text."""
        out = self.tmp_path / f"record-{len(list(self.tmp_path.glob('*.pdf')))}.pdf"
        self.ok("doc", "render", case, "record", "-o", str(out), now=now, actor=CLERK)
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, check=True
        ).stdout.decode("utf-8")
        return re.sub(r"\s+", "", text)


@pytest.fixture
def cli(runner: CliRunner, db: str, tmp_path: Path) -> Cli:
    return Cli(runner, db, tmp_path)


# -- case correct ---------------------------------------------------------------------


def test_a_correction_changes_what_the_record_prints_and_the_history_shows_both(
    cli: Cli,
) -> None:
    case = cli.to_informed(at("03-02"))
    cli.step(case, "record_session", now=at("03-03", "10:00"), **SESSION)
    assert "村委会" in cli.record_pdf(case, at("03-03", "11:00"))

    out = cli.ok(
        *("case", "correct", case, "5", "--set", "place=桥头村调解室", "--reason", "笔误"),
        now=at("03-04"),
    ).stdout
    assert "已更正 #5" in out and "place: 村委会 → 桥头村调解室" in out

    text = cli.record_pdf(case, at("03-04", "10:00"))
    assert "桥头村调解室" in text and "村委会" not in text

    # The history keeps the step as recorded and shows the correction: who, when, why,
    # the old and the new value.
    events = cli.history(case, at("03-04"))
    assert [e["trigger"] for e in events][-2:] == ["record_session", "correct"]
    session, correction = events[-2:]
    assert session["payload"]["place"] == "村委会" and session["corrected_by"] == [6]
    assert correction["actor"] == MEDIATOR and correction["note"] == "笔误"
    assert correction["from_state"] == correction["to_state"] == "mediating"
    assert correction["payload"] == {
        "seq": 5,
        "trigger": "record_session",
        "changed": {"place": {"before": "村委会", "after": "桥头村调解室"}},
    }
    shown = cli.ok("case", "history", case, now=at("03-04")).stdout
    assert "已更正，见 #6" in shown
    assert f"#6 2026-03-04 09:00 {MEDIATOR} 更正 #5 record_session（理由：笔误）" in shown
    assert "place: 村委会 → 桥头村调解室" in shown

    # The latest correction wins; case show gives the value now.
    cli.ok(
        *("case", "correct", case, "5", "--set", "place=村文化礼堂", "--reason", "再次核对"),
        now=at("03-04", "09:30"),
    )
    detail = cli.json("case", "show", case, now=at("03-04", "10:00"))
    assert detail["proceeding"]["state"] == "mediating"
    assert detail["corrections"] == [
        {
            "seq": 5,
            "trigger": "record_session",
            "field": "place",
            "value": "村文化礼堂",
            "corrected_by": [6, 7],
        }
    ]
    assert detail["proceeding"]["facts"]["record_session"]["place"] == "村文化礼堂"
    assert (
        "#5 record_session place: 村文化礼堂（#6、#7 更正）"
        in cli.ok("case", "show", case, now=at("03-04", "10:00")).stdout
    )
    assert "村文化礼堂" in cli.record_pdf(case, at("03-04", "11:00"))

    # The chain covers the corrections: the record still proves itself.
    cli.ok("audit", "verify", now=at("03-04", "12:00"), actor="")


def test_an_unknown_field_is_refused_with_the_one_meant(cli: Cli) -> None:
    case = cli.to_informed(at("03-02"))
    cli.step(case, "record_session", now=at("03-03"), **SESSION)
    correct = ("case", "correct", case, "5")
    message = cli.fails(
        ExitCode.INVALID_INPUT,
        *correct,
        *("--set", "plase=调解室", "--reason", "笔误"),
        now=at("03-04"),
    )
    assert "plase" in message and "'place'" in message
    # A choice by its label; a value the step would refuse.
    message = cli.fails(
        ExitCode.INVALID_INPUT, *correct, "--set", "kind=调查", "--reason", "笔误", now=at("03-04")
    )
    assert "kind" in message and "不能更正" in message and "调解笔录" in message
    # A required field may not be emptied; a step without data has nothing to correct.
    message = cli.fails(
        ExitCode.INVALID_INPUT, *correct, "--set", "summary=", "--reason", "笔误", now=at("03-04")
    )
    assert "summary" in message and "缺少必填字段" in message
    message = cli.fails(
        ExitCode.INVALID_INPUT,
        *("case", "correct", case, "2", "--set", "place=x", "--reason", "笔误"),
        now=at("03-04"),
    )
    assert "没有可更正的数据" in message and "#5 record_session" in message
    cli.fails(
        ExitCode.NOT_FOUND,
        *("case", "correct", case, "99", "--set", "place=x", "--reason", "笔误"),
        now=at("03-04"),
    )
    assert [e["trigger"] for e in cli.history(case, at("03-04"))][-1] == "record_session"


def test_a_correction_needs_a_reason(cli: Cli) -> None:
    case = cli.to_informed(at("03-02"))
    cli.step(case, "record_session", now=at("03-03"), **SESSION)
    for reason in ("", "   "):
        message = cli.fails(
            ExitCode.INVALID_INPUT,
            *("case", "correct", case, "5", "--set", "place=调解室", "--reason", reason),
            now=at("03-04"),
        )
        assert "--reason" in message and "缺少理由" in message
    result = cli("case", "correct", case, "5", "--set", "place=调解室", now=at("03-04"))
    assert result.exit_code == ExitCode.USAGE  # --reason is required
    assert [e["trigger"] for e in cli.history(case, at("03-04"))][-1] == "record_session"


def test_who_may_correct(cli: Cli) -> None:
    case = cli.to_informed(at("03-02"))
    cli.step(case, "record_session", now=at("03-03"), **SESSION)
    args = ("case", "correct", case, "5", "--set", "place=调解室", "--reason", "笔误")
    message = cli.fails(ExitCode.PERMISSION, *args, now=at("03-04"), actor=ELSEWHERE)
    assert "属于其他调委会" in message
    # The committee's staff keep its record; a supervisor corrects anywhere.
    cli.ok(*args, now=at("03-04"), actor=CLERK)
    cli.ok(
        *("case", "correct", case, "5", "--set", "place=调解室二", "--reason", "核对"),
        now=at("03-04", "10:00"),
        actor=SUPERVISOR,
    )
    assert [e["actor"] for e in cli.history(case, at("03-05"))][-2:] == [CLERK, SUPERVISOR]


# -- --at -----------------------------------------------------------------------------


def test_a_declared_time_is_printed_and_the_history_shows_both_times(cli: Cli) -> None:
    case = cli.to_informed(at("03-02"))
    # The session was held yesterday afternoon; it is recorded this morning.
    cli.step(case, "record_session", "--at", "2026-03-05 15:30", now=at("03-06"), **SESSION)
    session = cli.history(case, at("03-06"))[-1]
    assert session["payload"]["happened_at"] == "2026-03-05T15:30:00+08:00"
    assert session["occurred_at"] == "2026-03-06T09:00:00+08:00"  # recorded: now
    assert session["happened_at"] == "2026-03-05T15:30:00+08:00"
    assert "2026-03-0515:30（2026-03-0609:00登记）" in re.sub(
        r"\s+", "", cli.ok("case", "history", case, now=at("03-06")).stdout
    )
    text = cli.record_pdf(case, at("03-06", "10:00"))
    assert "2026年3月5日15时30分" in text and "2026年3月6日9时" not in text
    # The other accepted forms: a T, or a bare date (09:00).
    cli.step(
        case, "record_session", "--at", "2026-03-06T08:15", now=at("03-06", "10:00"), **SESSION
    )
    cli.step(case, "record_session", "--at", "2026-03-06", now=at("03-06", "10:00"), **SESSION)
    declared = [e["payload"].get("happened_at") for e in cli.history(case, at("03-06"))][-2:]
    assert declared == ["2026-03-06T08:15:00+08:00", "2026-03-06T09:00:00+08:00"]
    message = cli.fails(
        ExitCode.INVALID_INPUT,
        *cli.advance(case, "record_session", "--at", "昨天", **SESSION),
        now=at("03-06", "10:00"),
    )
    assert "不是日期或时间" in message and "YYYY-MM-DD HH:MM" in message


def test_a_declared_time_in_the_future_or_before_the_previous_step_is_refused(
    cli: Cli,
) -> None:
    case = cli.to_informed(at("03-02", "10:00"))
    future = cli.advance(case, "record_session", "--at", "2026-03-03 12:00", **SESSION)
    message = cli.fails(ExitCode.INVALID_INPUT, *future, now=at("03-03", "11:00"))
    assert "晚于当前时间" in message
    before = cli.advance(case, "record_session", "--at", "2026-03-02 09:30", **SESSION)
    message = cli.fails(ExitCode.INVALID_INPUT, *before, now=at("03-03", "11:00"))
    assert "早于本案上一步骤" in message and "#4 inform" in message
    assert len(cli.history(case, at("03-03"))) == 4
    # The previous step's declared time is the bound, not its recording time.
    cli.step(
        case, "record_session", "--at", "2026-03-03 09:00", now=at("03-03", "11:00"), **SESSION
    )
    again = cli.advance(case, "record_session", "--at", "2026-03-03 08:00", **SESSION)
    message = cli.fails(ExitCode.INVALID_INPUT, *again, now=at("03-03", "12:00"))
    assert "2026-03-03 09:00" in message
    # A correction is bookkeeping, not a step: it does not move the bound.
    cli.ok(
        *("case", "correct", case, "5", "--set", "place=调解室", "--reason", "笔误"),
        now=at("03-03", "12:00"),
    )
    cli.step(
        case, "record_session", "--at", "2026-03-03 10:00", now=at("03-03", "12:30"), **SESSION
    )


def test_more_than_seven_days_back_only_a_supervisor(cli: Cli) -> None:
    case = cli.open(at("03-02"))
    cli.step(case, "accept", now=at("03-02"))
    cli.step(case, "assign", "--data", str(EXAMPLES / "assign.toml"), now=at("03-02"))
    late = cli.advance(case, "inform", "--at", "2026-03-04 10:00")
    message = cli.fails(ExitCode.PERMISSION, *late, now=at("03-12", "10:30"), actor=MEDIATOR)
    assert "超过7日" in message and "督办人员" in message
    # Exactly seven days is still the mediator's.
    seven = cli.advance(case, "inform", "--at", "2026-03-05 10:30")
    cli.ok(*seven, now=at("03-12", "10:30"), actor=MEDIATOR)
    other = cli.open(at("03-02"))
    cli.step(other, "accept", now=at("03-02"))
    cli.step(other, "assign", "--data", str(EXAMPLES / "assign.toml"), now=at("03-02"))
    late = cli.advance(other, "inform", "--at", "2026-03-04 10:00")
    cli.ok(*late, now=at("03-12", "10:30"), actor=SUPERVISOR)
    assert cli.history(other, at("03-12"))[-1]["actor"] == SUPERVISOR


def test_the_clocks_of_a_declared_step_count_from_its_day(cli: Cli) -> None:
    """Accepted yesterday, recorded today: the month to mediate runs from yesterday."""
    case = cli.open(at("03-02"))
    out = cli.step(case, "accept", "--at", "2026-03-02 15:00", now=at("03-03")).stdout
    assert "至 2026-04-02" in out
    (deadline,) = cli.json("case", "show", case, now=at("03-03"))["deadlines"]
    assert deadline["starts_on"] == "2026-03-02" and deadline["due"] == "2026-04-02"


def test_a_signature_time_is_bounded_like_any_step(cli: Cli) -> None:
    case = cli.to_informed(at("03-02"))
    cli.step(case, "record_session", now=at("03-03"), **SESSION)
    cli.step(case, "agree_written", "--data", str(EXAMPLES / "agreement.toml"), now=at("03-04"))
    sign = ("doc", "record-signature", case, "--signer", "张三", "--party", "--method", "sign")
    message = cli.fails(ExitCode.INVALID_INPUT, *sign, "--at", "2026-03-03 16:00", now=at("03-05"))
    assert "早于本案上一步骤" in message and "agree_written" in message
    message = cli.fails(ExitCode.PERMISSION, *sign, "--at", "2026-03-04 10:00", now=at("03-13"))
    assert "督办人员" in message
    cli.ok(*sign, "--at", "2026-03-04 10:00", now=at("03-13"), actor=SUPERVISOR)
    # Signatures of one agreement are made at one table, recorded in any order.
    other = ("doc", "record-signature", case, "--signer", "李四", "--party", "--method", "sign")
    cli.ok(*other, "--at", "2026-03-04 09:30", now=at("03-13"), actor=SUPERVISOR)
