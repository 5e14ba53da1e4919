"""The record proves itself, row by row: parties, deadlines, signatures and organisations
equal what the audit chain says of them (issue 13, point 2; :mod:`.consistency` checks
cases, users, keys and sealed documents).

What each event carries, and so what each check compares:

- **Parties.** The event that registers a dispute (the ``open`` event of its first case)
  and each ``amend_party`` event carry ``parties_hmac``: a keyed digest
  (:func:`parties_digest`, HMAC-SHA256 under the installation's secret, so the
  exported, masked history cannot be used to guess an ID number) of every particular of
  every party of the dispute, as stored after the event. The dispute's latest such event
  must give the digest of its party rows, else 「当事人信息与审计链不符」.
- **Deadlines.** Every event that starts, stops, pauses, resumes, extends or recomputes a
  case's clocks carries ``clocks_sha256``, the digest of all the case's deadline rows
  after it (:func:`clocks_digest`: kind, start, due date, status, extensions, paused day).
  The case's latest such event must give the digest of its rows, else
  「期限与审计链不符」. Reminder bookkeeping and the provisional mark are not covered.
- **Signatures.** Each signature row (signer, kind, method, time signed, image, who
  recorded it) equals one ``record_signature`` event of its case, and each such event has
  its row, else 「签名记录与审计链不符」.
- **Organisations.** Each organisation's name, kind, level, parent, court code and
  retirement equal the replay of its ``org_add`` / ``org_edit`` / ``org_set_court_code``
  / ``org_retire`` access events, else 「组织信息与审计链不符」.

Old records: events written before these digests existed carry none, and the chain cannot
vouch for what they did not record. A dispute (a case) without any ``parties_hmac``
(``clocks_sha256``) event is not compared; an organisation registered without an
``org_add`` event (by a migration, by the set-up of the demo or of tests, or before
organisation events existed) is compared only on what its later events record (an
``org_edit``'s values after, a retirement); a court code set before ``org_add`` recorded
it is not compared until ``org set-court-code`` records one.

Each check reads its table once (and the events it needs once) and reports only the rows
that differ; with ``after`` (a checkpoint's position) only the cases with events after it.
These checks are the reference and what `audit verify --since` runs; a full `audit verify`
reaches the same findings from what its scan of the chain read (:mod:`.record_scan`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from mediation.domain.clock import BUSINESS_TZ
from mediation.storage._sql import Prepared
from mediation.storage._tables import (
    access_event_table,
    deadline_table,
    organisation_table,
    party_table,
    proceeding_table,
    signature_table,
)
from mediation.storage.audit import Problem
from mediation.storage.secret import installation_secret

#: The key of the digests in event payloads.
PARTIES_KEY = "parties_hmac"
CLOCKS_KEY = "clocks_sha256"

#: Every particular of a party the digest covers (all that intake and ``amend-party`` set).
PARTY_COLUMNS = (
    "ordinal",
    "role",
    "kind",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_type",
    "id_number",
    "phone",
    "address",
    "occupation",
    "legal_representative",
)
#: What the deadline digest covers.
CLOCK_COLUMNS = ("id", "kind", "starts_on", "due", "status", "extensions", "paused_on")

_PARTY_SELECT = [party_table.c.dispute_id, *(party_table.c[c] for c in PARTY_COLUMNS)]
_CLOCK_SELECT = [deadline_table.c.proceeding_id, *(deadline_table.c[c] for c in CLOCK_COLUMNS)]


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _canonical(rows: Iterable[Iterable[Any]]) -> bytes:
    return json.dumps(
        [[_plain(v) for v in row] for row in rows], ensure_ascii=False, separators=(",", ":")
    ).encode()


def parties_digest(secret: bytes, rows: Iterable[Iterable[Any]]) -> str:
    """The keyed digest of a dispute's parties, each a row of :data:`PARTY_COLUMNS` in the
    order of their ``ordinal``."""
    return hmac.new(secret, _canonical(rows), hashlib.sha256).hexdigest()


# The write path's reads, run straight through the driver (storage._sql): dates come back
# as the driver gives them (ISO text on SQLite), which _plain writes as it writes a date.
_DISPUTE_PARTIES = Prepared(
    select(*(party_table.c[c] for c in PARTY_COLUMNS))
    .where(party_table.c.dispute_id == bindparam("dispute_id"))
    .order_by(party_table.c.ordinal, party_table.c.id)
)
_CASE_CLOCKS = Prepared(
    select(*(deadline_table.c[c] for c in CLOCK_COLUMNS))
    .where(deadline_table.c.proceeding_id == bindparam("proceeding_id"))
    .order_by(deadline_table.c.id)
)


def dispute_parties_digest(conn: Connection, dispute_id: int) -> str:
    """:func:`parties_digest` of the dispute's parties as stored now (for the event that
    registers or amends them)."""
    rows = _DISPUTE_PARTIES(conn, {"dispute_id": dispute_id}).all()
    return parties_digest(installation_secret(conn), rows)


def _clocks(rows: Iterable[Iterable[Any]]) -> str:
    return hashlib.sha256(_canonical(rows)).hexdigest()


def clocks_digest(conn: Connection, proceeding_id: int) -> str:
    """The digest of the case's deadline rows as stored now (for the event that changed
    them)."""
    return _clocks(_CASE_CLOCKS(conn, {"proceeding_id": proceeding_id}).all())


# -- the checks ------------------------------------------------------------------------------


def _touched(after: int | None, column: str = "proceeding_id", by: str = "proceeding_id") -> str:
    """SQL restricting to the cases (``by`` dispute_id: the disputes) with events after a
    checkpoint's position."""
    if after is None:
        return "1 = 1"
    return (
        f"{column} IN (SELECT e.{by} FROM event e "
        f"WHERE e.chain_seq > {int(after)} OR e.chain_seq IS NULL)"
    )


