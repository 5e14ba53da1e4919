"""The record rows checked against what a full scan of the chain read: what `audit verify`
runs (:func:`mediation.storage.record_rows.check_rows` is the reference, and runs after a
checkpoint).

Same findings as the reference, for a fraction of the work:

- **The events are not read again.** :func:`mediation.storage.audit_scan.scan` reads every
  event to hash it; given a :class:`Recorded`, it keeps on the way what the checks need of
  them (each dispute's and each case's latest digest, found in the payload's text as
  :func:`record_rows._latest` finds it, and each ``record_signature`` event's payload).
- **Each table read once on the driver's cursor** (:mod:`._cursor`): plain tuples, no
  SQLAlchemy row or type processing; each dispute's (case's) rows hashed from the values as
  stored. A date is stored as the text its ISO form is (SQLite) or read as a date
  (PostgreSQL, made ISO as the reference does), so the digest is the reference's for every
  row mediation wrote. Only a dispute (case) whose digest differs is read again the
  reference way and reported if it differs still: a value stored in another form (a date
  as ``20260101``) costs a second read, never a false alarm; nor can an edit hide, since
  equal digests mean the rows' JSON is the hashed JSON, the values the ones hashed.
- **Signatures** compared as the reference compares them, each row's time decoded as
  :class:`~mediation.storage._types.Timestamp` decodes it; the cases that differ, or
  whose rows cannot be read so, compared again the reference way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, select

from mediation.domain.clock import UTC
from mediation.storage import record_rows as reference
from mediation.storage._cursor import driver_rows
from mediation.storage._tables import deadline_table, party_table, signature_table
from mediation.storage.audit import Problem
from mediation.storage.record_rows import (
    CLOCK_COLUMNS,
    PARTY_COLUMNS,
    check_organisations,
    installation_secret,
)

#: How the digest keys start in a payload's canonical text, and the triggers whose events
#: record the parties (as :func:`record_rows.check_parties` reads them).
PARTIES_MARK = f'"{reference.PARTIES_KEY}":"'
CLOCKS_MARK = f'"{reference.CLOCKS_KEY}":"'
PARTY_TRIGGERS = frozenset({"open", "amend_party"})


@dataclass
class Recorded:
    """What a full scan read of the events the record rows are checked against.

    ``parties``: dispute → (event id, ``parties_hmac``) of its latest ``open`` or
    ``amend_party`` event carrying one; ``clocks``: case → (event id, ``clocks_sha256``) of
    its latest event carrying one; ``signatures``: (case, actor, payload) of each
    ``record_signature`` event."""

    parties: dict[Any, tuple[int, str]] = field(default_factory=dict)
    clocks: dict[Any, tuple[int, str]] = field(default_factory=dict)
    signatures: list[tuple[Any, Any, Any]] = field(default_factory=list)


def _iso_date(value: Any) -> str:
    """A date read from PostgreSQL as the reference writes it in the digests' JSON."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a digest")


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_iso_date).encode

_CHUNK = 500


def _chunks(owners: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(owners), _CHUNK):
        yield owners[start : start + _CHUNK]


def _stored_json(
    conn: Connection, table: str, owner: str, columns: tuple[str, ...], order: str
) -> Iterator[tuple[Any, bytes | None]]:
    """Each owner's rows as the JSON a digest covers (UTF-8), made of the values as stored
    (None when one has no JSON form): on SQLite by its JSON functions, each owner's rows in
    the order of its index on ``owner`` (their ids, as ``order`` puts them: no two rows of
    an owner share ``order``), elsewhere by Python's encoder, ordered by ``order``."""
    listed = ", ".join(columns)
    if conn.dialect.name == "sqlite":
        sql = (
            f"SELECT {owner}, CAST(json_group_array(json_array({listed})) AS BLOB) "
            f"FROM {table} GROUP BY {owner}"
        )
        try:
            found = list(driver_rows(conn, sql))
        except conn.dialect.loaded_dbapi.Error:  # a value without a JSON form (a blob)
            pass
        else:
            yield from found
            return
    rows = driver_rows(conn, f"SELECT {owner}, {listed} FROM {table} ORDER BY {owner}, {order}")
    for key, group in groupby(rows, itemgetter(0)):
        try:
            yield key, _encode([row[1:] for row in group]).encode()
        except (TypeError, ValueError):
            yield key, None


def _differing(
    found: Iterable[tuple[Any, bytes | None]],
    digest: Callable[[bytes], str],
    expected: dict[Any, str],
) -> list[Any]:
    """The owners in ``expected`` whose rows' JSON (``found``) has another digest."""
    seen: set[Any] = set()
    differ: set[Any] = set()
    for owner, body in found:
        want = expected.get(owner)
        if want is None:
            continue
        if owner in seen or body is None or digest(body) != want:
            differ.add(owner)  # the reference decides
        seen.add(owner)
    empty = digest(b"[]")
    differ.update(o for o, want in expected.items() if o not in seen and want != empty)
    return list(differ)


