"""The record proves itself: the rows that matter must equal what the audit chain says.

The chains (:mod:`mediation.storage.audit`) prove that no event or access event was
edited, deleted or inserted out of order. These checks prove that the *state* kept beside
them was not changed behind their back (``UPDATE proceeding SET state=…``,
``UPDATE app_user SET roles=…``, ``DELETE FROM app_user``, a key or a sealed document
inserted directly), and that every event is a legal step of its flow:

- every event is an edge of its proceeding's flow, an entry into it (``open``, or the entry
  trigger of a hand-off into the flow), or a declared in-place action; each event starts
  where the previous one ended;
- a proceeding's state and version equal the replay of its events;
- each user's roles and organisation equal the replay of ``user_add`` / ``user_grant`` /
  ``user_revoke``, and no user exists without them;
- each signing key has its ``key_init`` / ``key_import`` event, each sealed document its
  ``sign_document`` event (:mod:`mediation.storage.vouching`);
- parties, deadlines, signatures and organisations equal what their events record
  (:mod:`mediation.storage.record_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from sqlalchemy import Connection, select, text

from mediation.storage._tables import (
    access_event_table,
    app_user_table,
    document_table,
    event_table,
    organisation_table,
    proceeding_table,
    signing_key_table,
)
from mediation.storage.audit import Problem
from mediation.storage.audit_scan import CaseSteps, intact_events
from mediation.storage.record_rows import check_rows
from mediation.storage.record_scan import check_recorded
from mediation.storage.vouching import key_event, sealing_event

#: Events that record an action on a case without moving it: signatures, the seal, the
#: agreement taking effect, reassignment, a party's corrected particulars, a deadline
#: recomputed when a year's calendar is loaded, a step corrected.
IN_PLACE = frozenset(
    {
        "agreement_effective",
        "record_signature",
        "sign_document",
        "reassign",
        "amend_party",
        "recompute_deadline",
        "correct",
    }
)


@cache
def _entries(flow_name: str) -> dict[str, frozenset[str]]:
    """Entry trigger → the states a proceeding of ``flow_name`` may start in by it."""
    from mediation.workflows import entries, get_flow

    return entries(get_flow(flow_name))


@cache
def _edges(flow_name: str) -> frozenset[tuple[str, str, str]]:
    """(trigger, from, to) of every transition of the flow."""
    from mediation.workflows import get_flow

    return frozenset(
        (t.trigger, source, t.dest or source)
        for t in get_flow(flow_name).transitions
        for source in t.source
    )


def _legal(flow: str, trigger: str, source: str | None, dest: str) -> bool:
    if source is None:
        return dest in _entries(flow).get(trigger, frozenset())
    if trigger in IN_PLACE:
        return source == dest
    return (trigger, source, dest) in _edges(flow)


def replay_events(conn: Connection) -> Iterator[Problem]:
    """Each event a legal step, continuous; each proceeding's state and version replayed
    (the reference: every event through Python; :func:`check_events` asks the database)."""
    cases = {
        r.id: r
        for r in conn.execute(
            select(
                proceeding_table.c.id,
                proceeding_table.c.case_number,
                proceeding_table.c.flow,
                proceeding_table.c.state,
                proceeding_table.c.version,
            )
        )
    }
    last: dict[int, Any] = {}
    rows = conn.execute(
        select(
            event_table.c.id,
            event_table.c.proceeding_id,
            event_table.c.seq,
            event_table.c.trigger,
            event_table.c.from_state,
            event_table.c.to_state,
        ).order_by(event_table.c.proceeding_id, event_table.c.seq)
    )
    for row in rows:
        case = cases.get(row.proceeding_id)
        if case is None:
            continue  # an event without its case is the chains' finding
        where = f"{case.case_number} 事件 #{row.seq}（event id {row.id}）"
        if not _legal(case.flow, row.trigger, row.from_state, row.to_state):
            yield Problem(
                "illegal",
                where,
                f"{row.trigger}: {row.from_state or '（立案）'} → {row.to_state} "
                f"不是流程 {case.flow} 的步骤",
            )
        before = last.get(row.proceeding_id)
        if before is not None and row.from_state != before.to_state:
            yield Problem(
                "illegal",
                where,
                f"从 {row.from_state} 开始，但上一事件结束于 {before.to_state}",
            )
        last[row.proceeding_id] = row
    for pid, case in cases.items():
        final = last.get(pid)
        where = f"{case.case_number}（proceeding {pid}）"
        if final is None:
            yield Problem("state", where, "案件没有任何事件")
            continue
        if case.state != final.to_state:
            yield Problem(
                "state",
                where,
                f"状态为 {case.state}，但按事件重放应为 {final.to_state}（案件表被直接修改）",
            )
        if case.version != final.seq:
            yield Problem(
                "state",
                where,
                f"版本为 {case.version}，但按事件重放应为 {final.seq}（案件表被直接修改）",
            )


def check_users(conn: Connection) -> Iterator[Problem]:
    """Each user's roles and organisation equal the replay of their access events."""
    expected: dict[str, dict[str, Any]] = {}
    events = conn.execute(
        select(
            access_event_table.c.action, access_event_table.c.subject, access_event_table.c.detail
        )
        .where(access_event_table.c.action.in_(("user_add", "user_grant", "user_revoke")))
        .order_by(access_event_table.c.id)
    )
    for action, login, detail in events:
        detail = detail or {}
        if action == "user_add":
            expected[login] = {
                "roles": sorted(detail.get("roles") or []),
                "organisation": detail.get("organisation"),
            }
            continue
        user = expected.setdefault(login, {"roles": [], "organisation": None})
        user["roles"] = sorted(detail.get("now") or [])
        if detail.get("organisation") is not None:
            user["organisation"] = detail["organisation"]
    rows = conn.execute(
        select(
            app_user_table.c.login,
            app_user_table.c.roles,
            organisation_table.c.code,
        ).outerjoin(organisation_table, organisation_table.c.id == app_user_table.c.organisation_id)
    ).all()
    present = {r.login for r in rows}
    for row in rows:
        where = f"用户 {row.login!r}"
        want = expected.get(row.login)
        if want is None:
            yield Problem("state", where, "用户表中有此用户，但审计链中没有添加它的记录")
            continue
        if sorted(row.roles or []) != want["roles"]:
            yield Problem(
                "state",
                where,
                f"角色为 {sorted(row.roles or [])}，但按审计记录应为 {want['roles']}",
            )
        if row.code != want["organisation"]:
            yield Problem(
                "state",
                where,
                f"组织为 {row.code}，但按审计记录应为 {want['organisation']}",
            )
    for login in sorted(expected.keys() - present):
        yield Problem("state", f"用户 {login!r}", "审计链中添加过此用户，但用户表中已没有它")