def _trigger(conn: Connection, after: int | None) -> str:
    """The trigger column as a query restricted to the cases touched since a checkpoint
    names it: ``+trigger`` on SQLite, so that those few cases drive the query rather than
    the trigger's index (which would have it read every such event: every ``open``)."""
    return "+trigger" if after is not None and conn.dialect.name == "sqlite" else "trigger"


def _latest(
    conn: Connection, key: str, by: str, after: int | None, triggers: tuple[str, ...] = ()
) -> dict[int, str]:
    """``by`` (dispute_id or proceeding_id) → the value of ``key`` in the payload of its
    latest event carrying it (of ``triggers``, when given). The payload is decoded, as the
    hash covers it: a text giving the key twice, or written with other separators, is
    read as the program reads it (the last of two keys), whatever a search of the text
    would find first; such a text is also the chains' finding (``audit_scan._canonical``)."""
    scope = _touched(after, by, by)
    only = ""
    if triggers:
        only = f" AND {_trigger(conn, after)} IN ({', '.join(repr(t) for t in triggers)})"
    mark = f'"{key}"'
    rows = conn.execute(
        text(
            f"SELECT {by}, id, payload FROM event "
            f"WHERE payload LIKE :mark{only} AND {scope} ORDER BY {by}, id"
        ),
        {"mark": f"%{mark}%"},
    )
    found: dict[int, str] = {}
    for owner, _id, payload in rows:
        try:
            value = json.loads(payload).get(key)
        except (ValueError, TypeError, AttributeError, RecursionError):
            continue  # not a JSON object: the chains report the event
        if isinstance(value, str):
            found[owner] = value
    return found


def _case_numbers(conn: Connection, *, disputes: bool = False) -> dict[int, str]:
    """Each case's number (by proceeding id), or each dispute's first case's number."""
    p = proceeding_table
    owner = p.c.dispute_id if disputes else p.c.id
    numbers: dict[int, str] = {}
    for key, number in conn.execute(select(owner, p.c.case_number).order_by(p.c.id)):
        numbers.setdefault(key, number)
    return numbers


