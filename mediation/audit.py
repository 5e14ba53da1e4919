"""Tamper-evident history: every event is hashed into two chains.

- **The dispute's chain.** Each case event stores ``prev_hash``, the hash of the previous
  event of the same dispute (across all its proceedings and hand-offs), so a dispute's
  history cannot be edited, shortened or re-ordered without breaking a link.
- **The database-wide chain.** Every case event and every access event (a reveal of
  personal data, a user or key change) takes the next ``chain_seq``; the ``audit_head``
  row holds the fold ``H(head ‖ hash)`` over all of them, so deleting whole disputes or
  the newest entries shows too.

An event's hash is the SHA-256 of its canonical JSON (keys sorted, UTF-8, timestamps in
UTC ISO form) and its dispute predecessor's hash; :func:`append_event` computes it when it
inserts the event, holding the dispute's row lock (PostgreSQL; SQLite's write lock covers
it), so one dispute's events chain in the order they were written. Just before commit,
:meth:`mediation.store.Store.write` calls :func:`seal`, which gives the transaction's entries
the next positions of the database-wide chain and folds their hashes into the head: on
PostgreSQL one ``UPDATE … RETURNING`` per entry that locks, advances and folds the head in
the database, so the head's lock is held for a single round trip and the commit.

``mediation audit verify`` (:func:`verify`) recomputes both chains and reports every
edited, deleted or inserted entry with where it is. What it cannot see: someone who
rewrites the whole chain and the head consistently; record ``audit verify``'s head hash
outside the database (a supervisor's log, a signed report) to close that gap.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update

from mediation._sql import Prepared
from mediation._tables import (
    access_event_table,
    audit_head_table,
    dispute_table,
    event_table,
    proceeding_table,
)
from mediation._types import dumps
from mediation.clock import UTC

GENESIS = "0" * 64
_PENDING = "mediation_audit_pending"
_LINKS = "mediation_audit_links"

_E = event_table
_A = access_event_table
_H = audit_head_table

EVENT_COLUMNS = (
    "dispute_id",
    "proceeding_id",
    "seq",
    "trigger",
    "from_state",
    "to_state",
    "actor",
    "note",
    "payload",
    "occurred_at",
)
_INSERT_EVENT = Prepared(
    insert(_E)
    .values({c: bindparam(c) for c in (*EVENT_COLUMNS, "prev_hash", "hash")})
    .returning(_E.c.id)
)
_INSERT_ACCESS = Prepared(
    insert(_A)
    .values(
        action=bindparam("action"),
        actor=bindparam("actor"),
        subject=bindparam("subject"),
        detail=bindparam("detail"),
        occurred_at=bindparam("occurred_at"),
    )
    .returning(_A.c.id)
)
_DISPUTE_LINK = Prepared(
    select(_E.c.hash)
    .where(_E.c.dispute_id == bindparam("dispute_id"))
    .order_by(_E.c.id.desc())
    .limit(1)
)
_LOCK_DISPUTE = Prepared(
    select(dispute_table.c.id)
    .where(dispute_table.c.id == bindparam("dispute_id"))
    .with_for_update()
)
_POSITION_EVENT = Prepared(
    update(_E).where(_E.c.id == bindparam("eid")).values(chain_seq=bindparam("chain_seq"))
)
_SEAL_ACCESS = Prepared(
    update(_A)
    .where(_A.c.id == bindparam("aid"))
    .values(chain_seq=bindparam("chain_seq"), hash=bindparam("h"))
)
_MOVE_HEAD = Prepared(
    update(_H)
    .where(_H.c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("h"), updated_at=bindparam("now"))
)
#: PostgreSQL: lock, advance and fold the head in one statement (sha256() is built in).
_ADVANCE_HEAD_PG = text(
    "UPDATE audit_head SET seq = seq + 1,"
    " hash = encode(sha256(convert_to(hash || :h, 'UTF8')), 'hex'), updated_at = :now"
    " WHERE id = 1 RETURNING seq"
)


# -- hashing ------------------------------------------------------------------------------


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical(value: Any) -> Any:
    """What ``value`` reads back as once stored as JSON text (dates become strings...)."""
    return json.loads(dumps(value))


def event_hash(row: Mapping[str, Any], *, prev_hash: str) -> str:
    """The hash of one case event (``row`` has ``EVENT_COLUMNS``) after ``prev_hash``."""
    body = {
        "prev_hash": prev_hash,
        **{c: row[c] for c in EVENT_COLUMNS if c not in ("payload", "occurred_at")},
        "payload": _canonical(row["payload"]),
        "occurred_at": _iso(row["occurred_at"]),
    }
    return hashlib.sha256(("event\n" + dumps(body)).encode()).hexdigest()


def access_hash(row: Mapping[str, Any]) -> str:
    """The hash of one access event (a reveal, a user or key change)."""
    body = {
        "id": row["id"],
        "action": row["action"],
        "actor": row["actor"],
        "subject": row["subject"],
        "detail": _canonical(row["detail"]),
        "occurred_at": _iso(row["occurred_at"]),
    }
    return hashlib.sha256(("access\n" + dumps(body)).encode()).hexdigest()


def fold(head: str, entry_hash: str) -> str:
    """The database-wide chain's next head."""
    return hashlib.sha256(f"{head}{entry_hash}".encode()).hexdigest()