def _keys_without_events(conn: Connection) -> Iterator[Problem]:
    """Each signing key in the table without the event that created or imported it."""
    keys = conn.execute(
        select(signing_key_table.c.fingerprint, organisation_table.c.code).join(
            organisation_table, organisation_table.c.id == signing_key_table.c.organisation_id
        )
    ).all()
    for fingerprint, org in keys:
        if key_event(conn, fingerprint, org) is None:
            yield Problem(
                "state",
                f"签章密钥 {fingerprint[:16]}…（{org}）",
                "密钥表中有此证书，但审计链中没有创建或导入它的记录",
            )


def keys_and_documents_one_by_one(conn: Connection) -> Iterator[Problem]:
    """Each signing key and each sealed document has the event that made it (the
    reference: a query per row; :func:`check_keys_and_documents` asks once)."""
    yield from _keys_without_events(conn)
    docs = conn.execute(
        select(
            document_table.c.id,
            document_table.c.proceeding_id,
            document_table.c.title,
            document_table.c.sha256,
            proceeding_table.c.case_number,
        )
        .join(proceeding_table, proceeding_table.c.id == document_table.c.proceeding_id)
        .where(document_table.c.status == "signed")
    ).all()
    for doc in docs:
        if sealing_event(conn, doc.proceeding_id, doc.sha256) is None:
            yield Problem(
                "state",
                f"{doc.case_number} {doc.title}（document id {doc.id}）",
                "登记为已签章，但审计链中没有对应的签章记录",
            )


def check_reference(conn: Connection) -> list[Problem]:
    """What :func:`check` finds, the straightforward way (kept to test it against, and for
    ``bench/audit_verify.py``)."""
    return [
        *replay_events(conn),
        *check_users(conn),
        *keys_and_documents_one_by_one(conn),
        *check_rows(conn),
    ]


# -- asked of the database: what `audit verify` runs ------------------------------------------


def _new(after: int | None, e: str = "e") -> str:
    """Events after a checkpoint's position, pending ones included (every event without
    one)."""
    return "1 = 1" if after is None else f"({e}.chain_seq > :after OR {e}.chain_seq IS NULL)"


def _where(number: str, seq: int, eid: int) -> str:
    return f"{number} 事件 #{seq}（event id {eid}）"


