"""The record proves itself (issue 13, points 4 and 5), on both databases: state changed
behind the chain's back, or history appended with a correct hash but an illegal step, is
reported by ``audit verify`` (exit 10) with the case or user it concerns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from mediation import Mediation
from mediation.cli import app
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.errors import PermissionDenied
from mediation.storage import audit
from mediation.storage._tables import app_user_table, proceeding_table
from mediation.storage.store import Store
from tests.conftest import T0, drop_step_trigger, intake_record


@pytest.fixture
def centre(store: Store) -> Store:
    admin = Mediation(store, store.login(), clock=FixedClock(T0))
    admin.add_user("admin", name="管理员", roles=["admin"])
    admin.add_user("wang", name="王调解员", roles=["mediator"], organisation="桥头")
    wang = Mediation(store, "wang", clock=FixedClock(T0))
    wang.open_case(intake.validate(intake_record(), source="test"))
    wang.advance(1, "accept")
    return store


def _verify(store: Store) -> list[str]:
    report = Mediation(store, "admin", clock=FixedClock(T0)).verify_audit()
    return [str(p) for p in report.problems]


def test_an_intact_record_verifies(centre: Store, runner: CliRunner) -> None:
    assert _verify(centre) == []
    out = runner.invoke(app, ["--db", centre.url, "--as", "admin", "audit", "verify"])
    assert out.exit_code == 0, out.output


def test_a_state_changed_behind_the_chain_is_reported(centre: Store, runner: CliRunner) -> None:
    with centre.write() as conn:
        conn.execute(update(proceeding_table).values(state="agreed_written"))
    problems = _verify(centre)
    assert any("（2026）桥头人调字第1号" in p and "agreed_written" in p for p in problems)
    out = runner.invoke(app, ["--db", centre.url, "--as", "admin", "audit", "verify"])
    assert out.exit_code == 10 and "按事件重放应为 accepted" in out.output


def test_roles_granted_behind_the_chain_are_reported(centre: Store) -> None:
    with centre.write() as conn:
        conn.execute(
            update(app_user_table).where(app_user_table.c.login == "wang").values(roles=["admin"])
        )
    assert any("'wang'" in p and "角色为 ['admin']" in p for p in _verify(centre))


def test_users_deleted_behind_the_chain_are_reported(centre: Store) -> None:
    # No users left: nobody may act, not even to make a new first admin (the chain still
    # knows the users); verifying still runs and names them.
    with centre.write() as conn:
        conn.execute(delete(app_user_table))
    with pytest.raises(PermissionDenied, match="审计链记载过用户"):
        Mediation(centre, "intruder", clock=FixedClock(T0)).init()
    problems = _verify(centre)
    assert any("'admin'" in p and "用户表中已没有它" in p for p in problems)
    assert any("'wang'" in p for p in problems)


def _append_illegal_step(centre: Store) -> None:
    with centre.write() as conn:
        case = conn.execute(select(proceeding_table)).one()
        audit.append_event(
            conn,
            {
                "dispute_id": case.dispute_id,
                "proceeding_id": case.id,
                "seq": case.version + 1,
                "trigger": "agree_written",
                "from_state": "accepted",
                "to_state": "agreed_written",
                "actor": "sup",
                "note": None,
                "payload": {},
                "occurred_at": T0 - timedelta(days=30),
            },
        )
        conn.execute(
            update(proceeding_table).values(state="agreed_written", version=case.version + 1)
        )


def test_the_database_refuses_an_event_for_a_step_the_flow_lacks(centre: Store) -> None:
    """A well-formed event (its hash computed as the application computes it), backdated,
    for accepted → agreed_written, which people's mediation does not have: the trigger of
    revision 0019 refuses it, and nothing is written."""
    before = _verify(centre)
    with pytest.raises(DBAPIError, match="not a step of its flow"):
        _append_illegal_step(centre)
    with centre.read() as conn:
        assert conn.execute(select(proceeding_table.c.state)).scalar_one() == "accepted"
    assert _verify(centre) == before == []


def test_an_appended_event_for_a_step_the_flow_lacks_is_reported(centre: Store) -> None:
    """The same, written by whoever can drop the database's check (the SQLite file's holder,
    the PostgreSQL schema's owner): `audit verify` still finds it."""
    drop_step_trigger(centre)
    _append_illegal_step(centre)
    problems = _verify(centre)
    assert any("不是流程 peoples 的步骤" in p for p in problems), problems


def test_a_key_inserted_behind_the_chain_is_reported(centre: Store) -> None:
    with centre.write() as conn:
        conn.execute(
            text(
                "INSERT INTO signing_key (organisation_id, fingerprint, subject, certificate,"
                " key_path, not_before, not_after, active, created_at, created_by)"
                " SELECT id, :fp, 'CN=桥头村人民调解委员会', 'x', '/tmp/x.p12', :t, :t, :f, :t,"
                " 'admin' FROM organisation WHERE code = '桥头'"
            ),
            {"fp": "ab" * 32, "t": T0, "f": False},
        )
    assert any("审计链中没有创建或导入它的记录" in p for p in _verify(centre))


def test_history_is_never_written_out_of_order(centre: Store, runner: CliRunner) -> None:
    """``MEDIATION_NOW=2020-…`` (or a clock set back) must not write an event dated before
    the case's last change (issue 13, point 7): refused, exit 3, nothing written."""
    from tests.conftest import snapshot

    before = snapshot(centre)
    out = runner.invoke(
        app,
        [
            "--db",
            centre.url,
            "--as",
            "wang",
            "case",
            "advance",
            "1",
            "refuse",
            "--set",
            "party=李四",
            "--set",
            "reason=不愿调解",
        ],
        env={"MEDIATION_NOW": "2020-01-01T09:00:00+08:00"},
    )
    assert out.exit_code == 3, out.output
    assert "早于本案上一次变更的时间 2026-03-02 09:00" in out.output
    assert snapshot(centre) == before
