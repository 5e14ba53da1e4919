"""Verifying the audit chains fast: the whole history, or only what follows a checkpoint.

:func:`mediation.storage.audit.verify` is the reference: it reads every entry through the
ORM twice (in chain order, then in each dispute's order), decodes its JSON and timestamp
and re-encodes them to hash. This module reaches the same findings with a fraction of the
work (``bench/audit_verify.py`` compares the two on a demo database):

- **One pass over the chain, on the driver's own cursor** (a server-side cursor on
  PostgreSQL): plain tuples, no ORM row, no type processing.
- **The hash rebuilt from the stored text.** A payload is stored as the canonical JSON that
  the hash covers (:func:`mediation.storage._types.dumps`), and a timestamp as UTC text;
  so the hashed body is assembled from the column values as read (:func:`event_body`)
  instead of decoding and re-encoding them. Only when that gives another hash than the
  stored one is the entry hashed again the reference way (:func:`audit.event_hash`), and a
  difference reported: a false alarm is impossible. Nor can an edit hide: every value
  but the payload is written escaped (the timestamp too) or checked as an integer,
  so the assembled text can equal the hashed one only when each value, the payload's
  text included, is the one that was hashed.
- **Each dispute's chain and each case's event numbers checked by the database**, with
  window functions returning only the rows that break them (and, after a checkpoint, one
  indexed look-up of each new event's predecessor).

:func:`scan` with ``after=(position, head)`` checks a checkpoint's suffix: the entries
after that position, each against its own hash and its dispute's chain, folded onto the
checkpoint's head; the fold must give the stored head, so the chain still extends the
head the checkpoint recorded (:mod:`mediation.storage.checkpoint`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text

from mediation.i18n import _
from mediation.storage import audit
from mediation.storage._cursor import driver_rows
from mediation.storage._tables import access_event_table, event_table, proceeding_table
from mediation.storage._types import dumps
from mediation.storage.audit import (
    GENESIS,
    AuditReport,
    Problem,
    access_hash,
    event_hash,
)
from mediation.storage.record_scan import CLOCKS_MARK, PARTIES_MARK, PARTY_TRIGGERS, Recorded

_enc: Callable[[str], str] = json.encoder.encode_basestring

_EVENT_COLUMNS = (
    "chain_seq, id, dispute_id, proceeding_id, seq, trigger, from_state, to_state, actor, "
    "note, payload, {ts}, prev_hash, hash"
)
_ACCESS_COLUMNS = "chain_seq, id, action, actor, subject, detail, {ts}, hash"


def _ts(dialect: str) -> str:
    """occurred_at as read for :func:`event_body`: on PostgreSQL as the reference hashes it
    (``_iso``: UTC, ISO 8601, microseconds), made by the database; on SQLite the stored text
    (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), turned into that form by :func:`_iso_stored`."""
    if dialect == "postgresql":
        return """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return "occurred_at"


def _iso_stored(ts: Any) -> str:
    """SQLite's stored ``YYYY-MM-DD HH:MM:SS.ffffff`` as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``.
    Only the separator is checked: the result is written escaped into the hashed text, so
    it can equal the hashed timestamp (digits, ``-:.T+``) only when the stored text is that
    timestamp in the stored form, character for character. :raises ValueError: otherwise."""
    if type(ts) is not str or len(ts) != 26 or ts[10] != " ":
        raise ValueError("not a timestamp as mediation stores it")
    return f"{ts[:10]}T{ts[11:]}+00:00"


def event_body(row: tuple[Any, ...], stored: bool = False) -> bytes:
    """What :func:`audit.event_hash` hashes, from a raw row of ``_EVENT_COLUMNS`` (with
    ``stored``, its timestamp as SQLite stores it: see :func:`_ts`); keys in sorted order, as
    ``dumps`` writes them. :raises ValueError: on a value mediation does not write (the
    caller then hashes the reference way)."""
    _cs, _id, dispute, proceeding, seq, trig, src, dest, actor, note, payload, ts, prev, _h = row
    if not (type(dispute) is int and type(proceeding) is int and type(seq) is int):
        raise ValueError("not an integer")  # e.g. text in an integer column of SQLite
    if stored:  # _iso_stored, inline: once for every event
        if type(ts) is not str or len(ts) != 26 or ts[10] != " ":
            raise ValueError("not a timestamp as mediation stores it")
        ts = f"{ts[:10]}T{ts[11:]}+00:00"
    return (
        f'event\n{{"actor":{_enc(actor)},"dispute_id":{dispute},'
        f'"from_state":{"null" if src is None else _enc(src)},'
        f'"note":{"null" if note is None else _enc(note)},'
        f'"occurred_at":{_enc(ts)},"payload":{payload},'
        f'"prev_hash":{_enc(prev or "")},"proceeding_id":{proceeding},"seq":{seq},'
        f'"to_state":{_enc(dest)},"trigger":{_enc(trig)}}}'
    ).encode()


