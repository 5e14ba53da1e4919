"""The record proves itself (issue 13, points 4 and 5), on both databases: state changed
behind the chain's back, or history appended with a correct hash but an illegal step, is
reported by ``audit verify`` (exit 10) with the case or user it concerns."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from mediation import Mediation
from mediation.cli import app
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.errors import ExitCode, PermissionDenied
from mediation.storage import audit
from mediation.storage._tables import app_user_table, proceeding_table
from mediation.storage.store import Store
from tests.commands.test_cli_peoples import _cli_built_once  # noqa: F401  (autouse)
from tests.conftest import T0, drop_step_trigger, intake_record
from tests.legal.helpers import EXAMPLES, Cli


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


# -- parties, deadlines, signatures, organisations (mediation.storage.record_rows) ----------


@pytest.fixture
def worked(store: Store, db_url: str, runner: CliRunner, tmp_path: Path) -> Cli:
    """An intact record built through the CLI: a people's mediation case with a corrected
    party, an extension by consent, an agreement signed by all (the confirmation window
    restarted); an online case paused and resumed for an appraisal; an organisation added
    as a court with its code, renamed, and another retired."""
    store.close()
    cli = Cli(runner, db_url, tmp_path)
    case = cli.open("2026-03-02")
    cli.ok("case", "amend-party", case, "李四", "--set", "phone=13700001111",
           "--reason", "当事人更换手机号码", day="2026-03-02")  # fmt: skip
    cli.step(case, "accept", "2026-03-02")
    cli.step(case, "extend", "2026-03-20", reason="双方希望继续协商",
             consented_by="张三、李四", new_due="2026-05-15")  # fmt: skip
    cli.step(case, "assign", "2026-03-20", "--data", str(EXAMPLES / "assign.toml"))
    cli.step(case, "inform", "2026-03-20")
    cli.step(case, "record_session", "2026-03-23", kind="mediation", summary="双方陈述。")
    cli.step(case, "agree_written", "2026-03-23", "--data", str(EXAMPLES / "agreement.toml"))
    cli.sign_all(case, "2026-03-24")
    online = cli.open("2026-01-14", flow="online")
    cli.step(online, "choose_mediator", "2026-01-14", mediators="周明")
    cli.step(online, "confirm", "2026-01-15")
    cli.step(online, "notify_other_party", "2026-01-16", party="李四")
    cli.step(online, "record_session", "2026-01-20", kind="mediation", summary="在线调解。")
    cli.step(online, "start_appraisal", "2026-02-12", appraisal_body="某鉴定所", matter="伤残等级")
    cli.step(online, "finish_appraisal", "2026-02-25", conclusion="十级伤残")
    cli.ok("org", "add", "青法", "青山县人民法院", "--level", "county", "--kind", "court",
           day="2026-03-02")  # fmt: skip
    cli.ok("org", "set-court-code", "青法", "浙0681", day="2026-03-02")
    cli.ok("org", "edit", "青法", "--name", "青山县人民法院（新）", day="2026-03-03")
    cli.ok("org", "add", "溪村", "溪村人民调解委员会", "--level", "village", day="2026-03-02")
    cli.ok("org", "retire", "溪村", "--reason", "并入桥头", day="2026-03-04")
    cli.case = case  # type: ignore[attr-defined]
    cli.online = online  # type: ignore[attr-defined]
    return cli


def _audit(cli: Cli) -> Any:
    return cli("audit", "verify", day="2026-03-25")


def test_a_worked_record_verifies_clean(worked: Cli) -> None:
    out = _audit(worked)
    assert out.exit_code == 0, out.output


def _tamper(db_url: str, sql: str, **params: Any) -> None:
    store = Store(db_url)
    try:
        with store.write() as conn:
            assert conn.execute(text(sql), params).rowcount >= 1
    finally:
        store.close()


def test_a_phone_changed_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(db_url, "UPDATE party SET phone = '13900000000' WHERE name = '李四'")
    out = _audit(worked)
    assert out.exit_code == 10, out.output
    assert "当事人信息与审计链不符" in out.output and worked.case in out.output  # type: ignore[attr-defined]


def test_a_party_added_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(
        db_url,
        "INSERT INTO party (dispute_id, role, kind, ordinal, name) "
        "SELECT dispute_id, 'third_party', 'person', 9, '王五' FROM party WHERE name = '张三'",
    )
    assert "当事人信息与审计链不符" in _audit(worked).output


def test_a_due_date_changed_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(
        db_url,
        "UPDATE deadline SET due = :due WHERE proceeding_id = "
        "(SELECT id FROM proceeding WHERE case_number = :case) AND kind = 'mediation_period'",
        due=date(2026, 12, 31),
        case=worked.online,  # type: ignore[attr-defined]
    )
    out = _audit(worked)
    assert out.exit_code == 10, out.output
    assert "期限与审计链不符" in out.output and worked.online in out.output  # type: ignore[attr-defined]


def test_a_deadline_deleted_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(
        db_url,
        "DELETE FROM deadline WHERE proceeding_id = "
        "(SELECT id FROM proceeding WHERE case_number = :case) AND status <> 'open'",
        case=worked.case,  # type: ignore[attr-defined]
    )
    assert "期限与审计链不符" in _audit(worked).output


def test_a_signature_changed_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(db_url, "UPDATE signature SET method = 'fingerprint' WHERE signer_name = '李四'")
    out = _audit(worked)
    assert out.exit_code == 10, out.output
    assert "签名记录与审计链不符" in out.output and worked.case in out.output  # type: ignore[attr-defined]


def test_a_signature_inserted_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(
        db_url,
        "INSERT INTO signature (proceeding_id, document_kind, signer_kind, signer_name, method,"
        " signed_at, recorded_by, recorded_at) SELECT proceeding_id, document_kind, signer_kind,"
        " '王五', method, signed_at, recorded_by, recorded_at FROM signature"
        " WHERE signer_name = '张三'",
    )
    assert "王五（表中有、链中无）" in _audit(worked).output


def test_an_organisation_renamed_behind_the_chain_is_reported(worked: Cli, db_url: str) -> None:
    _tamper(db_url, "UPDATE organisation SET name = '某某法院' WHERE code = '青法'")
    out = _audit(worked)
    assert out.exit_code == 10, out.output
    assert "组织 青法" in out.output and "组织信息与审计链不符" in out.output


def test_a_court_code_or_retirement_changed_behind_the_chain_is_reported(
    worked: Cli, db_url: str
) -> None:
    _tamper(db_url, "UPDATE organisation SET court_code = '浙0682' WHERE code = '青法'")
    _tamper(db_url, "UPDATE organisation SET periods = '{}' WHERE code = '溪村'")
    out = _audit(worked).output
    assert "组织 青法" in out and "浙0682" in out
    assert "组织 溪村" in out and "retired" in out


#: Edits behind the chain's back of the record rows, for the fast check against the
#: reference; (SQLite, PostgreSQL) where the two need their own statement. "Stored
#: otherwise": the same values in another form SQLite reads back as equal (the fast
#: check's digests then differ, and the reference way must clear them).
RECORD_EDITS: dict[str, list[str | tuple[str, str]]] = {
    "intact": [],
    "phone": ["UPDATE party SET phone = '13900000000' WHERE name = '李四'"],
    "party-added": [
        "INSERT INTO party (dispute_id, role, kind, ordinal, name) "
        "SELECT dispute_id, 'third_party', 'person', 9, '王五' FROM party WHERE name = '张三'"
    ],
    "ordinals-swapped": [
        "UPDATE party SET ordinal = 1 - ordinal WHERE dispute_id = "
        "(SELECT min(dispute_id) FROM party)"
    ],
    "due": ["UPDATE deadline SET due = '2026-12-31' WHERE kind = 'mediation_period'"],
    "deadline-deleted": [
        "DELETE FROM deadline WHERE status <> 'open' AND proceeding_id = "
        "(SELECT min(proceeding_id) FROM signature)"
    ],
    "signature-method": ["UPDATE signature SET method = 'fingerprint' WHERE signer_name = '李四'"],
    "signature-deleted": ["DELETE FROM signature WHERE signer_name = '李四'"],
    "signature-inserted": [
        "INSERT INTO signature (proceeding_id, document_kind, signer_kind, signer_name, method,"
        " signed_at, recorded_by, recorded_at) SELECT proceeding_id, document_kind, signer_kind,"
        " '王五', method, signed_at, recorded_by, recorded_at FROM signature"
        " WHERE signer_name = '张三'"
    ],
    "signed-at": [
        (
            "UPDATE signature SET signed_at = replace(signed_at, '2026-03-24', '2026-03-23')",
            "UPDATE signature SET signed_at = signed_at - interval '1 day'",
        )
    ],
    "stored-otherwise": [  # ISO week dates, a 'T' in the time: read back as the same
        (
            "UPDATE deadline SET due = '2026-W20-5' WHERE due = '2026-05-15'",
            "UPDATE deadline SET due = due WHERE due = '2026-05-15'",
        ),
        (
            "UPDATE party SET birth_date = '1949-W52-6' WHERE birth_date = '1949-12-31'",
            "UPDATE party SET birth_date = birth_date WHERE birth_date = '1949-12-31'",
        ),
        (
            "UPDATE signature SET signed_at = replace(signed_at, ' ', 'T')",
            "UPDATE signature SET signed_at = signed_at",
        ),
    ],
    "digests-edited": [
        'UPDATE event SET payload = replace(replace(payload, \'"clocks_sha256":"\', '
        '\'"clocks_sha256":"0\'), \'"parties_hmac":"\', \'"parties_hmac":"0\') '
        "WHERE id = (SELECT max(id) FROM event WHERE payload LIKE '%parties_hmac%')"
    ],
    "secret": ["UPDATE installation_secret SET secret = '" + "0" * 64 + "'"],
    "organisation": ["UPDATE organisation SET name = '某某法院' WHERE code = '青法'"],
}


def test_the_fast_record_check_finds_what_the_reference_finds(worked: Cli, db_url: str) -> None:
    """consistency.check given a full scan's steps (mediation.storage.record_scan) reports
    what the reference (record_rows, through consistency.check_reference) reports, edit by
    edit, each rolled back after."""
    from mediation.storage import audit_scan, consistency, record_scan
    from mediation.storage.secret import installation_secret

    store = Store(db_url)
    try:
        for edit, statements in RECORD_EDITS.items():
            with store.engine.connect() as conn, conn.begin() as transaction:
                for sql in statements:
                    if isinstance(sql, tuple):
                        sql = sql[store.dialect == "postgresql"]
                    assert conn.execute(text(sql)).rowcount >= 1, (edit, sql)
                steps = audit_scan.CaseSteps()
                audit_scan.scan(conn, steps=steps)
                fast = sorted(map(str, consistency.check(conn, steps=steps)))
                assert fast == sorted(map(str, consistency.check_reference(conn))), edit
                assert fast == sorted(map(str, consistency.check(conn))), edit
                if edit == "intact":  # every digest matched as stored: no second read
                    seen = steps.recorded
                    secret = installation_secret(conn)
                    parties = {d: digest for d, (_, digest) in seen.parties.items()}
                    clocks = {p: digest for p, (_, digest) in seen.clocks.items()}
                    assert parties and record_scan.parties_differing(conn, parties, secret) == []
                    assert clocks and record_scan.clocks_differing(conn, clocks) == []
                transaction.rollback()
            assert (edit in ("intact", "stored-otherwise")) == (not fast), (edit, fast)
    finally:
        store.close()


def _amendment(db_url: str) -> tuple[int, int, str]:
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            eid, did, payload = conn.execute(
                text("SELECT id, dispute_id, payload FROM event WHERE trigger = 'amend_party'")
            ).one()
    finally:
        store.close()
    return eid, did, payload


def test_a_digest_given_twice_in_a_payload_is_an_edit(worked: Cli, db_url: str) -> None:
    """The hash covers the decoded payload, where a key given twice counts once (the last):
    so '{"parties_hmac":"<forged>", ...the original...}' still hashes right. With the
    parties changed and the forged digest computed for them (the installation secret
    read), a search of the text for the digest found the forged one and verify passed."""
    from mediation.storage import record_rows

    eid, did, payload = _amendment(db_url)
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE party SET phone = '13500000000' WHERE name = '李四' AND dispute_id = :d"
                ),
                {"d": did},
            )
            forged = record_rows.dispute_parties_digest(conn, did)
            conn.execute(
                text("UPDATE event SET payload = :p WHERE id = :i"),
                {"p": f'{{"parties_hmac":"{forged}",' + payload[1:], "i": eid},
            )
    finally:
        store.close()
    out = _audit(worked)
    assert out.exit_code == ExitCode.TAMPERED, out.output
    assert "[edited]" in out.output


def test_a_payload_rewritten_in_another_json_form_is_an_edit(worked: Cli, db_url: str) -> None:
    """The same value written with other separators hashes right the reference way but
    hid the amendment's digest from a search of the text: reverting the amendment then
    passed."""
    eid, _dispute, payload = _amendment(db_url)
    loose = json.dumps(json.loads(payload), ensure_ascii=False, separators=(", ", ": "))
    _tamper(db_url, "UPDATE event SET payload = :p WHERE id = :i", p=loose, i=eid)
    _tamper(db_url, "UPDATE party SET phone = '13987654321' WHERE name = '李四'")
    out = _audit(worked)
    assert out.exit_code == ExitCode.TAMPERED, out.output
    assert "[edited]" in out.output
