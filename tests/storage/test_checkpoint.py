"""Audit checkpoints (issue 13, point 2): ``audit checkpoint`` writes the chain's head,
signed, to keep outside the database; ``audit verify --since FILE`` checks the checkpoint's
signature and database, that the chain still extends its head, and then only what was
written after it. On both databases."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text, update
from typer.testing import CliRunner, Result

from mediation import AuditCheckpoint, Mediation
from mediation.cli import app
from mediation.domain import intake
from mediation.domain.clock import FixedClock
from mediation.engine import cases
from mediation.errors import ExitCode, PermissionDenied, TamperedError
from mediation.storage import audit
from mediation.storage._tables import (
    access_event_table,
    audit_head_table,
    event_table,
    proceeding_table,
)
from mediation.storage.store import Store
from tests.conftest import T0, add_users, intake_record


def _cli(runner: CliRunner, store: Store, *args: str) -> Result:
    return runner.invoke(app, ["--db", store.url, *args])


def _open(store: Store, n: int = 1) -> list[int]:
    ids = []
    for i in range(n):
        record = intake.validate(intake_record(title=f"通道纠纷{i}"), source="test")
        opened = cases.open_case(store, record, actor="wang", now=T0)
        cases.advance(store, opened.proceeding_id, "accept", actor="wang", now=T0)
        ids.append(opened.proceeding_id)
    return ids


def _checkpoint(store: Store, runner: CliRunner, path: Path) -> dict[str, object]:
    result = _cli(runner, store, "audit", "checkpoint", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert "已写入检查点" in result.output
    return json.loads(path.read_text(encoding="utf-8"))


def _since(store: Store, runner: CliRunner, path: Path) -> Result:
    return _cli(runner, store, "audit", "verify", "--since", str(path))


def _rewrite_consistently(conn: Connection, event_id: int, note: str) -> None:
    """Edit one event and recompute everything after it: its dispute's links and hashes,
    the database-wide fold and the stored head — the attack the chain alone cannot see."""
    events = [
        dict(r._mapping) for r in conn.execute(select(event_table).order_by(event_table.c.id))
    ]
    links: dict[int, str] = {}
    for row in events:
        if row["id"] == event_id:
            row["note"] = note
        prev = links.get(row["dispute_id"], audit.GENESIS)
        row["prev_hash"], row["hash"] = prev, audit.event_hash(row, prev_hash=prev)
        links[row["dispute_id"]] = row["hash"]
        conn.execute(
            update(event_table)
            .where(event_table.c.id == row["id"])
            .values(note=row["note"], prev_hash=row["prev_hash"], hash=row["hash"])
        )
    entries = [(r["chain_seq"], r["hash"]) for r in events if r["chain_seq"]]
    entries += [
        (r.chain_seq, r.hash)
        for r in conn.execute(select(access_event_table.c.chain_seq, access_event_table.c.hash))
        if r.chain_seq
    ]
    head = audit.GENESIS
    for _, digest in sorted(entries):
        head = audit.fold(head, digest)
    conn.execute(update(audit_head_table).values(seq=len(entries), hash=head))


def test_verify_since_a_checkpoint_checks_what_came_after(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    _open(store, 2)
    path = tmp_path / "anchor.json"
    saved = _checkpoint(store, runner, path)
    assert saved["format"] == "mediation-audit-checkpoint"
    with store.read() as conn:
        head = conn.execute(select(audit_head_table.c.seq, audit_head_table.c.hash)).one()
    assert (saved["position"], saved["head"]) == (head.seq, head.hash)

    quiet = _since(store, runner, path)
    assert quiet.exit_code == 0, quiet.output
    assert "检查点之后：0 条案件事件" in quiet.output
    _open(store, 3)  # six new events
    after = _since(store, runner, path)
    assert after.exit_code == 0, after.output
    assert "检查点之后：6 条案件事件" in after.output
    # The API takes the file, or the checkpoint itself.
    api = Mediation(store, store.login(), clock=FixedClock(T0))
    report = api.verify_audit(since=path)
    assert report.ok and report.events == 6
    checkpoint = api.audit_checkpoint()
    assert isinstance(checkpoint, AuditCheckpoint) and checkpoint.position == head.seq + 6
    assert api.verify_audit(since=checkpoint).events == 0


def test_a_consistent_rewrite_before_the_checkpoint_is_found_by_it(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    """Rewriting the history and the head consistently passes the plain ``verify`` on
    SQLite: only the head kept outside shows it. On PostgreSQL the MACs the server gave the
    rewritten events no longer match (revision 0020), unless the rewriter reads its key."""
    first = _open(store, 2)[0]
    path = tmp_path / "anchor.json"
    _checkpoint(store, runner, path)
    _open(store, 1)
    with store.write() as conn:
        event_id = conn.execute(
            select(event_table.c.id).where(event_table.c.proceeding_id == first).limit(1)
        ).scalar_one()
        _rewrite_consistently(conn, event_id, "（事后改写）")
    plain = _cli(runner, store, "audit", "verify")
    if store.dialect == "sqlite":
        assert plain.exit_code == 0, plain.output  # the gap the checkpoint closes
    else:
        assert plain.exit_code == ExitCode.TAMPERED, plain.output
        found = [line.strip() for line in plain.stdout.splitlines() if line.startswith("  [")]
        assert found and all(line.startswith("[mac] ") for line in found), plain.output
        assert f"（event id {event_id}）" in found[0]
    anchored = _since(store, runner, path)
    assert anchored.exit_code == ExitCode.TAMPERED, anchored.output
    assert "不是从检查点" in anchored.output


def test_edits_after_the_checkpoint_are_reported_with_their_case(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    _open(store, 1)
    path = tmp_path / "anchor.json"
    _checkpoint(store, runner, path)
    later = _open(store, 1)[0]
    with store.engine.begin() as conn:  # behind mediation's back
        conn.execute(
            update(event_table)
            .where(event_table.c.proceeding_id == later, event_table.c.seq == 2)
            .values(note="（改）")
        )
        conn.execute(
            update(proceeding_table)
            .where(proceeding_table.c.id == later)
            .values(state="agreed_written")
        )
    result = _since(store, runner, path)
    assert result.exit_code == ExitCode.TAMPERED, result.output
    assert "[edited]" in result.output and "内容与其哈希不符" in result.output
    assert "（2026）桥头人调字第2号" in result.output
    assert "按事件重放应为 accepted" in result.output


def test_a_shortened_chain_is_reported(store: Store, runner: CliRunner, tmp_path: Path) -> None:
    _open(store, 2)
    path = tmp_path / "anchor.json"
    saved = _checkpoint(store, runner, path)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET seq = seq - 2"))
    result = _since(store, runner, path)
    assert result.exit_code == ExitCode.TAMPERED, result.output
    assert f"比检查点（#{saved['position']}）时还短" in result.output


def test_an_edited_or_foreign_checkpoint_is_refused(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    _open(store, 1)
    path = tmp_path / "anchor.json"
    saved = _checkpoint(store, runner, path)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**saved, "position": saved["position"] - 1}), encoding="utf-8")
    result = _since(store, runner, edited)
    assert result.exit_code == ExitCode.TAMPERED, result.output
    assert "签名不符" in result.output
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({**saved, "database": "0" * 32}), encoding="utf-8")
    result = _since(store, runner, foreign)
    assert result.exit_code == ExitCode.TAMPERED and "不属于本数据库" in result.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{}", encoding="utf-8")
    result = _since(store, runner, garbage)
    assert result.exit_code == ExitCode.INVALID_INPUT and "不是审计检查点文件" in result.output


def test_no_checkpoint_of_a_broken_chain_and_none_overwritten(
    store: Store, runner: CliRunner, tmp_path: Path
) -> None:
    _open(store, 1)
    path = tmp_path / "anchor.json"
    _checkpoint(store, runner, path)
    again = _cli(runner, store, "audit", "checkpoint", "-o", str(path))
    assert again.exit_code == ExitCode.USAGE and "已存在" in again.output
    with store.engine.begin() as conn:
        conn.execute(update(event_table).where(event_table.c.seq == 1).values(actor="sup"))
    broken = tmp_path / "broken.json"
    result = _cli(runner, store, "audit", "checkpoint", "-o", str(broken))
    assert result.exit_code == ExitCode.TAMPERED, result.output
    assert "不生成检查点" in result.output and not broken.exists()
    # stdout by default, and the API says the same
    with pytest.raises(TamperedError):
        Mediation(store, store.login(), clock=FixedClock(T0)).audit_checkpoint()


def test_only_supervisors_and_admins_take_checkpoints(store: Store, tmp_path: Path) -> None:
    add_users(store, "wang")
    add_users(store, "sup", roles=("supervisor",), organisation=None)
    _open(store, 1)
    with pytest.raises(PermissionDenied):
        Mediation(store, "wang", clock=FixedClock(T0)).audit_checkpoint()
    checkpoint = Mediation(
        store, "sup", clock=FixedClock(T0 + timedelta(days=1))
    ).audit_checkpoint()
    assert checkpoint.taken_at == (T0 + timedelta(days=1)).astimezone(checkpoint.taken_at.tzinfo)
    with pytest.raises(PermissionDenied):
        Mediation(store, "wang", clock=FixedClock(T0)).verify_audit(since=checkpoint)