# -- writing ------------------------------------------------------------------------------


def _pending(conn: Connection) -> list[tuple[str, int, str]]:
    pending: list[tuple[str, int, str]] = conn.info.setdefault(_PENDING, [])
    return pending


def begin(conn: Connection) -> None:
    """Start a write transaction's list of entries to seal (called by ``Store.write``)."""
    conn.info[_PENDING] = []
    conn.info[_LINKS] = {}


def append_event(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert one case event (``EVENT_COLUMNS``) linked into its dispute's chain; it takes
    its place in the database-wide chain when the transaction commits through
    :meth:`Store.write`. Returns its id."""
    links: dict[int, str] = conn.info.setdefault(_LINKS, {})
    dispute_id = values["dispute_id"]
    prev = links.get(dispute_id)
    if prev is None:
        if conn.dialect.name != "sqlite":  # SQLite: the write lock already serialises
            _LOCK_DISPUTE(conn, {"dispute_id": dispute_id}).all()
        prev = _DISPUTE_LINK(conn, {"dispute_id": dispute_id}).scalar() or GENESIS
    digest = event_hash(values, prev_hash=prev)
    eid: int = _INSERT_EVENT(conn, {**values, "prev_hash": prev, "hash": digest}).scalar_one()
    links[dispute_id] = digest
    _pending(conn).append(("event", eid, digest))
    return eid


def append_access(
    conn: Connection,
    *,
    action: str,
    actor: str,
    subject: str,
    detail: Mapping[str, Any],
    now: datetime,
) -> int:
    """Record an action that changes no case (a reveal of personal data, a user, a key)."""
    values = {
        "action": action,
        "actor": actor,
        "subject": subject,
        "detail": dict(detail),
        "occurred_at": now,
    }
    aid: int = _INSERT_ACCESS(conn, values).scalar_one()
    _pending(conn).append(("access", aid, access_hash({**values, "id": aid})))
    return aid


def _lock_head(conn: Connection) -> tuple[int, str]:
    query = select(_H.c.seq, _H.c.hash).where(_H.c.id == 1)
    if conn.dialect.name != "sqlite":  # SQLite: BEGIN IMMEDIATE already holds the lock
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        from mediation.errors import SchemaError

        raise SchemaError(
            "the audit chain's head row is missing",
            hint="run `mediation audit verify`; the database was changed outside mediation",
        )
    return int(row.seq), str(row.hash)


def _position(conn: Connection, kind: str, entry_id: int, seq: int, digest: str) -> None:
    if kind == "event":
        _POSITION_EVENT(conn, {"eid": entry_id, "chain_seq": seq})
    else:
        _SEAL_ACCESS(conn, {"aid": entry_id, "chain_seq": seq, "h": digest})


def seal(conn: Connection, *, now: datetime | None = None) -> int:
    """Give this transaction's entries their chain positions and move the head; return
    the head's position. Call last, inside the transaction (``Store.write`` does)."""
    pending = conn.info.get(_PENDING)
    if not pending:
        return 0
    now = now or datetime.now(UTC)
    seq = 0
    if conn.dialect.name == "postgresql" and len(pending) <= 3:
        # Lock, advance and fold in the database: one round trip under the head's lock.
        for kind, entry_id, digest in pending:
            seq = conn.execute(_ADVANCE_HEAD_PG, {"h": digest, "now": now}).scalar_one()
            _position(conn, kind, entry_id, seq, digest)
    else:
        seq, head = _lock_head(conn)
        for kind, entry_id, digest in pending:
            seq += 1
            _position(conn, kind, entry_id, seq, digest)
            head = fold(head, digest)
        _MOVE_HEAD(conn, {"seq": seq, "h": head, "now": now})
    pending.clear()
    return seq


def chain_existing(conn: Connection) -> int:
    """Chain every event not yet in the chain, oldest first (the upgrade that introduced
    the chains runs this once for the history written before it)."""
    begin(conn)
    pending = _pending(conn)
    links: dict[int, str] = {}
    rows = conn.execute(select(_E).where(_E.c.chain_seq.is_(None)).order_by(_E.c.id)).mappings()
    for row in [dict(r) for r in rows]:
        prev = links.get(row["dispute_id"], GENESIS)
        digest = event_hash(row, prev_hash=prev)
        conn.execute(update(_E).where(_E.c.id == row["id"]).values(prev_hash=prev, hash=digest))
        links[row["dispute_id"]] = digest
        pending.append(("event", row["id"], digest))
    return seal(conn)


# -- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One break in a chain, and where it is."""

    kind: str  # edited | deleted | inserted | head
    where: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.detail}"