def check_parties(conn: Connection, *, after: int | None = None) -> Iterator[Problem]:
    """Each dispute's parties equal its registration plus its amendments."""
    expected = _latest(conn, PARTIES_KEY, "dispute_id", after, ("open", "amend_party"))
    if not expected:
        return
    secret = installation_secret(conn)
    rows: dict[int, list[Any]] = defaultdict(list)
    query = select(*_PARTY_SELECT).order_by(party_table.c.dispute_id, party_table.c.ordinal)
    if after is not None:
        query = query.where(party_table.c.dispute_id.in_(list(expected)))
    for row in conn.execute(query):
        if row[0] in expected:
            rows[row[0]].append(row[1:])
    wrong = [d for d, want in expected.items() if parties_digest(secret, rows.get(d, [])) != want]
    yield from _parties_problems(conn, wrong)


def _parties_problems(conn: Connection, wrong: list[Any]) -> Iterator[Problem]:
    if not wrong:
        return
    numbers = _case_numbers(conn, disputes=True)
    for dispute in sorted(wrong):
        yield Problem(
            "state",
            f"{numbers.get(dispute, '?')}（dispute {dispute}）",
            "当事人信息与审计链不符：当事人表被直接修改（与立案及更正当事人信息的记录不一致）",
        )


def check_deadlines(conn: Connection, *, after: int | None = None) -> Iterator[Problem]:
    """Each case's deadline rows equal what its latest clock-changing event recorded."""
    expected = _latest(conn, CLOCKS_KEY, "proceeding_id", after)
    if not expected:
        return
    rows: dict[int, list[Any]] = defaultdict(list)
    query = select(*_CLOCK_SELECT).order_by(deadline_table.c.proceeding_id, deadline_table.c.id)
    if after is not None:
        query = query.where(deadline_table.c.proceeding_id.in_(list(expected)))
    for row in conn.execute(query):
        if row[0] in expected:
            rows[row[0]].append(row[1:])
    wrong = [p for p, want in expected.items() if _clocks(rows.get(p, [])) != want]
    yield from _deadlines_problems(conn, wrong)


def _deadlines_problems(conn: Connection, wrong: list[Any]) -> Iterator[Problem]:
    if not wrong:
        return
    numbers = _case_numbers(conn)
    for pid in sorted(wrong):
        yield Problem(
            "state",
            f"{numbers.get(pid, '?')}（proceeding {pid}）",
            "期限与审计链不符：期限表被直接修改（与启动、中止、延长、重新计算期限的记录不一致）",
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).isoformat(timespec="seconds")


_SIGNATURE_COLUMNS = (
    "proceeding_id",
    "document_kind",
    "signer_kind",
    "signer_name",
    "method",
    "signed_at",
    "image",
    "recorded_by",
)

Counted = dict[Any, Counter[tuple[Any, ...]]]


def _signature_rows(found: Iterable[Iterable[Any]]) -> Counted:
    """Case → its signature rows, each as the events record them."""
    rows: Counted = defaultdict(Counter)
    for pid, kind, signer_kind, name, method, signed_at, image, by in found:
        digest = hashlib.sha256(image).hexdigest() if image is not None else None
        rows[pid][(kind, signer_kind, name, method, _iso(signed_at), digest, by)] += 1
    return rows


def signature_event_key(actor: Any, payload: str | None) -> tuple[Any, ...]:
    """What one ``record_signature`` event records, in the order a signature row is
    compared with it (document, signer kind, signer, method, moment, image digest, actor)."""
    p = json.loads(payload or "{}")
    return (
        p.get("document_kind"),
        p.get("signer_kind"),
        p.get("signer"),
        p.get("method"),
        p.get("signed_at"),
        p.get("image_sha256"),
        actor,
    )


def _signature_events(found: Iterable[Iterable[Any]]) -> Counted:
    """Case → what its ``record_signature`` events record, from (case, actor, payload)."""
    events: Counted = defaultdict(Counter)
    for pid, actor, payload in found:
        events[pid][signature_event_key(actor, payload)] += 1
    return events


def check_signatures(conn: Connection, *, after: int | None = None) -> Iterator[Problem]:
    """Each signature row equals a ``record_signature`` event of its case, one for one."""
    query = select(*(signature_table.c[c] for c in _SIGNATURE_COLUMNS))
    if after is not None:
        query = query.where(text(_touched(after, "signature.proceeding_id")))
    rows = _signature_rows(conn.execute(query))
    events = _signature_events(
        conn.execute(
            text(
                "SELECT proceeding_id, actor, payload FROM event "
                f"WHERE {_trigger(conn, after)} = 'record_signature' AND {_touched(after)}"
            )
        )
    )
    wrong = sorted(pid for pid in rows.keys() | events.keys() if rows[pid] != events[pid])
    yield from _signatures_problems(conn, wrong, rows, events)