def access_body(row: tuple[Any, ...], stored: bool = False) -> bytes:
    """What :func:`audit.access_hash` hashes, from a raw row of ``_ACCESS_COLUMNS``."""
    _cs, aid, action, actor, subject, detail, ts, _h = row
    if type(aid) is not int:
        raise ValueError("not an integer")
    if stored:
        ts = _iso_stored(ts)
    return (
        f'access\n{{"action":{_enc(action)},"actor":{_enc(actor)},"detail":{detail},'
        f'"id":{aid},"occurred_at":{_enc(ts)},"subject":{_enc(subject)}}}'
    ).encode()


def _canonical(stored: Any) -> bool:
    """Whether a stored JSON column is the text the program writes (``dumps``: one
    encoding, keys sorted and unique). The hash covers the *decoded* value, so another
    text of it (a key given twice, other separators, bytes) would still hash right while
    readers that look for a digest in the text (``record_rows``, the scan) read another
    value: such a text is an edit."""
    if type(stored) is not str:
        return False
    try:
        return dumps(json.loads(stored)) == stored
    except (ValueError, RecursionError):
        return False


def _merged(events: Iterator[Any], access: Iterator[Any]) -> Iterator[Any]:
    """Events and access events merged by (position, id, kind) as long as access events
    remain: the rest of ``events`` is left to the caller."""
    nxt = next(access, None)
    if nxt is None:
        return
    for row in events:
        # (position, id, kind) as the reference orders them: "access" < "event"
        while nxt is not None and ((nxt[0] or 0), nxt[1], 0) < ((row[0] or 0), row[1], 1):
            yield nxt
            nxt = next(access, None)
        yield row
        if nxt is None:
            return
    yield nxt
    yield from access


@dataclass
class CaseSteps:
    """What a full scan saw of each case's steps, for :func:`consistency.check_events`
    (pass one to :func:`scan`, then to ``consistency.check``): the events of a case met in
    chain order with their numbers increasing are its events in number order, so each one's
    predecessor is known without a query over all events.

    ``cases``: case → (flow, state, version) as the proceeding table holds them, read in
    the same snapshot; ``edges``: the distinct (flow, trigger, from, to) of the events
    (flow None for an event without its case); ``last``: case → (number, to_state) of its
    last event; ``breaks``: (case, number,
    event id, from_state, previous to_state) of the events that do not start where the
    previous one ended; ``unordered``: the cases whose events the scan met out of number
    order (or with a number that is not an integer): the database decides for those;
    ``recorded``: what the events say of the parties, deadlines and signatures
    (:mod:`mediation.storage.record_scan`)."""

    cases: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    edges: set[tuple[Any, ...]] = field(default_factory=set)
    last: dict[Any, tuple[int, Any]] = field(default_factory=dict)
    breaks: list[tuple[Any, ...]] = field(default_factory=list)
    unordered: set[Any] = field(default_factory=set)
    recorded: Recorded = field(default_factory=Recorded)
    done: bool = False


