"""Tamper-evident history: every event is hashed into two chains.

- **The dispute's chain.** Each case event stores ``prev_hash``, the hash of the previous
  event of the same dispute (across all its proceedings and hand-offs), so a dispute's
  history cannot be edited, shortened or re-ordered without breaking a link.
- **The database-wide chain.** Every case event and every access event (a reveal of
  personal data, a user or key change, a dispute merge or split) takes the next
  ``chain_seq``; the ``audit_head`` row holds the fold ``H(head ‖ hash)`` over all of
  them, so deleting whole disputes or the newest entries shows too.

An event's hash is the SHA-256 of its canonical JSON (keys sorted, UTF-8, timestamps in
UTC ISO form) and its dispute predecessor's hash; :func:`append_event` computes it when it
inserts the event, holding the dispute's row lock (PostgreSQL; SQLite's write lock covers
it), so one dispute's events chain in the order they were written. Writers of different
disputes never wait for each other.

**Sealing** gives entries written with a hash but no position yet (*pending* entries) the
next positions of the database-wide chain, oldest first, and folds them into the head:

- On SQLite, :meth:`mediation.storage.store.Store.write` seals (:func:`seal`) just before commit;
  the database's write lock serialises writers anyway.
- On PostgreSQL a transaction commits its entries pending, and ``Store.write`` then calls
  the server-side function ``mediation_seal()`` (revision 0008), which takes the head's
  row lock and seals every committed pending entry in a short transaction of its own
  (:func:`seal_committed`). Holding the head's lock through every commit, as the head did
  before, queued all writers behind one row; now no transaction waits for it, and only a
  seal may wait for another seal. When ``write`` returns, its entries are sealed; only a
  process killed or cut off between its commit and its seal leaves them pending, for the
  next seal (any write's, the scheduler's, ``Store.seal_pending``).

:func:`verify` recomputes both chains and reports every edited, deleted or inserted entry
with where it is; a pending entry is checked against its own hash and its dispute's chain,
and counted. It is the reference: ``mediation audit verify`` runs
:func:`mediation.storage.audit_scan.scan`, which finds the same at a fraction of the cost
(tests/storage/test_audit_scan.py holds them to it). What neither can see: someone who
rewrites the whole chain and the head consistently, or who appends an event with a
correctly computed hash (it looks pending, and the next seal takes it); a checkpoint kept
outside the database (:mod:`mediation.storage.checkpoint`) closes the first gap, and on
PostgreSQL the server's stamp of each entry, under a key only the owner reads
(:mod:`mediation.storage.stamps`), shows both unless the owner did it.
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

from mediation.domain.clock import UTC
from mediation.i18n import N_, _
from mediation.storage._sql import Prepared, driver_error
from mediation.storage._tables import (
    access_event_table,
    audit_head_table,
    dispute_table,
    event_table,
    proceeding_table,
)
from mediation.storage._types import dumps

GENESIS = "0" * 64
_WRITTEN = "mediation_audit_written"
_LINKS = "mediation_audit_links"


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
    insert(event_table)
    .values({c: bindparam(c) for c in (*EVENT_COLUMNS, "prev_hash", "hash")})
    .returning(event_table.c.id)
)
_INSERT_ACCESS = Prepared(
    insert(access_event_table)
    .values(
        action=bindparam("action"),
        actor=bindparam("actor"),
        subject=bindparam("subject"),
        detail=bindparam("detail"),
        occurred_at=bindparam("occurred_at"),
    )
    .returning(access_event_table.c.id)
)
_DISPUTE_LINK = Prepared(
    select(event_table.c.hash)
    .where(event_table.c.dispute_id == bindparam("dispute_id"))
    .order_by(event_table.c.id.desc())
    .limit(1)
)
_LOCK_DISPUTE = Prepared(
    select(dispute_table.c.id)
    .where(dispute_table.c.id == bindparam("dispute_id"))
    .with_for_update()
)
_POSITION_EVENT = Prepared(
    update(event_table)
    .where(event_table.c.id == bindparam("eid"))
    .values(chain_seq=bindparam("chain_seq"))
)
_HASH_ACCESS = Prepared(
    update(access_event_table)
    .where(access_event_table.c.id == bindparam("aid"))
    .values(hash=bindparam("h"))
)
_POSITION_ACCESS = Prepared(
    update(access_event_table)
    .where(access_event_table.c.id == bindparam("eid"))
    .values(chain_seq=bindparam("chain_seq"))
)
_PENDING_EVENTS = Prepared(
    select(event_table.c.id, event_table.c.hash)
    .where(event_table.c.chain_seq.is_(None), event_table.c.hash.is_not(None))
    .order_by(event_table.c.id)
)
_PENDING_ACCESS = Prepared(
    select(access_event_table.c.id, access_event_table.c.hash)
    .where(access_event_table.c.chain_seq.is_(None), access_event_table.c.hash.is_not(None))
    .order_by(access_event_table.c.id)
)
_HEAD = Prepared(
    select(audit_head_table.c.seq, audit_head_table.c.hash).where(audit_head_table.c.id == 1)
)
_HEAD_FOR_UPDATE = Prepared(
    select(audit_head_table.c.seq, audit_head_table.c.hash)
    .where(audit_head_table.c.id == 1)
    .with_for_update()
)
_MOVE_HEAD = Prepared(
    update(audit_head_table)
    .where(audit_head_table.c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("h"), updated_at=bindparam("now"))
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


def begin(conn: Connection) -> None:
    """Start a write transaction (called by ``Store.write``)."""
    conn.info[_WRITTEN] = []
    conn.info[_LINKS] = {}


def wrote_entries(conn: Connection) -> bool:
    """Whether the transaction on ``conn`` appended any event or access event."""
    return bool(conn.info.get(_WRITTEN))


def _written(conn: Connection) -> list[tuple[int, int, str]]:
    """This transaction's entries, in order: (0 event | 1 access, id, hash)."""
    written: list[tuple[int, int, str]] = conn.info.setdefault(_WRITTEN, [])
    return written