def _signatures_problems(
    conn: Connection, wrong: list[Any], rows: Counted, events: Counted
) -> Iterator[Problem]:
    if not wrong:
        return
    numbers = _case_numbers(conn)
    for pid in wrong:
        extra, gone = rows[pid] - events[pid], events[pid] - rows[pid]
        what = "、".join(
            # In a fixed order: the rows and events come in whatever order the scan read.
            [f"{k[2]}（表中有、链中无）" for k in sorted(extra, key=str)]
            + [f"{k[2]}（链中有、表中无）" for k in sorted(gone, key=str)]
        )
        yield Problem(
            "state",
            f"{numbers.get(pid, '?')}（proceeding {pid}）",
            f"签名记录与审计链不符：{what}",
        )


#: Organisation fields the access events record, by their name in the events.
_ORG_FIELDS = ("name", "kind", "level", "parent", "court_code", "retired")


def _org_replay(conn: Connection) -> dict[str, dict[str, Any]]:
    """Organisation code → what its access events say of it (only what they say)."""
    a = access_event_table
    known: dict[str, dict[str, Any]] = {}
    events = conn.execute(
        select(a.c.action, a.c.subject, a.c.detail)
        .where(a.c.action.in_(("org_add", "org_edit", "org_retire", "org_set_court_code")))
        .order_by(a.c.id)
    )
    for action, code, detail in events:
        detail = detail or {}
        org = known.setdefault(code, {})
        if action == "org_add":
            org.clear()
            org.update({k: detail.get(k) for k in ("name", "kind", "level", "parent")})
            org["retired"] = False
            if "court_code" in detail:
                org["court_code"] = detail["court_code"]
        elif action == "org_edit":
            for field, change in (detail.get("changed") or {}).items():
                if field in _ORG_FIELDS and isinstance(change, dict):
                    org[field] = change.get("after")
        elif action == "org_set_court_code":
            org["court_code"] = detail.get("court_code")
        else:
            org["retired"] = True
    return known


def _retired(settings: Any) -> bool:
    """Whether an organisation's settings column says it was retired (the key
    :data:`mediation.engine.organisations.RETIRED_KEY`)."""
    if isinstance(settings, str):
        settings = json.loads(settings or "{}")
    return bool((settings or {}).get("retired_at"))


def check_organisations(conn: Connection) -> Iterator[Problem]:
    """Each organisation equals the replay of its access events (what they record)."""
    known = _org_replay(conn)
    o = organisation_table
    rows = conn.execute(
        select(o.c.id, o.c.code, o.c.name, o.c.kind, o.c.level, o.c.parent_id, o.c.court_code)
        .add_columns(o.c.periods)
        .order_by(o.c.id)
    ).all()
    codes = {r.id: r.code for r in rows}
    for row in rows:
        want = known.get(row.code)
        if not want:
            continue
        have = {
            "name": row.name,
            "kind": row.kind,
            "level": row.level,
            "parent": codes.get(row.parent_id),
            "court_code": row.court_code,
            "retired": _retired(row.periods),
        }
        wrong = [
            f"{k} 为 {have[k]!r}，按审计记录应为 {want[k]!r}" for k in want if have[k] != want[k]
        ]
        if wrong:
            yield Problem(
                "state",
                f"组织 {row.code}",
                "组织信息与审计链不符：" + "；".join(wrong),
            )
    present = {r.code for r in rows}
    for code in sorted(c for c, want in known.items() if "name" in want and c not in present):
        yield Problem(
            "state",
            f"组织 {code}",
            "组织信息与审计链不符：审计链中添加过此组织，但组织表中已没有它",
        )


def check_rows(conn: Connection, *, after: int | None = None) -> list[Problem]:
    """Every party, deadline, signature and organisation row that differs from the chain."""
    return [
        *check_parties(conn, after=after),
        *check_deadlines(conn, after=after),
        *check_signatures(conn, after=after),
        *check_organisations(conn),
    ]