class _Scan:
    """One verification: the report, the running fold, and where each finding is."""

    def __init__(
        self,
        conn: Connection,
        report: AuditReport,
        limit: int,
        since: int | None = None,
        steps: CaseSteps | None = None,
    ) -> None:
        self.conn, self.report, self.limit, self.since = conn, report, limit, since
        self.steps = steps
        #: A full scan's breaks of the disputes' chains, as :meth:`report_breaks` takes them,
        #: and the disputes whose events it met out of id order (checked by the database).
        self.breaks: list[tuple[Any, ...]] = []
        self.disordered: set[int] = set()
        self.dialect = conn.dialect.name

    def add(self, kind: str, where: str, detail: str) -> None:
        if len(self.report.problems) < self.limit:
            self.report.problems.append(Problem(kind, where, detail))

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """A query's rows on the driver's cursor (server-side on PostgreSQL)."""
        return driver_rows(self.conn, sql, params)

    # -- where ------------------------------------------------------------------------------

    def event_where(self, eid: int, proceeding: Any, seq: Any, dispute: Any) -> str:
        number = self.conn.execute(
            select(proceeding_table.c.case_number).where(proceeding_table.c.id == proceeding)
        ).scalar()
        return audit.event_where(eid, number, proceeding, seq, dispute)

    def event_edited(self, row: tuple[Any, ...]) -> bool:
        """Whether the event's content no longer matches its hash, the reference way, or
        its payload is not stored as the program writes it (see :func:`_canonical`)."""
        found = self.conn.execute(select(event_table).where(event_table.c.id == row[1])).first()
        if found is None:  # gone since the scan read it: cannot be, in one snapshot
            return True
        values = dict(found._mapping)
        return event_hash(values, prev_hash=values["prev_hash"] or "") != row[-1] or not (
            _canonical(row[10])
        )

    def access_edited(self, row: tuple[Any, ...]) -> bool:
        found = self.conn.execute(
            select(access_event_table).where(access_event_table.c.id == row[1])
        ).first()
        return (
            found is None or access_hash(dict(found._mapping)) != row[-1] or not _canonical(row[5])
        )

    # -- the database-wide chain ------------------------------------------------------------

    def entries(self, where: str, order: str, params: tuple[Any, ...]) -> Iterator[Any]:
        """Events and access events matching ``where``, merged by (position, id, kind)."""
        ts = _ts(self.dialect)
        events = self.rows(
            f"SELECT {_EVENT_COLUMNS.format(ts=ts)} FROM event WHERE {where} ORDER BY {order}",
            params,
        )
        access = self.rows(
            f"SELECT {_ACCESS_COLUMNS.format(ts=ts)} FROM access_event WHERE {where} "
            f"ORDER BY {order}",
            params,
        )
        # Once no access event is left, the events come straight from the driver's cursor.
        return itertools.chain(_merged(events, access), events)

    def chain(self, after: int, head: str) -> None:
        """Check every entry after position ``after`` (and every pending one), fold them
        onto ``head``, and compare the result with the stored head. On a full scan
        (``after`` 0) each dispute's chain is followed too (:meth:`follow_disputes`)."""
        report, add = self.report, self.add
        sha256 = hashlib.sha256
        expected = after + 1
        events = access = pending_count = 0
        full = self.since is None
        stored = self.dialect == "sqlite"  # timestamps as SQLite stores them (_ts)
        steps = self.steps if full else None
        last_step: dict[Any, tuple[int, Any]] = {} if steps is None else steps.last
        step_breaks = [] if steps is None else steps.breaks
        unordered: set[Any] = set() if steps is None else steps.unordered
        edges: set[tuple[Any, ...]] = set() if steps is None else steps.edges
        recorded = Recorded() if steps is None else steps.recorded
        parties, clocks, signatures = recorded.parties, recorded.clocks, recorded.signatures
        party_mark, party_skip, party_triggers = PARTIES_MARK, len(PARTIES_MARK), PARTY_TRIGGERS
        clock_mark, clock_skip = CLOCKS_MARK, len(CLOCKS_MARK)
        cases: dict[Any, tuple[Any, ...]] = {}
        if steps is not None:
            cases = steps.cases
            for row in self.rows("SELECT id, flow, state, version FROM proceeding"):
                cases[row[0]] = row[1:]
        no_case, first_link = (None,), (0, GENESIS)
        links: dict[int, tuple[int, str]] = {}  # dispute → (id, hash) of its last event
        numbers: dict[tuple[int, int], int] = {}  # (dispute, case) → its last event's number
        pending = self.entries("chain_seq IS NULL", "id", ())
        if full:  # every position, one below 1 included (the reference reads them all)
            positioned = self.entries("chain_seq IS NOT NULL", "chain_seq, id", ())
        else:
            positioned = self.entries("chain_seq > ?", "chain_seq, id", (after,))
        for row in itertools.chain(pending, positioned):
            hashed = row[-1]
            if len(row) == 14:
                events += 1
                (
                    _pos,
                    eid,
                    dispute,
                    case,
                    n,
                    trigger,
                    source,
                    dest,
                    actor,
                    _at,
                    payload,
                    _ip,
                    prev,
                    _hash,
                ) = row
                if steps is not None:  # each case's steps, in number order
                    edges.add((cases.get(case, no_case)[0], trigger, source, dest))
                    if type(n) is not int:
                        unordered.add(case)
                    elif (prior := last_step.get(case)) is None:
                        last_step[case] = (n, dest)
                    elif n > prior[0]:
                        if prior[1] is not None and source != prior[1]:
                            step_breaks.append((case, n, eid, source, prior[1]))
                        last_step[case] = (n, dest)
                    else:
                        unordered.add(case)
                    # what the record rows are checked against (record_rows._latest)
                    if type(payload) is str:
                        if (at := payload.find(clock_mark)) >= 0:
                            at += clock_skip
                            if (had := clocks.get(case)) is None or eid > had[0]:
                                clocks[case] = (eid, payload[at : payload.find('"', at)])
                        if trigger in party_triggers and (at := payload.find(party_mark)) >= 0:
                            at += party_skip
                            if (had := parties.get(dispute)) is None or eid > had[0]:
                                parties[dispute] = (eid, payload[at : payload.find('"', at)])
                    if trigger == "record_signature":
                        signatures.append((case, actor, payload))
                if hashed is None:
                    add("inserted", self._where(row), _(audit.NOT_IN_CHAIN))
                    continue
                try:
                    same = sha256(event_body(row, stored)).hexdigest()
                except (ValueError, TypeError):
                    same = None
                if same != hashed and self.event_edited(row):
                    add("edited", self._where(row), _(audit.EDITED))
                if full:
                    last_id, link = links.get(dispute, first_link)
                    key = (dispute, case)
                    before = numbers.get(key, 0)
                    if eid < last_id:  # chain order is not id order here: the database decides
                        self.disordered.add(dispute)
                    elif prev != link or n != before + 1:
                        self.breaks.append((dispute, eid, case, n, prev, link, before))
                    links[dispute] = (eid, hashed)
                    numbers[key] = n
            else:
                access += 1
                if hashed is None:
                    add("inserted", self._where(row), _(audit.NOT_IN_CHAIN))
                    continue
                try:
                    same = sha256(access_body(row, stored)).hexdigest()
                except (ValueError, TypeError):
                    same = None
                if same != hashed and self.access_edited(row):
                    add("edited", self._where(row), _(audit.EDITED))
            seq = row[0]
            if seq is None:
                pending_count += 1
                continue
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                add(
                    "deleted",
                    audit.positions(missing),
                    _(audit.MISSING_BEFORE).format(where=self._where(row)),
                )
            expected = seq + 1
            head = sha256(f"{head}{hashed}".encode()).hexdigest()
        report.entries += events + access
        report.events += events
        report.access_events += access
        report.pending += pending_count
        if full:
            report.disputes = len(links)
        if steps is not None:
            steps.done = True
        self.compare_head(expected - 1, head)

    def positioned(self, position: int) -> bool:
        """Whether an entry holds chain position ``position``."""
        found = self.conn.execute(
            text(
                "SELECT 1 FROM event WHERE chain_seq = :p "
                "UNION ALL SELECT 1 FROM access_event WHERE chain_seq = :p"
            ),
            {"p": position},
        ).first()
        return found is not None

    def _where(self, row: tuple[Any, ...]) -> str:
        if len(row) == 14:
            return self.event_where(row[1], row[3], row[4], row[2])
        return audit.access_where(row[1], row[2], row[3])

    def compare_head(self, seq: int, head: str) -> None:
        report = self.report
        report.head_seq, report.head_hash = seq, head
        stored = self.conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        since = self.since
        if since is not None and stored is not None and stored.seq < since:
            self.add(
                "deleted",
                audit.positions(f"{stored.seq + 1}-{since}"),
                f"全库链只有 {stored.seq} 条，比检查点（#{since}）时还短：记录被删除或链被改写",
            )
        elif since is not None and stored is not None and stored.seq == seq and stored.hash != head:
            self.add(
                "head",
                _(audit.HEAD_WHERE),
                f"链头不是从检查点（#{since}）的链头延续下来的：检查点及之前的记录或链头被改写",
            )
        elif stored is None:
            self.add("deleted", _(audit.HEAD_WHERE), _(audit.HEAD_MISSING))
        elif stored.seq > seq:
            self.add(
                "deleted",
                audit.positions(f"{seq + 1}-{stored.seq}"),
                _(audit.NEWEST_MISSING),
            )
        elif stored.seq < seq or stored.hash != head:
            self.add(
                "head",
                _(audit.HEAD_WHERE),
                _(audit.HEAD_MISMATCH),
            )

    # -- each dispute's chain ---------------------------------------------------------------

    def disputes(self, after: int | None) -> None:
        """Each event links to its dispute's previous event, and each case's event numbers
        run 1, 2, 3...: after a full scan, its findings, the disputes it met out of order
        asked of the database; after a checkpoint, the database looks up each new event's
        predecessor."""
        if after is None:
            breaks = [b for b in self.breaks if b[0] not in self.disordered]
            if self.disordered:
                marks = ", ".join(str(int(d)) for d in sorted(self.disordered))
                breaks += self.conn.execute(
                    text(
                        f"""
                        SELECT dispute_id, id, proceeding_id, seq, prev_hash, link, before
                        FROM (SELECT id, dispute_id, proceeding_id, seq, prev_hash,
                            coalesce(lag(hash) OVER (PARTITION BY dispute_id ORDER BY id),
                                     '{GENESIS}') AS link,
                            coalesce(lag(seq) OVER (PARTITION BY dispute_id, proceeding_id
                                                    ORDER BY id), 0) AS before
                            FROM event WHERE hash IS NOT NULL AND dispute_id IN ({marks})) w
                        WHERE prev_hash IS NULL OR prev_hash <> link OR seq <> before + 1"""
                    )
                ).all()
            self.report_breaks(sorted(breaks, key=lambda b: (b[0], b[1])))
            return
        params = {"after": after}
        self.report.disputes = self.conn.execute(
            text(
                "SELECT count(DISTINCT dispute_id) FROM event "
                "WHERE (chain_seq > :after OR chain_seq IS NULL) AND hash IS NOT NULL"
            ),
            params,
        ).scalar_one()
        query = f"""
            SELECT dispute_id, id, proceeding_id, seq, prev_hash, link, before FROM (
                SELECT e.id, e.dispute_id, e.proceeding_id, e.seq, e.prev_hash,
                    coalesce((SELECT x.hash FROM event x WHERE x.dispute_id = e.dispute_id
                              AND x.id < e.id AND x.hash IS NOT NULL
                              ORDER BY x.id DESC LIMIT 1), '{GENESIS}') AS link,
                    coalesce((SELECT x.seq FROM event x WHERE x.dispute_id = e.dispute_id
                              AND x.proceeding_id = e.proceeding_id AND x.id < e.id
                              AND x.hash IS NOT NULL ORDER BY x.id DESC LIMIT 1), 0)
                        AS before
                FROM event e WHERE (e.chain_seq > :after OR e.chain_seq IS NULL)
                    AND e.hash IS NOT NULL) w
            WHERE prev_hash IS NULL OR prev_hash <> link OR seq <> before + 1"""
        # Sorted here: ORDER BY would have SQLite walk the whole dispute index to sort.
        found = self.conn.execute(text(query), params).all()
        self.report_breaks(sorted(found, key=lambda b: (b[0], b[1])))

    def report_breaks(self, breaks: list[Any]) -> None:
        """(dispute, event id, case, number, prev_hash, expected link, previous number)."""
        for dispute, eid, proceeding, n, prev_hash, link, before in breaks:
            where = self.event_where(eid, proceeding, n, dispute)
            if prev_hash != link:
                self.add(
                    "deleted" if prev_hash != GENESIS else "inserted",
                    where,
                    _(audit.NOT_LINKED).format(link=link[:12]),
                )
            if n != before + 1:
                self.add(
                    "deleted" if n > before + 1 else "inserted",
                    where,
                    _(audit.NUMBERS_JUMP).format(before=before, n=n),
                )


