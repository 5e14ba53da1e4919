"""Correcting a party's particulars (mediation.engine.parties, ``mediation case amend-party``):
checked as at intake, one transaction with its event in the dispute's chain, old and new
values masked in the history, nothing written on a refusal. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mediation.cli import app
from mediation.domain import intake
from mediation.domain.personal import check_digit, party_key
from mediation.engine import cases
from mediation.engine.parties import amend_party
from mediation.errors import NotFoundError, TransitionNotAllowed, UsageError, ValidationError
from mediation.storage import audit
from mediation.storage._tables import dispute_table, event_table, party_table, proceeding_table
from mediation.storage.secret import installation_secret
from mediation.storage.store import Store
from tests.conftest import T0, intake_record, snapshot

NEW_ID = "330681198807150012"[:17]
NEW_ID += check_digit(NEW_ID)  # a valid number born 1988-07-15


def _open(store: Store, **overrides: Any) -> int:
    opened = cases.open_case(store, intake.validate(intake_record(**overrides)), actor="m", now=T0)
    return opened.proceeding_id


def _party(store: Store, name: str) -> Any:
    with store.read() as conn:
        return conn.execute(select(party_table).where(party_table.c.name == name)).one()


def test_a_correction_changes_the_row_and_records_a_masked_event(store: Store) -> None:
    pid = _open(store)
    later = T0 + timedelta(days=1)
    result = amend_party(
        store,
        pid,
        "李四",
        {"phone": "13700001111", "address": "浙江省江城市青山县城关镇桥头村14号"},
        reason="当事人更换手机号码",
        actor="周明",
        now=later,
    )
    assert result["changed"] == {
        "phone": {"before": "139****4321", "after": "137****1111"},
        "address": {"before": None, "after": "浙江省江城市******"},
    }
    party = _party(store, "李四")
    assert (party.phone, party.address) == ("13700001111", "浙江省江城市青山县城关镇桥头村14号")
    with store.read() as conn:
        event = conn.execute(
            select(event_table)
            .where(event_table.c.proceeding_id == pid)
            .order_by(event_table.c.seq.desc())
        ).first()
        state, version = conn.execute(
            select(proceeding_table.c.state, proceeding_table.c.version).where(
                proceeding_table.c.id == pid
            )
        ).one()
        report = audit.verify(conn)
    assert event is not None
    assert (event.trigger, event.from_state, event.to_state, event.seq) == (
        "amend_party",
        state,
        state,
        version,
    )
    assert (event.actor, event.note) == ("周明", "当事人更换手机号码")
    # The history keeps what changed, never the full values.
    stored = json.dumps(event.payload, ensure_ascii=False)
    assert "13700001111" not in stored and "13987654321" not in stored and "14号" not in stored
    assert report.ok and report.pending == 0, report


def test_a_new_id_number_is_checked_and_its_birth_date_and_party_key_follow(store: Store) -> None:
    pid = _open(store)
    before = snapshot(store)
    bad = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="--set id_number") as refused:
        amend_party(store, pid, "张三", {"id_number": bad}, reason="号码录错", actor="m", now=T0)
    assert "校验码" in str(refused.value)
    assert snapshot(store) == before  # nothing written

    result = amend_party(
        store, pid, "张三", {"id_number": NEW_ID}, reason="号码录错", actor="m", now=T0
    )
    party = _party(store, "张三")
    assert (party.id_number, party.birth_date) == (NEW_ID, date(1988, 7, 15))
    # The birth date is the part of the number its mask hides: it is never shown either,
    # so neither number can be rebuilt from the history.
    assert result["changed"]["birth_date"] == {"before": "****-**-**", "after": "****-**-**"}
    with store.read() as conn:
        payload = conn.execute(
            select(event_table.c.payload).where(event_table.c.trigger == "amend_party")
        ).scalar_one()
    shown = json.dumps(payload)
    for secret in ("19491231", "1949-12-31", "19880715", "1988-07-15", NEW_ID):
        assert secret not in shown, secret
    with store.read() as conn:
        key = conn.execute(select(dispute_table.c.party_key)).scalar_one()
        parties = conn.execute(select(party_table)).all()
    with store.write() as conn:
        secret = installation_secret(conn)
    assert key == party_key(parties, secret)  # repeat detection follows the corrected number
    assert key != before["dispute"][0][list(dispute_table.c.keys()).index("party_key")]


def test_refusals_write_nothing(store: Store) -> None:
    pid = _open(store)
    before = snapshot(store)
    with pytest.raises(ValidationError, match="--set role"):
        amend_party(store, pid, "李四", {"role": "applicant"}, reason="x", actor="m", now=T0)
    with pytest.raises(ValidationError, match="--reason"):
        amend_party(store, pid, "李四", {"phone": "13700001111"}, reason=" ", actor="m", now=T0)
    with pytest.raises(ValidationError, match="--set phone"):
        amend_party(store, pid, "李四", {"phone": "12ab"}, reason="x", actor="m", now=T0)
    with pytest.raises(NotFoundError, match="王五") as unknown:
        amend_party(store, pid, "王五", {"phone": "13700001111"}, reason="x", actor="m", now=T0)
    assert "张三（申请人）、李四（被申请人）" in (unknown.value.hint or "")
    with pytest.raises(UsageError, match="没有变化"):
        amend_party(store, pid, "李四", {"phone": "13987654321"}, reason="x", actor="m", now=T0)
    assert snapshot(store) == before


def test_two_parties_of_one_name_need_a_role(store: Store) -> None:
    record = intake_record()
    record["parties"] = [
        {"role": "applicant", "name": "王芳", "phone": "13812345678"},
        {"role": "respondent", "name": "王芳", "phone": "13987654321"},
    ]
    pid = _open(store, parties=record["parties"])
    with pytest.raises(UsageError, match="2 位名为「王芳」"):
        amend_party(store, pid, "王芳", {"phone": "13700001111"}, reason="x", actor="m", now=T0)
    amend_party(
        store,
        pid,
        "王芳",
        {"phone": "13700001111"},
        reason="x",
        actor="m",
        now=T0,
        role="respondent",
    )
    with store.read() as conn:
        phones = dict(conn.execute(select(party_table.c.role, party_table.c.phone)).all())
    assert phones == {"applicant": "13812345678", "respondent": "13700001111"}


def test_an_ended_case_is_not_amended(store: Store) -> None:
    pid = _open(store)
    cases.advance(
        store,
        pid,
        "reject",
        actor="m",
        now=T0,
        payload={"reason": "已由法院受理", "redirect_to": "青山县人民法院"},
    )
    with pytest.raises(TransitionNotAllowed, match="已结束"):
        amend_party(store, pid, "李四", {"phone": "13700001111"}, reason="x", actor="m", now=T0)


def test_the_cli_corrects_and_reports_masked(store: Store, runner: CliRunner, db_url: str) -> None:
    _open(store)
    argv = ["--db", db_url, "case", "amend-party", "1", "李四", "--set", "phone=13700001111"]
    out = runner.invoke(app, [*argv, "--reason", "当事人更换手机号码"])
    assert out.exit_code == 0, out.output
    assert "phone: 139****4321 → 137****1111" in out.stdout
    assert "13700001111" not in out.stdout
    bad = runner.invoke(app, [*argv[:-1], "phone=1", "--reason", "x"])
    assert bad.exit_code == 3 and "--set phone" in bad.stderr
    history = runner.invoke(app, ["--db", db_url, "case", "history", "1"])
    assert "amend_party" in history.stdout and "当事人更换手机号码" in history.stdout


def test_clearing_an_id_number_clears_its_type_and_keeps_the_birth_date(store: Store) -> None:
    pid = _open(store)
    amend_party(
        store, pid, "张三", {"id_number": ""}, reason="证件号码有误，待补", actor="m", now=T0
    )
    party = _party(store, "张三")
    assert (party.id_number, party.id_type, party.birth_date) == (None, None, date(1949, 12, 31))


def test_the_role_may_be_given_by_its_label_and_the_reason_is_checked(store: Store) -> None:
    pid = _open(store)
    with pytest.raises(ValidationError, match="--reason"):
        amend_party(
            store, pid, "李四", {"phone": "13700001111"}, reason="a\x00b", actor="m", now=T0
        )
    amend_party(
        store,
        pid,
        "李四",
        {"phone": "13700001111"},
        reason="换号",
        actor="m",
        now=T0,
        role="被申请人",
    )
    assert _party(store, "李四").phone == "13700001111"
