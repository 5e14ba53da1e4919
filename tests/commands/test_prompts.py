"""``case open`` without a file asks for the intake field by field: each answer is checked
as typed (the intake's own rules) and asked again when wrong, a mistyped committee code
gets a did-you-mean, the referral fields of a referring channel and the parties' every
field are asked, and Ctrl-C / Ctrl-D end with 「已取消」 and exit 130, nothing written.

Through typer's CliRunner (``input=``; its end is Ctrl-D), and once in a real
pseudo-terminal for Ctrl-C and for ``case advance`` asking for a session's place.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from mediation.cli import app
from mediation.storage.store import Store
from tests.conftest import interruptible

NOW = "2026-03-02T09:00:00+08:00"
ROOT = Path(__file__).resolve().parents[2]


def cli(runner: CliRunner, db: str, *args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["--db", db, *args], input=input, env={"MEDIATION_NOW": NOW})


def answers(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


#: The dispute's questions in the schema's order (organisation first), answered.
DISPUTE = (
    "桥头",  # organisation
    "",  # flow: peoples (default)
    "邻里",  # dispute_type, by its label
    "walk_in",  # channel
    "",  # application_mode: written
    "通道堆放杂物纠纷",  # title
    "张三与李四因通道堆放杂物发生争执。",  # summary
    "请求清理杂物。",  # claims
    "",  # received_at: now
    "",  # risk_level: green
)
#: A person with every particular, the resident ID giving the birth date.
APPLICANT = ("", "张三", "男", "汉族", "11010519491231002X", "13812345678", "桥头村12号", "农民")
#: A person with a name only.
RESPONDENT = ("", "李四", "", "", "", "", "", "", "")
#: A company as third party, with its legal representative.
THIRD_PARTY = ("第三人", "organisation", "江城物业有限公司", "", "", "", "王五")


def cases(runner: CliRunner, db: str) -> list[dict[str, Any]]:
    result = cli(runner, db, "case", "list", "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def test_every_answer_is_checked_as_typed_and_asked_again(
    store: Store, db_url: str, runner: CliRunner
) -> None:
    dispute = ("桥投", *DISPUTE)  # a typo in the committee's code first
    applicant = list(APPLICANT)
    applicant[4:5] = ["110105194912310021", "11010519491231002X"]  # a bad check digit first
    typed = answers(*dispute, *applicant, *RESPONDENT, *THIRD_PARTY, "")
    result = cli(runner, db_url, "case", "open", "-i", "--json", input=typed)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "没有代码为 '桥投' 的调委会（是否应为 桥头？），请重新输入" in result.stderr
    assert "居民身份证号码无效" in result.stderr
    opened = json.loads(result.stdout[result.stdout.index("{") :])

    shown = json.loads(
        cli(
            runner, db_url, "case", "show", str(opened["proceeding_id"]), "--json", "--reveal"
        ).stdout
    )
    assert shown["proceeding"]["organisation"]["code"] == "桥头"
    assert shown["dispute"]["dispute_type"] == "neighbourhood"
    parties = {p["name"]: p for p in shown["parties"]}
    assert set(parties) == {"张三", "李四", "江城物业有限公司"}
    zhang = parties["张三"]
    assert (zhang["gender"], zhang["ethnicity"], zhang["occupation"]) == ("male", "汉族", "农民")
    assert (zhang["id_number"], str(zhang["birth_date"])) == ("11010519491231002X", "1949-12-31")
    company = parties["江城物业有限公司"]
    assert (company["role"], company["kind"], company["legal_representative"]) == (
        "third_party",
        "organisation",
        "王五",
    )


def test_a_referring_channel_asks_for_the_referral(
    store: Store, db_url: str, runner: CliRunner
) -> None:
    dispute = list(DISPUTE)
    dispute[3] = "法院委派/委托"  # channel: court, by its label
    # referring_organ and referral_ref come last (the schema's order): an empty answer is
    # asked again (required for this channel).
    dispute += ["", "青山县人民法院", "（2026）浙0681民诉前调1号"]
    typed = answers(*dispute, *APPLICANT, *RESPONDENT, "")
    result = cli(runner, db_url, "case", "open", "-i", "--json", input=typed)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "移送/委派机关" in result.stdout and "[referral_ref]" in result.stdout
    case = json.loads(result.stdout[result.stdout.index("{") :])["proceeding_id"]
    dispute_row = json.loads(cli(runner, db_url, "case", "show", str(case), "--json").stdout)[
        "dispute"
    ]
    assert (
        dispute_row["channel"],
        dispute_row["referring_organ"],
        dispute_row["referral_ref"],
    ) == (
        "court",
        "青山县人民法院",
        "（2026）浙0681民诉前调1号",
    )


def test_ctrl_d_cancels_in_chinese_and_writes_nothing(
    store: Store, db_url: str, runner: CliRunner
) -> None:
    for typed in ("", answers(*DISPUTE), answers(*DISPUTE, *APPLICANT[:3])):
        result = cli(runner, db_url, "case", "open", "-i", input=typed)
        assert result.exit_code == 130, (typed, result.output)
        assert result.stderr.strip().endswith("已取消")
        assert "Aborted" not in result.output
    assert cases(runner, db_url) == []


# -- a real terminal ------------------------------------------------------------------


def _spawn(db: str, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """``mediation --db DB ARGS`` with a pseudo-terminal as its stdin, stdout and stderr."""
    leader, follower = pty.openpty()
    env = {**os.environ, "MEDIATION_NOW": NOW, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    code = "from mediation.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--db", db, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
        preexec_fn=interruptible,
    )
    os.close(follower)
    return proc, leader


def _read_until(fd: int, text: str, seen: bytearray, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {text!r} in {seen.decode(errors='replace')!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the process ended: EIO on Linux
                break
            seen.extend(chunk)
    return seen.decode(errors="replace")


def _finish(proc: subprocess.Popen[bytes], fd: int, seen: bytearray) -> str:
    # Drain the terminal while waiting: a child blocked writing to a full terminal would
    # never exit.
    deadline = time.monotonic() + 60
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen.extend(chunk)
    os.close(fd)
    proc.wait(timeout=30)
    return seen.decode(errors="replace")


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Press Ctrl-C at the prompt just shown: SIGINT to the terminal's foreground group.

    The prompt appears a moment before the process blocks reading the terminal; a signal
    in that gap is noted by Python but acted on only when the read returns (no person
    types that fast, a test does). So wait until the process sleeps in its read, as it
    does while a person thinks, then press.
    """
    deadline = time.monotonic() + 10
    stat = Path(f"/proc/{proc.pid}/stat")
    while time.monotonic() < deadline:
        # /proc/PID/stat: "pid (comm) STATE ..."; S is sleeping (here: in read).
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "S":
            break
        time.sleep(0.02)
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)