def scan(
    conn: Connection,
    *,
    limit: int = 1000,
    after: tuple[int, str] | None = None,
    steps: CaseSteps | None = None,
) -> AuditReport:
    """Verify the chains (see the module's text): all of them, or with ``after=(position,
    head)`` the entries after a checkpoint. Same findings as :func:`audit.verify`. A full
    scan given ``steps`` also records each case's steps in it (see :class:`CaseSteps`)."""
    report = AuditReport()
    position, head = after or (0, GENESIS)
    check = _Scan(conn, report, limit, None if after is None else position, steps)
    if after is not None and position > 0 and not check.positioned(position):
        check.add(
            "deleted",
            audit.positions(str(position)),
            "检查点时链上的最后一条记录已不在库中",
        )
    check.chain(position, head)
    check.disputes(None if after is None else position)
    return report


def intact_events(conn: Connection, ids: list[int]) -> set[int]:
    """Which of the events ``ids`` still match their own hash."""
    check = _Scan(conn, AuditReport(), 0)
    ts = _ts(check.dialect)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT {_EVENT_COLUMNS.format(ts=ts)} FROM event WHERE id IN ({marks})"
        for row in check.rows(sql, tuple(chunk)):
            try:
                body = event_body(row, check.dialect == "sqlite")
                same = hashlib.sha256(body).hexdigest() == row[-1]
            except (ValueError, TypeError):
                same = False
            if row[-1] is not None and (same or not check.event_edited(row)):
                found.add(row[1])
    return found