def check_events(
    conn: Connection, *, after: int | None = None, steps: CaseSteps | None = None
) -> Iterator[Problem]:
    """What :func:`replay_events` finds, asked of the database: only the offending rows
    come back. With ``after`` (a checkpoint's position) only the events after it, and the
    cases they belong to, are looked at. Given the ``steps`` a full scan recorded, each
    case's order and state come from them instead of a query over all events."""
    new = _new(after)
    params = {"after": after}
    scanned = after is None and steps is not None and steps.done
    if scanned:
        assert steps is not None
        edges: Iterable[Any] = sorted(
            (e for e in steps.edges if e[0] is not None), key=lambda e: tuple(map(str, e))
        )
    else:
        edges = conn.execute(
            text(
                f"SELECT DISTINCT p.flow, e.trigger, e.from_state, e.to_state FROM event e "
                f"JOIN proceeding p ON p.id = e.proceeding_id WHERE {new}"
            ),
            params,
        ).all()
    for flow, trigger, source, dest in edges:
        if _legal(flow, trigger, source, dest):
            continue
        rows = conn.execute(
            select(event_table.c.id, event_table.c.seq, proceeding_table.c.case_number)
            .join(proceeding_table, proceeding_table.c.id == event_table.c.proceeding_id)
            .where(
                proceeding_table.c.flow == flow,
                event_table.c.trigger == trigger,
                event_table.c.from_state.is_(None)
                if source is None
                else event_table.c.from_state == source,
                event_table.c.to_state == dest,
                text(new) if after is None else text(new).bindparams(after=after),
            )
            .order_by(event_table.c.proceeding_id, event_table.c.seq)
        )
        for eid, seq, number in rows:
            yield Problem(
                "illegal",
                _where(number, seq, eid),
                f"{trigger}: {source or '（立案）'} → {dest} 不是流程 {flow} 的步骤",
            )
    if scanned:
        assert steps is not None
        yield from _scanned_steps(conn, steps)
        return
    if after is None:
        breaks = """
            SELECT w.proceeding_id, w.seq, w.id, w.from_state, w.before, p.case_number FROM (
                SELECT id, proceeding_id, seq, from_state,
                    lag(to_state) OVER (PARTITION BY proceeding_id ORDER BY seq) AS before
                FROM event) w
            JOIN proceeding p ON p.id = w.proceeding_id
            WHERE w.before IS NOT NULL AND (w.from_state IS NULL OR w.from_state <> w.before)"""
    else:
        breaks = f"""
            SELECT w.proceeding_id, w.seq, w.id, w.from_state, w.before, p.case_number FROM (
                SELECT e.id, e.proceeding_id, e.seq, e.from_state,
                    (SELECT x.to_state FROM event x WHERE x.proceeding_id = e.proceeding_id
                     AND x.seq < e.seq ORDER BY x.seq DESC LIMIT 1) AS before
                FROM event e WHERE {new}) w
            JOIN proceeding p ON p.id = w.proceeding_id
            WHERE w.before IS NOT NULL AND (w.from_state IS NULL OR w.from_state <> w.before)"""
    found = conn.execute(text(breaks), params).all()
    yield from _step_breaks(found)
    touched = (
        "" if after is None else f"AND p.id IN (SELECT e.proceeding_id FROM event e WHERE {new})"
    )
    yield from _state_problems(conn.execute(text(_STATES.format(scope=touched)), params))


_STATES = """
    SELECT p.id, p.case_number, p.state, p.version, e.to_state, e.seq FROM proceeding p
    LEFT JOIN event e ON e.proceeding_id = p.id
        AND e.seq = (SELECT max(x.seq) FROM event x WHERE x.proceeding_id = p.id)
    WHERE (e.id IS NULL OR e.to_state <> p.state OR e.seq <> p.version) {scope}
    ORDER BY p.id"""


def _step_breaks(found: Iterable[Any]) -> Iterator[Problem]:
    """(case, number, event id, from_state, previous to_state, case number) → problems."""
    # Sorted here: ORDER BY would have SQLite walk a whole index to sort a few rows.
    for _pid, seq, eid, source, before, number in sorted(found, key=lambda r: (r[0], r[1])):
        yield Problem(
            "illegal", _where(number, seq, eid), f"从 {source} 开始，但上一事件结束于 {before}"
        )


def _state_problems(rows: Iterable[Any]) -> Iterator[Problem]:
    """(case, case number, state, version, replayed state, replayed version) → problems."""
    for pid, number, state, version, final_state, final_seq in rows:
        where = f"{number}（proceeding {pid}）"
        if final_seq is None:
            yield Problem("state", where, "案件没有任何事件")
            continue
        if state != final_state:
            yield Problem(
                "state",
                where,
                f"状态为 {state}，但按事件重放应为 {final_state}（案件表被直接修改）",
            )
        if version != final_seq:
            yield Problem(
                "state",
                where,
                f"版本为 {version}，但按事件重放应为 {final_seq}（案件表被直接修改）",
            )