def test_ctrl_c_in_a_terminal_cancels(store: Store, db_url: str, runner: CliRunner) -> None:
    proc, fd = _spawn(db_url, "case", "open")  # no -i: the terminal is enough
    seen = bytearray()
    _read_until(fd, "[organisation]", seen)
    os.write(fd, "桥头\n".encode())
    _read_until(fd, "[flow] [peoples]:", seen)
    _interrupt(proc)
    output = _finish(proc, fd, seen)
    assert proc.returncode == 130, output
    assert "已取消" in output
    assert "Aborted" not in output and "Traceback" not in output
    assert cases(runner, db_url) == []


def test_advance_in_a_terminal_asks_for_what_the_documents_need(
    store: Store, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    from tests.conftest import intake_record

    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake_record(), ensure_ascii=False), encoding="utf-8")
    case = json.loads(cli(runner, db_url, "case", "open", "--from", str(path), "--json").stdout)
    pid = str(case["proceeding_id"])
    examples = ROOT / "data" / "examples"
    for step in (["accept"], ["assign", "--data", str(examples / "assign.toml")], ["inform"]):
        assert cli(runner, db_url, "case", "advance", pid, *step).exit_code == 0

    proc, fd = _spawn(
        db_url,
        "case",
        "advance",
        pid,
        "record_session",
        "--set",
        "kind=调查",
        "--set",
        "summary=查看现场",
    )
    seen = bytearray()
    _read_until(fd, "[place]", seen)
    os.write(fd, "桥头村委会\n".encode())
    output = _finish(proc, fd, seen)
    assert proc.returncode == 0, output
    assert "调查记录须载明" in output and "注意" not in output
    history = json.loads(cli(runner, db_url, "case", "history", pid, "--json").stdout)
    assert history["events"][-1]["payload"]["place"] == "桥头村委会"