def _typed(conn: Connection, columns: list[Any], owner: Any, order: Any, owners: list[Any]) -> Any:
    """The reference's rows of ``owners``, owner first, through the column types."""
    for chunk in _chunks(owners):
        yield from conn.execute(select(*columns).where(owner.in_(chunk)).order_by(owner, order))


def parties_differing(conn: Connection, expected: dict[Any, str], secret: bytes) -> list[Any]:
    """The disputes whose party rows, as stored, give another digest than ``expected``."""
    keyed = hmac.new(secret, digestmod=hashlib.sha256).copy  # the key set up once

    def digest(body: bytes) -> str:
        mac = keyed()
        mac.update(body)
        return mac.hexdigest()

    return _differing(
        _stored_json(conn, "party", "dispute_id", PARTY_COLUMNS, "ordinal"), digest, expected
    )


def clocks_differing(conn: Connection, expected: dict[Any, str]) -> list[Any]:
    """The cases whose deadline rows, as stored, give another digest than ``expected``."""
    return _differing(
        _stored_json(conn, "deadline", "proceeding_id", CLOCK_COLUMNS, "id"),
        lambda body: hashlib.sha256(body).hexdigest(),
        expected,
    )


def _parties(conn: Connection, recorded: Recorded) -> Iterator[Problem]:
    expected = {d: digest for d, (_id, digest) in recorded.parties.items()}
    if not expected:
        return
    secret = installation_secret(conn)
    differ = parties_differing(conn, expected, secret)
    if not differ:
        return
    p = party_table
    rows: dict[Any, list[Any]] = {d: [] for d in differ}
    for row in _typed(conn, reference._PARTY_SELECT, p.c.dispute_id, p.c.ordinal, differ):
        rows[row[0]].append(row[1:])
    wrong = [d for d in differ if reference.parties_digest(secret, rows[d]) != expected[d]]
    yield from reference._parties_problems(conn, wrong)


def _deadlines(conn: Connection, recorded: Recorded) -> Iterator[Problem]:
    expected = {pid: digest for pid, (_id, digest) in recorded.clocks.items()}
    if not expected:
        return
    differ = clocks_differing(conn, expected)
    if not differ:
        return
    d = deadline_table
    rows: dict[Any, list[Any]] = {pid: [] for pid in differ}
    for row in _typed(conn, reference._CLOCK_SELECT, d.c.proceeding_id, d.c.id, differ):
        rows[row[0]].append(row[1:])
    wrong = [pid for pid in differ if reference._clocks(rows[pid]) != expected[pid]]
    yield from reference._deadlines_problems(conn, wrong)


def _moment(value: Any) -> datetime:
    """A stored time as :class:`~mediation.storage._types.Timestamp` reads it (SQLite keeps
    the text that ``datetime.fromisoformat`` reads back, UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"{type(value).__name__} for a time")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _signatures(conn: Connection, recorded: Recorded) -> Iterator[Problem]:
    # Each case's keys listed as met; only where the lists differ are they counted (the
    # reference's multisets), so equal lists in another order are equal still.
    events: dict[Any, list[tuple[Any, ...]]] = {}
    for pid, actor, payload in recorded.signatures:
        key = reference.signature_event_key(actor, payload)
        if (listed := events.get(pid)) is None:
            events[pid] = [key]
        else:
            listed.append(key)
    rows: dict[Any, list[tuple[Any, ...]]] = {}
    doubt: set[Any] = set()
    iso, sha256 = reference._iso, hashlib.sha256
    found = driver_rows(conn, f"SELECT {', '.join(reference._SIGNATURE_COLUMNS)} FROM signature")
    for pid, kind, signer_kind, name, method, signed_at, image, by in found:
        try:
            moment = iso(_moment(signed_at))
            digest = sha256(image).hexdigest() if image is not None else None
        except (TypeError, ValueError):
            doubt.add(pid)
            continue
        key = (kind, signer_kind, name, method, moment, digest, by)
        if (listed := rows.get(pid)) is None:
            rows[pid] = [key]
        else:
            listed.append(key)
    differ = doubt | {
        pid
        for pid in rows.keys() | events.keys()
        if (have := rows.get(pid, [])) != (want := events.get(pid, []))
        and Counter(have) != Counter(want)
    }
    if not differ:
        return
    s = signature_table
    columns = [s.c[c] for c in reference._SIGNATURE_COLUMNS]
    typed = reference._signature_rows(
        _typed(conn, columns, s.c.proceeding_id, s.c.id, list(differ))
    )
    recorded_events = reference._signature_events(
        signed for signed in recorded.signatures if signed[0] in differ
    )
    wrong = sorted(pid for pid in differ if typed[pid] != recorded_events[pid])
    yield from reference._signatures_problems(conn, wrong, typed, recorded_events)


def check_recorded(conn: Connection, recorded: Recorded) -> list[Problem]:
    """What :func:`record_rows.check_rows` finds, given what a full scan read."""
    return [
        *_parties(conn, recorded),
        *_deadlines(conn, recorded),
        *_signatures(conn, recorded),
        *check_organisations(conn),
    ]
