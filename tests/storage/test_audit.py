"""The hash chains (mediation.storage.audit) and ``mediation audit verify``: every hand edit,
deletion and insertion is found, with where it is."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mediation.cli import app
from mediation.domain import intake
from mediation.engine import cases
from mediation.storage import audit
from mediation.storage.store import Store
from tests.conftest import T0, drop_step_trigger, intake_record

#: Chain positions here count from the tests' own entries: no first admin is added.
pytestmark = pytest.mark.no_runner


def _walk(store: Store) -> list[int]:
    """Two disputes with a few events each (the second opened and advanced in between)."""
    first = cases.open_case(store, intake.validate(intake_record()), actor="m1", now=T0)
    second = cases.open_case(
        store, intake.validate(intake_record(title="相邻房屋漏水纠纷")), actor="m1", now=T0
    )
    for i, trigger in enumerate(("accept", "assign")):
        payload = {"mediators": ["王调解员"], "selection": "designated"} if i else None
        for pid in (first.proceeding_id, second.proceeding_id):
            cases.advance(
                store, pid, trigger, actor="m1", now=T0 + timedelta(hours=i + 1), payload=payload
            )
    return [first.proceeding_id, second.proceeding_id]


def verify(store: Store) -> audit.AuditReport:
    with store.read() as conn:
        return audit.verify(conn)


def cli_verify(runner: CliRunner, db_url: str) -> tuple[int, str]:
    out = runner.invoke(app, ["--db", db_url, "audit", "verify"])
    return out.exit_code, out.stdout


def tamper(store: Store, sql: str) -> None:
    """A change made behind the engine's back (as with the sqlite3 shell or psql)."""
    with store.engine.begin() as conn:
        conn.execute(text(sql))


def test_a_clean_history_verifies(store: Store, runner: CliRunner, db_url: str) -> None:
    _walk(store)
    report = verify(store)
    assert report.ok, report.problems
    assert (report.events, report.disputes, report.head_seq) == (6, 2, 6)
    with store.read() as conn:
        rows = conn.execute(
            text("SELECT dispute_id, chain_seq, prev_hash, hash FROM event ORDER BY chain_seq")
        ).all()
    # Each dispute's first event starts from the genesis; the others link to their own
    # dispute's previous event, not to the other dispute's event in between.
    by_dispute: dict[int, str] = {}
    for dispute_id, seq, prev, digest in rows:
        assert prev == by_dispute.get(dispute_id, audit.GENESIS), seq
        by_dispute[dispute_id] = digest
    assert [r[1] for r in rows] == [1, 2, 3, 4, 5, 6]
    code, out = cli_verify(runner, db_url)
    assert code == 0 and "审计链完整：6 条案件事件" in out


def test_an_edited_event_is_found(store: Store, runner: CliRunner, db_url: str) -> None:
    _walk(store)
    tamper(store, "UPDATE event SET actor = 'someone-else' WHERE chain_seq = 3")
    report = verify(store)
    assert [p.kind for p in report.problems] == ["edited"]
    assert "第 2 号" in report.problems[0].where  # the first case's second event
    code, out = cli_verify(runner, db_url)
    assert code == 10
    assert "[edited] 事件 id" in out and "（2026）桥头人调字第1号" in out


def test_a_deleted_event_is_found(store: Store) -> None:
    _walk(store)
    tamper(store, "DELETE FROM event WHERE chain_seq = 3")
    kinds = {p.kind for p in verify(store).problems}
    assert "deleted" in kinds
    wheres = " ".join(p.where for p in verify(store).problems)
    assert "链位置 3" in wheres


def test_the_newest_events_deleted_show_at_the_head(store: Store) -> None:
    _walk(store)
    tamper(store, "DELETE FROM event WHERE chain_seq >= 5")
    problems = verify(store).problems
    assert [(p.kind, p.where) for p in problems] == [("deleted", "链位置 5-6")]


def test_an_inserted_event_is_found(store: Store) -> None:
    pids = _walk(store)
    drop_step_trigger(store)  # the database refuses the step; its owner can drop the check
    tamper(
        store,
        "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, from_state, to_state,"
        " actor, payload, occurred_at) SELECT dispute_id, id, version + 1, 'agree_oral',"
        f" state, 'agreed_oral', 'x', '{{}}', opened_at FROM proceeding WHERE id = {pids[0]}",
    )
    problems = verify(store).problems
    assert [p.kind for p in problems] == ["inserted"]
    assert "不是经本程序写入的" in problems[0].detail


def test_a_rewritten_hash_breaks_the_next_link(store: Store) -> None:
    """Re-hashing an edited event by hand still leaves the next link and the head broken."""
    _walk(store)
    from mediation.storage._tables import event_table as e

    with store.read() as conn:
        row = conn.execute(e.select().where(e.c.chain_seq == 1)).mappings().one()
    forged = {**row, "actor": "forger"}
    digest = audit.event_hash(forged, prev_hash=audit.GENESIS)
    tamper(store, f"UPDATE event SET actor = 'forger', hash = '{digest}' WHERE chain_seq = 1")
    kinds = sorted(p.kind for p in verify(store).problems)
    assert kinds == ["deleted", "head"]


