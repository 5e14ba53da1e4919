"""Finding cases: ``case list``'s filters, checked and resolved, and one page of cases.

A filter is given as the system shows it (a code or its Chinese label: ``mediating`` or
``调查调解中``, an organisation's code or name); a value that names nothing is invalid input
with the likely one meant (:class:`ValidationError`, exit 3), never an empty list: a typo
must not read as "no such cases". Parties are found by name (a part of it), phone or ID
number (exact, by index: ``ix_party_phone``, ``ix_party_id_number``); what is shown of
them is masked (:func:`mediation.engine.queries.party_view`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, and_, exists, func, or_, select

from mediation.domain import taxonomy
from mediation.domain.clock import BUSINESS_TZ
from mediation.engine.clocks import overdue_conditions
from mediation.errors import FieldProblem, ValidationError
from mediation.storage._tables import (
    app_user_table,
    deadline_table,
    dispute_table,
    organisation_table,
    party_table,
    proceeding_table,
)
from mediation.storage._types import dumps
from mediation.storage.store import Store

P, D = proceeding_table, dispute_table

#: ``--status``: open, closed or all cases.
STATUSES = {"open": "未结束", "closed": "已结束", "all": "全部"}


@dataclass(frozen=True)
class CaseQuery:
    """What ``case list`` looks for; every filter is optional."""

    flow: str | None = None
    state: str | None = None
    org: str | None = None
    level: str | None = None
    mediator: str | None = None
    dispute_type: str | None = None
    #: A part of a party's name.
    party: str | None = None
    #: A party's phone or ID number, exactly.
    phone: str | None = None
    id_number: str | None = None
    #: A part of the dispute's title.
    text: str | None = None
    #: The day the application was received, from and to (both included).
    received_from: date | None = None
    received_to: date | None = None
    #: Only cases with a duty deadline past its due date.
    overdue: bool = False
    #: Only cases assigned to the acting user (by login).
    mine: bool = False
    status: str = "all"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class CasePage:
    """One page of the cases found, latest filed first, and how many there are."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def _like(text: str) -> str:
    """``text`` as a LIKE pattern's middle: ``%`` and ``_`` taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def assigned_to(login: str) -> ColumnElement[bool]:
    """The case's mediator is ``login``, or ``login`` is among its mediators."""
    # mediators is JSON text: match the login as a whole JSON string
    token = _like(dumps(login))
    return or_(P.c.mediator == login, P.c.mediators.cast(String).like(f"%{token}%", escape="\\"))


def _unknown(
    option: str, value: str, options: list[str], problems: list[FieldProblem], known: str
) -> None:
    near = taxonomy.closest(value, options)
    fix = f"是否应为 {near!r}？" if near else f"可选：{known}"
    problems.append(FieldProblem(option, f"没有 {value!r}", fix))


def _code(option: str, value: str, table: Any, problems: list[FieldProblem]) -> str | None:
    code = taxonomy.code_of(table, value)
    if code is None:
        _unknown(option, value, [*table, *table.values()], problems, taxonomy.choices(table))
    return code


def _flows() -> dict[str, Any]:
    from mediation.workflows import FLOW_MODULES, get_flow

    return {name: get_flow(name) for name in FLOW_MODULES}


def resolve_query(conn: Connection, q: CaseQuery) -> dict[str, Any]:
    """The query's filters as the database stores them (codes, ids, state names).

    :raises ValidationError: (exit 3) naming each filter that names nothing, with the
        likely one meant.
    """
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}
    flows = _flows() if (q.flow or q.state) else {}
    if q.flow:
        text = q.flow.strip()
        name = next((n for n, f in flows.items() if text in (n, f.label)), None)
        if name is None:
            labels = [f.label for f in flows.values()]
            known = "、".join(f"{n}（{f.label}）" for n, f in flows.items())
            _unknown("--flow", text, [*flows, *labels], problems, known)
        out["flow"] = name
    if q.state:
        text = q.state.strip()
        among = [flows[out["flow"]]] if out.get("flow") else list(flows.values())
        names = {s.name for f in among for s in f.states if text in (s.name, s.label)}
        if not names:
            options = sorted({x for f in among for s in f.states for x in (s.name, s.label)})
            _unknown("--state", text, options, problems, "见 `mediation workflow show FLOW`")
        out["states"] = sorted(names)
    if q.org:
        text = q.org.strip()
        orgs = conn.execute(
            select(organisation_table.c.id, organisation_table.c.code, organisation_table.c.name)
        ).all()
        found = next((o.id for o in orgs if text in (o.code, o.name)), None)
        if found is None:
            options = [x for o in orgs for x in (o.code, o.name)]
            _unknown("--org", text, options, problems, "见 `mediation org list`")
        out["org_id"] = found
    if q.level:
        out["level"] = _code("--level", q.level, taxonomy.LEVELS, problems)
    if q.dispute_type:
        out["dispute_type"] = _code("--type", q.dispute_type, taxonomy.DISPUTE_TYPES, problems)
    if q.status not in STATUSES:
        _unknown("--status", q.status, list(STATUSES), problems, taxonomy.choices(STATUSES))
    if q.mediator:
        text = q.mediator.strip()
        if not _mediator_known(conn, text):
            _unknown("--mediator", text, _mediators(conn), problems, "见 `mediation user list`")
        out["mediator"] = text
    if q.received_from and q.received_to and q.received_from > q.received_to:
        problems.append(
            FieldProblem(
                "--from", f"起始日期 {q.received_from} 晚于截止日期 {q.received_to}", "请对调"
            )
        )
    if problems:
        raise ValidationError(problems, source="case list")
    return out