def new_dispute(conn: Connection, dispute_id: int) -> None:
    """``conn``'s transaction has just inserted dispute ``dispute_id``: its chain starts at
    genesis, and no other session can see the dispute before the commit, let alone append to
    it, so its first event needs neither the lock nor a read of the chain's end."""
    conn.info.setdefault(_LINKS, {})[dispute_id] = GENESIS


def append_event(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert one case event (``EVENT_COLUMNS``) linked into its dispute's chain; it takes
    its place in the database-wide chain when it is sealed (see the module's text).
    Returns its id."""
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
    _written(conn).append((0, eid, digest))
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
    digest = access_hash({**values, "id": aid})
    _HASH_ACCESS(conn, {"aid": aid, "h": digest})
    _written(conn).append((1, aid, digest))
    return aid


def users_recorded(conn: Connection) -> bool:
    """Whether the chain records a user ever added (whatever the user table holds now)."""
    found = conn.execute(
        select(access_event_table.c.id).where(access_event_table.c.action == "user_add").limit(1)
    ).first()
    return found is not None


def _lock_head(conn: Connection) -> tuple[int, str]:
    # SQLite: BEGIN IMMEDIATE already holds the lock.
    row = (_HEAD if conn.dialect.name == "sqlite" else _HEAD_FOR_UPDATE)(conn, {}).first()
    if row is None:
        raise _head_missing()
    return int(row.seq), str(row.hash)


def _head_missing() -> Exception:
    from mediation.errors import SchemaError

    return SchemaError(
        _("审计链的链头记录缺失"),
        hint=_("请运行 `mediation audit verify`：数据库在本程序之外被改动过"),
    )


def before_commit(conn: Connection) -> None:
    """The last step of every write transaction (``Store.write``): on SQLite, seal the
    transaction's entries under its write lock; on PostgreSQL nothing (they are sealed
    after the commit, :func:`seal_committed`)."""
    if conn.dialect.name == "sqlite" and wrote_entries(conn):
        # Sealed in every writing transaction, so nothing else is pending: no query needed.
        _fold_into_head(conn, _written(conn))


def seal(conn: Connection, *, now: datetime | None = None) -> int:
    """Inside a write transaction: give every pending entry (this transaction's, and any
    committed earlier and not yet sealed) its chain position, oldest first, and move the
    head. Returns how many were sealed."""
    pending = [(0, e.id, e.hash) for e in _PENDING_EVENTS(conn, {}).all()]
    pending += [(1, a.id, a.hash) for a in _PENDING_ACCESS(conn, {}).all()]
    return _fold_into_head(conn, pending, now=now)


_POSITION = (_POSITION_EVENT, _POSITION_ACCESS)


def _fold_into_head(
    conn: Connection, entries: list[tuple[int, int, str]], *, now: datetime | None = None
) -> int:
    if not entries:
        return 0
    seq, head = _lock_head(conn)
    for kind, entry_id, digest in entries:
        seq += 1
        _POSITION[kind](conn, {"eid": entry_id, "chain_seq": seq})
        head = fold(head, digest)
    _MOVE_HEAD(conn, {"seq": seq, "h": head, "now": now or datetime.now(UTC)})
    return len(entries)


def seal_committed(conn: Connection, *, wait: bool = True) -> int | None:
    """Seal every committed pending entry, in a transaction of its own on ``conn`` (which
    must not be in one). PostgreSQL runs ``mediation_seal()``; without ``wait`` it returns
    None at once when another session holds the head (``Store.write`` then calls it again,
    waiting). Returns how many entries were sealed.

    :raises sqlalchemy.exc.DBAPIError: when the database fails (a lost connection is
        invalidated).
    """
    if conn.dialect.name == "postgresql":
        # One round trip in autocommit (not BEGIN, SELECT, COMMIT), on the driver's own
        # connection; it is back in transaction mode before anything else runs on it.
        raw: Any = conn.connection.driver_connection
        sql = "SELECT mediation_seal(%s)"  # revision 0008 creates the function
        try:
            raw.autocommit = True
            sealed = raw.execute(sql, (wait,)).fetchone()[0]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise driver_error(conn, exc, sql) from exc
        finally:
            if not raw.closed:
                raw.autocommit = False
        if sealed < 0 and wait:
            raise _head_missing()
        return None if sealed < 0 else int(sealed)
    with conn.begin():
        return seal(conn)


def chain_existing(conn: Connection) -> int:
    """Chain every event not yet in the chain, oldest first (the upgrade that introduced
    the chains runs this once for the history written before it)."""
    links: dict[int, str] = {}
    rows = conn.execute(
        select(event_table).where(event_table.c.chain_seq.is_(None)).order_by(event_table.c.id)
    ).mappings()
    for row in [dict(r) for r in rows]:
        prev = links.get(row["dispute_id"], GENESIS)
        digest = event_hash(row, prev_hash=prev)
        conn.execute(
            update(event_table)
            .where(event_table.c.id == row["id"])
            .values(prev_hash=prev, hash=digest)
        )
        links[row["dispute_id"]] = digest
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
    #: Entries written and checked but not yet sealed into the database-wide chain.
    pending: int = 0
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
            "pending": self.pending,
            "problems": [
                {"kind": p.kind, "where": p.where, "detail": p.detail} for p in self.problems
            ],
        }


def _event_where(row: Mapping[str, Any]) -> str:
    return event_where(
        row["id"], row.get("case_number"), row["proceeding_id"], row["seq"], row["dispute_id"]
    )


def _events(conn: Connection, order: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    query = (
        select(event_table, proceeding_table.c.case_number)
        .outerjoin(proceeding_table, proceeding_table.c.id == event_table.c.proceeding_id)
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
        for row in _events(conn, (event_table.c.chain_seq.asc().nulls_first(), event_table.c.id)):
            yield (row["chain_seq"] or 0, row["id"], "event", row)

    def tagged_access() -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        query = select(access_event_table).order_by(
            access_event_table.c.chain_seq.asc().nulls_first(), access_event_table.c.id
        )
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
            where = access_where(row["id"], row["action"], row["actor"])
        if row["hash"] is None:
            add("inserted", where, _(NOT_IN_CHAIN))
            continue
        if kind == "event":
            digest = event_hash(row, prev_hash=row["prev_hash"] or "")
        else:
            digest = access_hash(row)
        if digest != row["hash"]:
            add("edited", where, _(EDITED))
        if row["chain_seq"] is None:
            report.pending += 1  # written, not yet sealed: checked, not folded
            continue
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
            add("deleted", positions(missing), _(MISSING_BEFORE).format(where=where))
        expected = seq + 1
        head = fold(head, row["hash"])
    stored = _HEAD(conn, {}).first()
    report.head_seq, report.head_hash = expected - 1, head
    if stored is None:
        add("deleted", _(HEAD_WHERE), _(HEAD_MISSING))
    elif stored.seq > expected - 1:
        add(
            "deleted",
            positions(f"{expected}-{stored.seq}"),
            _(NEWEST_MISSING),
        )
    elif stored.seq < expected - 1 or stored.hash != head:
        add("head", _(HEAD_WHERE), _(HEAD_MISMATCH))

    # 2. Each dispute's chain, and each proceeding's event numbers.
    dispute, prev = None, GENESIS
    last_seq: dict[int, int] = {}
    for row in _events(conn, (event_table.c.dispute_id, event_table.c.id)):
        if row["hash"] is None:
            continue  # reported above
        if row["dispute_id"] != dispute:
            dispute, prev = row["dispute_id"], GENESIS
            last_seq.clear()
            report.disputes += 1
        if row["prev_hash"] != prev:
            add(
                "deleted" if row["prev_hash"] != GENESIS else "inserted",
                _event_where(row),
                _(NOT_LINKED).format(link=prev[:12]),
            )
        pid, n = row["proceeding_id"], row["seq"]
        before = last_seq.get(pid, 0)
        if n != before + 1:
            add(
                "deleted" if n > before + 1 else "inserted",
                _event_where(row),
                _(NUMBERS_JUMP).format(before=before, n=n),
            )
        last_seq[pid] = n
        prev = row["hash"]
    return report


def head_row_sql() -> Any:
    """The statement an upgrade runs to create the chain's head."""
    return text("INSERT INTO audit_head (id, seq, hash, updated_at) VALUES (1, 0, :h, :now)")


# What verify says of a problem (mediation.storage.audit_scan says the same; English in the
# catalog). Where: an entry, a range of chain positions, or the head.
NOT_IN_CHAIN = N_("不在审计链中：不是经本程序写入的")
EDITED = N_("内容与其哈希不符：写入后被改动")
MISSING_BEFORE = N_("在 {where} 之前缺失")
HEAD_MISSING = N_("审计链头记录缺失")
NEWEST_MISSING = N_("审计链最新的条目缺失")
HEAD_MISMATCH = N_("链头与审计链不符（条目或链头被改写）")
NOT_LINKED = N_("没有接在本纠纷的上一事件之后（应链接 {link}…）")
NUMBERS_JUMP = N_("本案的事件序号从 {before} 跳到 {n}")
POSITIONS = N_("链位置 {positions}")
HEAD_WHERE = N_("链头（audit_head）")
EVENT_WHERE = N_("事件 id {id}（{number}，第 {seq} 号，纠纷 #{dispute}）")
ACCESS_WHERE = N_("访问记录 id {id}（{actor}：{action}）")
PROCEEDING = N_("案件 id {id}")


def event_where(eid: Any, number: Any, proceeding: Any, seq: Any, dispute: Any) -> str:
    """Where an event is, as verify names it."""
    return _(EVENT_WHERE).format(
        id=eid, number=number or _(PROCEEDING).format(id=proceeding), seq=seq, dispute=dispute
    )


def access_where(aid: Any, action: Any, actor: Any) -> str:
    """Where an access event is, as verify names it."""
    return _(ACCESS_WHERE).format(id=aid, action=action, actor=actor)


def positions(text: str) -> str:
    """Chain positions (``3`` or ``5-6``), as verify names them."""
    return _(POSITIONS).format(positions=text)
