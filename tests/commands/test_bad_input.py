"""Bad input gets a message and a documented exit code, never a traceback, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mediation.domain import intake
from mediation.engine import cases
from mediation.storage._tables import event_table
from tests.conftest import T0, intake_record


@pytest.fixture
def mediating(store):
    opened = cases.open_case(store, intake.validate(intake_record()), actor="t", now=T0)
    for trig, data in (
        ("accept", {}),
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("inform", {}),
        ("record_session", {"kind": "mediation", "summary": "首次调解"}),
    ):
        cases.advance(store, opened.proceeding_id, trig, actor="t", now=T0, payload=data)
    return opened.proceeding_id


def _events(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(event_table)).scalar_one()


@pytest.mark.parametrize(
    ("trigger", "data", "code"),
    [
        ("record_session", {"kind": ["mediation"], "summary": "x"}, 5),
        ("record_session", {"kind": "mediation", "summary": False}, 3),
        ("record_session", {"kind": "mediation", "summary": 12}, 3),
        ("extend", {"reason": "r", "consented_by": ["张三", "李四"], "new_due": "2026-02-30"}, 5),
        ("extend", {"reason": "r", "consented_by": 5, "new_due": "2026-05-30"}, 3),
        ("escalate", {"reason": {"nested": "dict"}}, 3),
    ],
)
def test_wrongly_typed_trigger_data(
    store, db_url, runner, mediating, tmp_path: Path, trigger, data, code
):
    from mediation.cli import app

    before = _events(store)
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(
        app, ["--db", db_url, "case", "advance", str(mediating), trigger, "--data", str(data_file)]
    )
    assert out.exit_code == code, out.output
    assert isinstance(out.exception, SystemExit), out.exception
    assert _events(store) == before


def test_a_toml_date_is_a_date(store, db_url, runner, mediating, tmp_path: Path):
    from mediation.cli import app

    data_file = tmp_path / "extend.toml"
    data_file.write_text(
        'reason = "r"\nconsented_by = ["张三", "李四"]\nnew_due = 2026-05-30\n', encoding="utf-8"
    )
    out = runner.invoke(
        app, ["--db", db_url, "case", "advance", str(mediating), "extend", "--data", str(data_file)]
    )
    assert out.exit_code == 0, out.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["case", "show", "²"], 4),
        (["case", "show", "99999999999999999999999"], 4),
        (["case", "list", "--limit", "-1"], 2),
        (["report", "due-soon", "--within", "99999999"], 2),
        (
            [
                "report",
                "overdue",
                "--format",
                "csv",
                "-o",
                "/nonexistent/dir/x.csv",
                "--as-of",
                "2027-01-01",
            ],
            1,
        ),
        (["deadline", "compute", "2026-01-01", "--days", "-3"], 2),
        (["deadline", "compute", "2026-01-01", "--months", "99999"], 2),
        (["db", "upgrade", "--revision", "nonsense"], 2),
        (["calendar", "show", "99999"], 2),
        (["--as", "x" * 81, "case", "list"], 2),
    ],
)
def test_bad_command_lines(store, db_url, runner, mediating, args, code):
    from mediation.cli import app

    out = runner.invoke(app, ["--db", db_url, *args])
    assert out.exit_code == code, out.output
    assert isinstance(out.exception, SystemExit), out.exception


def test_bad_clock_setting(store, db_url, runner, mediating):
    from mediation.cli import app

    out = runner.invoke(
        app,
        ["--db", db_url, "case", "advance", str(mediating), "inform"],
        env={"MEDIATION_NOW": "yesterday"},
    )
    assert out.exit_code == 2 and "MEDIATION_NOW" in out.output


def test_messages_do_not_echo_personal_data(store, db_url, runner, tmp_path: Path):
    from mediation.cli import app

    record = intake_record()
    record["parties"][0]["phone"] = "1381234x678"
    record["parties"][0]["birth_date"] = "1950-01-01"  # the ID number says 1949-12-31
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(app, ["--db", db_url, "case", "open", "--from", str(path)])
    assert out.exit_code == 3
    assert "1381234x678" not in out.output and "1949-12-31" not in out.output
    assert "parties[0].phone" in out.output and "parties[0].birth_date" in out.output


def test_extension_needs_every_party_even_with_shared_names(store):
    from mediation.errors import TransitionNotAllowed

    record = intake_record(
        parties=[
            {"role": "applicant", "name": "张伟"},
            {"role": "applicant", "name": "王芳"},
            {"role": "respondent", "name": "张伟"},
        ]
    )
    opened = cases.open_case(store, intake.validate(record), actor="t", now=T0)
    cases.advance(store, opened.proceeding_id, "accept", actor="t", now=T0)
    data = {"reason": "r", "new_due": "2026-05-30"}
    with pytest.raises(TransitionNotAllowed, match="王芳"):
        cases.advance(
            store,
            opened.proceeding_id,
            "extend",
            actor="t",
            now=T0,
            payload={**data, "consented_by": ["张伟"]},
        )
    done = cases.advance(
        store,
        opened.proceeding_id,
        "extend",
        actor="t",
        now=T0,
        payload={**data, "consented_by": ["张伟", "王芳"]},
    )
    assert done.to_state == "accepted"


def test_a_committee_hangs_exactly_one_level_up(store):
    from mediation.engine.organisations import add_organisation
    from mediation.errors import ValidationError

    with pytest.raises(ValidationError, match="parent"):
        add_organisation(
            store, code="跳级村", name="跳级村调委会", level="village", parent="青山", now=T0
        )