def test_an_edited_access_event_is_found(store: Store) -> None:
    from mediation.engine.users import add_user

    with store.write() as conn:
        add_user(
            conn, "admin", name="管理员", roles=["admin"], organisation=None, actor="a", now=T0
        )
    assert verify(store).access_events == 1
    tamper(store, "UPDATE access_event SET subject = 'root'")
    problems = verify(store).problems
    assert [p.kind for p in problems] == ["edited"]
    assert "访问记录" in problems[0].where


def test_events_written_before_the_chains_are_chained_by_the_upgrade(tmp_path) -> None:
    """A database at revision 0005 with history: the upgrade chains its events."""
    db = tmp_path / "old.db"
    store = Store(f"sqlite:///{db}")
    store.upgrade("0005")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisation (id, code, name, kind, level, created_at, periods)"
                " VALUES (1, '桥头', '桥头村人民调解委员会', 'people_committee', 'village',"
                " '2026-01-01 00:00:00.000000', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dispute (id, title, dispute_type, channel, summary, claims, risk_level,"
                " received_at, created_at, created_by) VALUES (1, 't', 'neighbourhood',"
                " 'walk_in', 's', 'c', 'low', '2026-03-01 00:00:00.000000',"
                " '2026-03-01 00:00:00.000000', 'm')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO proceeding (id, dispute_id, flow, state, organisation_id, level,"
                " case_year, case_serial, case_number, application_mode, mediators, facts,"
                " opened_at, updated_at, version) VALUES (1, 1, 'peoples', 'accepted', 1,"
                " 'village', 2026, 1, 'N1', 'application', '[]', '{}', '2026-03-01 00:00:00.000000',"
                " '2026-03-01 00:00:00.000000', 2)"
            )
        )
        for seq in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO event (dispute_id, proceeding_id, seq, trigger, to_state,"
                    " actor, payload, occurred_at) VALUES (1, 1, :seq, 't', 'accepted', 'm',"
                    " '{}', '2026-03-01 00:00:00.000000')"
                ),
                {"seq": seq},
            )
    store.upgrade()
    report = verify(store)
    assert report.ok, report.problems
    assert (report.events, report.head_seq) == (2, 2)
    store.close()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 shell")
def test_a_row_edited_with_the_sqlite3_shell_is_caught(tmp_path, runner: CliRunner) -> None:
    db = tmp_path / "case.db"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    from mediation.engine.organisations import add_organisation

    add_organisation(store, code="桥头", name="桥头村人民调解委员会", level="village", now=T0)
    _walk(store)
    store.close()
    assert runner.invoke(app, ["--db", str(db), "audit", "verify"]).exit_code == 0
    subprocess.run(
        [
            "sqlite3",
            str(db),
            "UPDATE event SET note = '已和解' WHERE seq = 2 AND proceeding_id = 1;",
        ],
        check=True,
    )
    out = runner.invoke(app, ["--db", str(db), "audit", "verify", "--json"])
    assert out.exit_code == 10
    report = json.loads(out.stdout)
    assert report["ok"] is False
    assert [p["kind"] for p in report["problems"]] == ["edited"]
    assert "第 2 号" in report["problems"][0]["where"]


def test_verify_sees_one_moment_while_others_write(store: Store, db_url: str) -> None:
    """Writers in other threads (each with its own Store, as processes would) advance
    cases while ``audit verify`` runs again and again: it never reports a break, because
    it reads one snapshot; and when the writers are done nothing is left pending, because
    a write's entries are sealed before ``write`` returns."""
    import threading

    pids = [
        cases.open_case(
            store, intake.validate(intake_record(title=f"纠纷{i}")), actor="m", now=T0
        ).proceeding_id
        for i in range(6)
    ]
    steps = [
        ("accept", None),
        ("assign", {"mediators": ["王调解员"], "selection": "designated"}),
        ("inform", None),
    ]
    failures: list[BaseException] = []

    def writer(mine: list[int]) -> None:
        own = Store(db_url)
        try:
            for trigger, payload in steps:
                for pid in mine:
                    cases.advance(own, pid, trigger, actor="m", now=T0, payload=payload)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(pids[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    reports = []
    while any(t.is_alive() for t in threads) or not reports:
        with store.snapshot() as conn:
            reports.append(audit.verify(conn))
    for t in threads:
        t.join()
    assert not failures, failures
    assert all(r.ok for r in reports), [str(p) for r in reports for p in r.problems][:5]
    final = verify(store)
    assert final.ok and final.pending == 0 and final.events == 6 * 4, final