@dataclass
class AuditReport:
    entries: int = 0
    events: int = 0
    access_events: int = 0
    disputes: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "events": self.events,
            "access_events": self.access_events,
            "disputes": self.disputes,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": [
                {"kind": p.kind, "where": p.where, "detail": p.detail} for p in self.problems
            ],
        }


def _event_where(row: Mapping[str, Any]) -> str:
    number = row.get("case_number") or f"proceeding {row['proceeding_id']}"
    return f"event id {row['id']} ({number}, seq {row['seq']}, dispute {row['dispute_id']})"


def _events(conn: Connection, order: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    query = (
        select(_E, proceeding_table.c.case_number)
        .outerjoin(proceeding_table, proceeding_table.c.id == _E.c.proceeding_id)
        .order_by(*order)
    )
    for row in conn.execute(query.execution_options(yield_per=5000)).mappings():
        yield dict(row)


def verify(conn: Connection, *, limit: int = 1000) -> AuditReport:
    """Recompute both chains; report every break with where it is (at most ``limit``)."""
    report = AuditReport()
    problems = report.problems

    def add(kind: str, where: str, detail: str) -> None:
        if len(problems) < limit:
            problems.append(Problem(kind, where, detail))

    # 1. The database-wide chain, in chain order: contents, positions, the fold.
    def tagged_events() -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        for row in _events(conn, (_E.c.chain_seq.asc().nulls_first(), _E.c.id)):
            yield (row["chain_seq"] or 0, row["id"], "event", row)

    def tagged_access() -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        query = select(_A).order_by(_A.c.chain_seq.asc().nulls_first(), _A.c.id)
        for row in conn.execute(query.execution_options(yield_per=5000)).mappings():
            yield (row["chain_seq"] or 0, row["id"], "access", dict(row))

    head, expected = GENESIS, 1
    for seq, _id, kind, row in heapq.merge(tagged_events(), tagged_access()):
        report.entries += 1
        if kind == "event":
            report.events += 1
            where = _event_where(row)
        else:
            report.access_events += 1
            where = f"access event id {row['id']} ({row['action']} by {row['actor']})"
        if row["chain_seq"] is None or row["hash"] is None:
            add("inserted", where, "not in the chain: written outside mediation")
            continue
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
            add("deleted", f"chain positions {missing}", f"missing before {where}")
        expected = seq + 1
        if kind == "event":
            digest = event_hash(row, prev_hash=row["prev_hash"] or "")
        else:
            digest = access_hash(row)
        if digest != row["hash"]:
            add("edited", where, "its content no longer matches its hash")
        head = fold(head, row["hash"])
    stored = conn.execute(select(_H.c.seq, _H.c.hash).where(_H.c.id == 1)).first()
    report.head_seq, report.head_hash = expected - 1, head
    if stored is None:
        add("deleted", "audit_head", "the chain's head row is missing")
    elif stored.seq > expected - 1:
        add(
            "deleted",
            f"chain positions {expected}-{stored.seq}",
            "the newest entries of the chain are missing",
        )
    elif stored.seq < expected - 1 or stored.hash != head:
        add("head", "audit_head", "the head does not match the chain (entries or head rewritten)")

    # 2. Each dispute's chain, and each proceeding's event numbers.
    dispute, prev = None, GENESIS
    last_seq: dict[int, int] = {}
    for row in _events(conn, (_E.c.dispute_id, _E.c.id)):
        if row["chain_seq"] is None:
            continue  # reported above
        if row["dispute_id"] != dispute:
            dispute, prev = row["dispute_id"], GENESIS
            last_seq.clear()
            report.disputes += 1
        if row["prev_hash"] != prev:
            add(
                "deleted" if row["prev_hash"] != GENESIS else "inserted",
                _event_where(row),
                f"does not follow the dispute's previous event (expected link {prev[:12]}…)",
            )
        pid, n = row["proceeding_id"], row["seq"]
        before = last_seq.get(pid, 0)
        if n != before + 1:
            add(
                "deleted" if n > before + 1 else "inserted",
                _event_where(row),
                f"event numbers jump from {before} to {n} in this case",
            )
        last_seq[pid] = n
        prev = row["hash"]
    return report


def head_row_sql() -> Any:
    """The statement an upgrade runs to create the chain's head."""
    return text("INSERT INTO audit_head (id, seq, hash, updated_at) VALUES (1, 0, :h, :now)")