def _mediator_known(conn: Connection, name: str) -> bool:
    """Whether ``name`` is a user's login or name, or a mediator of some case."""
    user = select(app_user_table.c.id).where(
        or_(app_user_table.c.login == name, app_user_table.c.name == name)
    )
    if conn.execute(user.limit(1)).first() is not None:
        return True
    return conn.execute(select(P.c.id).where(assigned_to(name)).limit(1)).first() is not None


def _mediators(conn: Connection) -> list[str]:
    """Users' logins and names and the cases' lead mediators (for a did-you-mean only)."""
    users = conn.execute(select(app_user_table.c.login, app_user_table.c.name)).all()
    leads = conn.execute(
        select(P.c.mediator).where(P.c.mediator.is_not(None)).distinct().limit(2000)
    )
    return sorted({*(x for u in users for x in u), *leads.scalars()})


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), BUSINESS_TZ)


def _conditions(
    q: CaseQuery, f: dict[str, Any], *, login: str, today: date
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.get("flow"):
        conds.append(P.c.flow == f["flow"])
    if f.get("states"):
        conds.append(P.c.state.in_(f["states"]))
    if f.get("org_id") is not None:
        conds.append(P.c.organisation_id == f["org_id"])
    if f.get("level"):
        conds.append(P.c.level == f["level"])
    if f.get("mediator"):
        conds.append(assigned_to(f["mediator"]))
    if f.get("dispute_type"):
        conds.append(D.c.dispute_type == f["dispute_type"])
    if q.status == "open":
        conds.append(P.c.closed_at.is_(None))
    elif q.status == "closed":
        conds.append(P.c.closed_at.is_not(None))
    if q.text and q.text.strip():
        conds.append(D.c.title.like(f"%{_like(q.text.strip())}%", escape="\\"))
    if q.received_from:
        conds.append(D.c.received_at >= _start_of(q.received_from))
    if q.received_to:
        conds.append(D.c.received_at < _start_of(q.received_to + timedelta(days=1)))
    party = _party_conditions(q)
    if party:
        conds.append(P.c.dispute_id.in_(select(party_table.c.dispute_id).where(and_(*party))))
    if q.overdue:
        conds.append(
            exists().where(deadline_table.c.proceeding_id == P.c.id, *overdue_conditions(today))
        )
    if q.mine:
        conds.append(assigned_to(login))
    return conds


def _party_conditions(q: CaseQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if q.party and q.party.strip():
        conds.append(party_table.c.name.like(f"%{_like(q.party.strip())}%", escape="\\"))
    if q.id_number and q.id_number.strip():
        # Resident ID numbers are stored with an upper-case X (mediation.domain.intake).
        given = q.id_number.strip()
        conds.append(party_table.c.id_number.in_(sorted({given, given.upper()})))
    if q.phone and q.phone.strip():
        # Stored as typed at intake; a number typed with spaces or dashes still matches
        # the plain digits (and the other way round for the usual 3-4-4 grouping).
        given = q.phone.strip()
        digits = "".join(c for c in given if c.isdigit())
        forms = {given, digits}
        if len(digits) == 11:
            forms |= {
                f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                f"{digits[:3]} {digits[3:7]} {digits[7:]}",
            }
        conds.append(party_table.c.phone.in_(sorted(forms)))
    return conds


def find_cases(
    store: Store,
    q: CaseQuery,
    *,
    login: str,
    today: date,
    visible_to: tuple[int | None, str] | None = None,
) -> CasePage:
    """One page of the cases ``q`` finds, latest filed first, with their parties masked.

    :param login: the acting user (``mine``).
    :param today: the business day ``overdue`` is counted at.
    :param visible_to: (organisation id, login) of a user who sees only their own
        organisation's cases and the cases assigned to them.
    :raises ValidationError: (exit 3) when a filter names nothing.
    """
    from mediation.engine.queries import party_view
    from mediation.workflows import get_flow

    with store.read() as conn:
        f = resolve_query(conn, q)
        conds = _conditions(q, f, login=login, today=today)
        if visible_to is not None:
            org_id, who = visible_to
            conds.append(or_(P.c.organisation_id == org_id, assigned_to(who)))
        joined = P.join(D, D.c.id == P.c.dispute_id)
        total = conn.execute(select(func.count()).select_from(joined).where(*conds)).scalar_one()
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(
                    P.c.id,
                    P.c.case_number,
                    P.c.flow,
                    P.c.state,
                    P.c.level,
                    P.c.mediator,
                    P.c.opened_at,
                    P.c.closed_at,
                    P.c.dispute_id,
                    organisation_table.c.code.label("organisation"),
                    D.c.title,
                    D.c.dispute_type,
                    D.c.received_at,
                )
                .select_from(
                    joined.join(organisation_table, organisation_table.c.id == P.c.organisation_id)
                )
                .where(*conds)
                .order_by(P.c.opened_at.desc(), P.c.id.desc())
                .limit(q.limit)
                .offset(q.offset)
            )
        ]
        parties: dict[int, list[dict[str, Any]]] = {}
        if rows:
            for party in conn.execute(
                select(party_table)
                .where(party_table.c.dispute_id.in_({r["dispute_id"] for r in rows}))
                .order_by(party_table.c.dispute_id, party_table.c.ordinal)
            ):
                shown = party_view(party)
                parties.setdefault(party.dispute_id, []).append(
                    {
                        k: shown[k]
                        for k in ("role", "role_label", "kind", "name", "id_number", "phone")
                    }
                )
    for r in rows:
        r["state_label"] = get_flow(r["flow"]).state_label(r["state"])
        r["dispute_type_label"] = taxonomy.label(taxonomy.DISPUTE_TYPES, r["dispute_type"])
        r["parties"] = parties.get(r["dispute_id"], [])
    return CasePage(rows=rows, total=total, offset=q.offset, limit=q.limit)
