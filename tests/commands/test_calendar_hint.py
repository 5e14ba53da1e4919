"""The December warning about next year's calendar: it names a file that exists (the model
to copy) and the command that really loads a year, and it is printed only when the command
did what was asked. The clock is set to December here (MEDIATION_NOW)."""

from __future__ import annotations

import re
from pathlib import Path

from mediation.cli import app
from tests.conftest import intake_record

ROOT = Path(__file__).resolve().parents[2]
#: The year file shipped as the model for a new year's file (docs/deadlines.md).
MODEL_YEAR_FILE = "data/holidays/2026.toml"
DECEMBER = {"MEDIATION_NOW": "2026-12-02T09:00:00+08:00"}


def _cli(runner, db_url, *args):
    return runner.invoke(app, ["--db", db_url, *args], env=DECEMBER)


def _warning(text: str) -> str | None:
    return next((line for line in text.splitlines() if "节假日安排尚未载入" in line), None)


def test_the_warning_names_a_real_file_and_the_real_command(store, db_url, runner, tmp_path):
    store.close()
    out = _cli(runner, db_url, "deadline", "compute", "2026-12-02", "--months", "1")
    assert out.exit_code == 0, out.output
    warning = _warning(out.stderr)
    assert warning is not None, out.stderr
    assert MODEL_YEAR_FILE in warning and (ROOT / MODEL_YEAR_FILE).is_file()
    for named in re.findall(r"data/holidays/\d{4}\.toml", warning):
        assert named in (MODEL_YEAR_FILE, "data/holidays/2027.toml"), named
    assert "data/holidays/2027.toml" in warning  # ... which the warning says to create
    command = re.search(r"`mediation (calendar load \S+)`", warning)
    assert command is not None, warning

    # Doing what it says works: the model's fields, written for 2027, loaded by the command.
    model = (ROOT / MODEL_YEAR_FILE).read_text(encoding="utf-8")
    assert all(f"\n{key} = " in model for key in ("year", "source", "holidays", "workdays"))
    target = tmp_path / "data" / "holidays" / "2027.toml"
    target.parent.mkdir(parents=True)
    target.write_text(
        'year = 2027\nsource = "测试用通知"\nholidays = ["2027-01-01..2027-01-03"]\n'
        "workdays = []\n",
        encoding="utf-8",
    )
    args = command.group(1).split()
    out = _cli(runner, db_url, *args[:-1], str(tmp_path / args[-1]))
    assert out.exit_code == 0, out.output
    out = _cli(runner, db_url, "deadline", "compute", "2026-12-02", "--months", "1")
    assert out.exit_code == 0 and _warning(out.stderr) is None, out.output


def test_no_warning_when_the_command_is_refused(store, db_url, runner, tmp_path):
    store.close()
    intake = tmp_path / "intake.toml"
    intake.write_text(
        "\n".join(f'{k} = "{v}"' for k, v in intake_record().items() if isinstance(v, str))
        + '\n[[parties]]\nrole = "applicant"\nname = "张三"\n'
        '[[parties]]\nrole = "respondent"\nname = "李四"\n',
        encoding="utf-8",
    )
    assert _cli(runner, db_url, "case", "open", "--from", str(intake)).exit_code == 0
    for args in (
        ("case", "advance", "1", "no_such_trigger"),  # exit 5
        ("case", "advance", "1", "refuse"),  # its data is missing: exit 3
        ("deadline", "compute", "2026-12-02", "--days", "3", "--months", "1"),  # exit 2
        ("deadline", "compute", "2026-12-40", "--days", "3"),  # exit 3
    ):
        out = _cli(runner, db_url, *args)
        assert out.exit_code not in (0, 1), (args, out.output)
        assert out.stderr.startswith("错误："), (args, out.stderr)
        assert _warning(out.stderr) is None, (args, out.stderr)
    out = _cli(runner, db_url, "case", "advance", "1", "accept")  # done: now it warns
    assert out.exit_code == 0, out.output
    assert _warning(out.stderr) is not None