def _numbers(conn: Connection, ids: Iterable[Any]) -> dict[Any, str]:
    """Case numbers of the proceedings ``ids`` (those that exist)."""
    wanted = sorted({i for i in ids if type(i) is int})
    found: dict[Any, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = ", ".join(str(i) for i in wanted[start : start + 500])
        found.update(
            conn.execute(
                text(f"SELECT id, case_number FROM proceeding WHERE id IN ({chunk})")
            ).all()
        )
    return found


def _scanned_steps(conn: Connection, steps: CaseSteps) -> Iterator[Problem]:
    """Each case's steps in order and its state replayed, from what the full scan saw
    (:class:`~mediation.storage.audit_scan.CaseSteps`); the cases it met out of order are
    asked of the database, the queries above restricted to them."""
    unordered = steps.unordered
    odd = ", ".join(str(int(i)) for i in sorted(i for i in unordered if type(i) is int))
    breaks = [b for b in steps.breaks if b[0] not in unordered]
    numbers = _numbers(conn, (b[0] for b in breaks))
    found = [(*b, numbers[b[0]]) for b in breaks if b[0] in numbers]
    if odd:
        found += conn.execute(
            text(
                f"""
                SELECT w.proceeding_id, w.seq, w.id, w.from_state, w.before, p.case_number
                FROM (SELECT id, proceeding_id, seq, from_state,
                        lag(to_state) OVER (PARTITION BY proceeding_id ORDER BY seq) AS before
                    FROM event WHERE proceeding_id IN ({odd})) w
                JOIN proceeding p ON p.id = w.proceeding_id
                WHERE w.before IS NOT NULL
                    AND (w.from_state IS NULL OR w.from_state <> w.before)"""
            )
        ).all()
    yield from _step_breaks(found)
    last = steps.last
    differ: list[tuple[Any, ...]] = []
    for pid, (_flow, state, version) in steps.cases.items():  # sorted below
        if pid in unordered:
            continue
        final = last.get(pid)
        if final is None:
            differ.append((pid, state, version, None, None))
        elif final[1] != state or final[0] != version:
            differ.append((pid, state, version, final[1], final[0]))
    numbers = _numbers(conn, (d[0] for d in differ))
    rows = [(pid, numbers.get(pid), *rest) for pid, *rest in differ]
    if odd:
        rows += conn.execute(text(_STATES.format(scope=f"AND p.id IN ({odd})"))).all()
    yield from _state_problems(sorted(rows, key=lambda r: r[0]))


def check_keys_and_documents(
    conn: Connection, *, after: int | None = None, documents_after: int | None = None
) -> Iterator[Problem]:
    """Each signing key and each sealed document has the event that made it, its hash
    intact; sealed documents matched with their cases' ``sign_document`` events in one
    query. With ``after``, only the documents of cases with events after that position
    and those with an id above ``documents_after``."""
    yield from _keys_without_events(conn)
    scope = ""
    if after is not None:
        scope = (
            f"AND (d.id > :documents_after OR d.proceeding_id IN "
            f"(SELECT e.proceeding_id FROM event e WHERE {_new(after)}))"
        )
    rows = conn.execute(
        text(
            f"""
            SELECT d.id, d.title, d.sha256, p.case_number, e.id, e.payload FROM document d
            JOIN proceeding p ON p.id = d.proceeding_id
            LEFT JOIN event e ON e.proceeding_id = d.proceeding_id
                AND e.trigger = 'sign_document'
            WHERE d.status = 'signed' {scope}
            ORDER BY d.id"""
        ),
        {"after": after, "documents_after": documents_after or 0},
    ).all()
    sealed: dict[int, tuple[str, str, list[int]]] = {}
    for did, title, sha256, number, eid, payload in rows:
        _, _, candidates = sealed.setdefault(did, (title, number, []))
        if eid is not None and _payload_sha256(payload) == sha256:
            candidates.append(eid)
    intact = intact_events(conn, sorted({e for *_, ids in sealed.values() for e in ids}))
    for did, (title, number, candidates) in sealed.items():
        if not intact.intersection(candidates):
            yield Problem(
                "state",
                f"{number} {title}（document id {did}）",
                "登记为已签章，但审计链中没有对应的签章记录",
            )


def _payload_sha256(payload: str | None) -> Any:
    try:
        return (json.loads(payload or "{}") or {}).get("sha256")
    except (ValueError, AttributeError):
        return None


def check(
    conn: Connection,
    *,
    after: int | None = None,
    documents_after: int | None = None,
    steps: CaseSteps | None = None,
) -> list[Problem]:
    """Every difference between the state rows and what the chain records; with ``after``
    (a checkpoint's position), what changed since: the events after it and their cases,
    the documents added since, and the users and keys (few, so all of them). Given the
    ``steps`` a full scan recorded, the record rows are checked against the events it read
    (:mod:`mediation.storage.record_scan`)."""
    scanned = steps.recorded if after is None and steps is not None and steps.done else None
    return [
        *check_events(conn, after=after, steps=steps),
        *check_users(conn),
        *check_keys_and_documents(conn, after=after, documents_after=documents_after),
        *(check_rows(conn, after=after) if scanned is None else check_recorded(conn, scanned)),
    ]
