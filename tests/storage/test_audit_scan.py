"""The fast verification (mediation.storage.audit_scan, consistency.check) finds exactly what
the reference does (audit.verify, consistency.check_reference), for an intact history and
for each kind of edit made behind mediation's back, on both databases."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text

from mediation.domain import intake
from mediation.engine import cases
from mediation.storage import audit, audit_scan, consistency
from mediation.storage.store import Store
from tests.conftest import T0, intake_record


def _history(store: Store) -> None:
    for i in range(3):
        record = intake.validate(intake_record(title=f"相邻通道纠纷{i}"), source="test")
        opened = cases.open_case(store, record, actor="wang", now=T0)
        pid = opened.proceeding_id
        cases.advance(store, pid, "accept", actor="wang", now=T0 + timedelta(hours=1))
        cases.advance(
            store,
            pid,
            "assign",
            actor="wang",
            now=T0 + timedelta(hours=2),
            payload={"mediators": ["王调解员"], "selection": "designated", "注": '引号"与\\'},
        )


def _first_event_of_case(n: int) -> str:
    return f"(SELECT min(id) FROM event WHERE proceeding_id = {n})"


EDITS = {
    "intact": [],
    "note": ["UPDATE event SET note = '改' WHERE id = 2"],
    "payload-same-value-other-spacing": [
        "UPDATE event SET payload = replace(payload, ':', ': ') WHERE id = 3",
    ],
    "payload-value": ["UPDATE event SET payload = replace(payload, '王', '李')"],
    "occurred-at": [
        "UPDATE event SET occurred_at = occurred_at + interval '1 second' WHERE id = 4"
    ],
    "occurred-at-stored-otherwise": [  # SQLite: 'T' for ' ' (PostgreSQL: no change)
        "UPDATE event SET occurred_at = replace(occurred_at, ' ', 'T') WHERE id = 4"
    ],
    "deleted": ["DELETE FROM event WHERE id = 5"],
    "unhashed": ["UPDATE event SET hash = NULL, chain_seq = NULL WHERE id = 6"],
    "pending": ["UPDATE event SET chain_seq = NULL WHERE id = (SELECT max(id) FROM event)"],
    "link": ["UPDATE event SET prev_hash = hash WHERE id = 7"],
    "numbers": ["UPDATE event SET seq = seq + 5 WHERE id = 8"],
    "positions": ["UPDATE event SET chain_seq = chain_seq + 100 WHERE id = 9"],
    # Another first byte, always (a head that began with "ab" was left as it was).
    "head": [
        "UPDATE audit_head SET hash = CASE WHEN substr(hash, 1, 2) = 'ab' THEN 'cd' ELSE 'ab' END"
        " || substr(hash, 3)"
    ],
    "access": ["UPDATE access_event SET actor = 'sup'"],
    "state": ["UPDATE proceeding SET state = 'agreed_written', version = 9 WHERE id = 1"],
    "step": ["UPDATE event SET to_state = 'agreed_written' WHERE id = 2"],
    "roles": ['UPDATE app_user SET roles = \'["admin","mediator"]\''],
    "steps-swapped": [
        "UPDATE event SET seq = 100 WHERE id = 2",
        "UPDATE event SET seq = 2 WHERE id = 3",
        "UPDATE event SET seq = 3 WHERE id = 2",
    ],
    "no-event-left": ["DELETE FROM event WHERE proceeding_id = 2"],
    "off-the-chain": ["UPDATE event SET chain_seq = 0 WHERE id = 3"],
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_the_fast_verification_finds_what_the_reference_finds(edit: str, store: Store) -> None:
    _history(store)
    with store.engine.begin() as conn:
        for sql in EDITS[edit]:
            if "interval" in sql and store.dialect == "sqlite":
                sql = sql.replace(
                    "occurred_at + interval '1 second'",
                    "strftime('%Y-%m-%d %H:%M:%f', occurred_at, '+1 seconds') || '000'",
                )
            if "replace(occurred_at" in sql and store.dialect == "postgresql":
                sql = "UPDATE event SET occurred_at = occurred_at WHERE id = 4"
            conn.execute(text(sql))
    with store.snapshot() as conn:
        reference = audit.verify(conn)
        steps = audit_scan.CaseSteps()
        fast = audit_scan.scan(conn, steps=steps)
        if edit == "payload-same-value-other-spacing":
            # The reference hashes the decoded value, which is unchanged; the scan also
            # holds the text to the one the program writes, since readers that search the
            # text for a digest would read another one (test_record_proves_itself).
            assert reference.ok and [(p.kind, p.where.split("（")[0]) for p in fast.problems] == [
                ("edited", "事件 id 3")
            ]
            fast = reference
        assert fast.as_dict() == reference.as_dict()
        # each case's steps and state from what the scan saw, and asked of the database
        state = sorted(map(str, consistency.check(conn, steps=steps)))
        assert state == sorted(map(str, consistency.check_reference(conn)))
        assert state == sorted(map(str, consistency.check(conn)))
    unchanged = edit in (
        "intact",
        "payload-same-value-other-spacing",
        "occurred-at-stored-otherwise",
    )
    assert unchanged == (fast.ok and not state), (fast.problems, state)


def test_the_raw_hash_is_the_reference_hash(store: Store) -> None:
    """The text assembled from the stored columns is the text the reference hashes, for
    every event and access event (no fallback: were ``event_hash`` to change, this fails)."""
    _history(store)
    with store.snapshot() as conn:
        scan = audit_scan._Scan(conn, audit.AuditReport(), 0)
        ts = audit_scan._ts(store.dialect)
        sqlite = store.dialect == "sqlite"  # the timestamp as stored, made ISO by the scan
        events = list(scan.rows(f"SELECT {audit_scan._EVENT_COLUMNS.format(ts=ts)} FROM event"))
        access = list(
            scan.rows(f"SELECT {audit_scan._ACCESS_COLUMNS.format(ts=ts)} FROM access_event")
        )
        assert len(events) == 9 and access
        for row in events:
            assert hashlib.sha256(audit_scan.event_body(row, sqlite)).hexdigest() == row[-1], row
        for row in access:
            assert hashlib.sha256(audit_scan.access_body(row, sqlite)).hexdigest() == row[-1], row
        ids = [r[1] for r in events]
        assert audit_scan.intact_events(conn, ids) == set(ids)
