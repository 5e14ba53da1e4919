"""Dispute sweeps (矛盾纠纷排查): a committee or its grid workers go through an area looking
for disputes before they come to anyone's door, and file what they found.

A sweep is a record of its own, not a case: the organisation that held it, the day, who
held it (the acting login), the area, how many disputes it found and how many of them were
opened as cases (optionally which). The official statistics count the sweeps held and the
disputes they found (:mod:`mediation.reporting.stats`). Filing one is an access event in
the audit chain (``sweep_add``), in the same transaction as the row.

Who may file: a mediator or staff member of the organisation that held it, or a
supervisor for any organisation (the roles are :data:`Action.SWEEP_ADD`'s; the
organisation is checked here).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from mediation.engine.users import User
from mediation.errors import FieldProblem, NotFoundError, PermissionDenied, ValidationError
from mediation.storage._tables import organisation_table, proceeding_table, sweep_table

#: The most disputes one sweep can report: a typo guard (a county-wide sweep finds hundreds).
MOST_FOUND = 100_000


def _organisation(conn: Connection, code: str) -> Any:
    row = conn.execute(
        select(organisation_table.c.id, organisation_table.c.code, organisation_table.c.name).where(
            organisation_table.c.code == code
        )
    ).first()
    if row is None:
        raise NotFoundError(
            f"没有代码为 {code!r} 的组织", hint="查看已登记的组织：mediation org list"
        )
    return row


def _check_scope(user: User | None, org: Any) -> None:
    """A mediator or staff member files their own organisation's sweeps only."""
    if user is None or "supervisor" in user.roles or user.organisation_id == org.id:
        return
    raise PermissionDenied(
        f"{user.login!r} 不属于 {org.name}（{org.code}），不能登记该组织的矛盾纠纷排查",
        hint="由该组织的调解员或工作人员登记，或请督办人员登记",
    )


def add_sweep(
    conn: Connection,
    *,
    user: User | None,
    actor: str,
    org: str,
    held_on: date,
    found: int,
    opened: int | None = None,
    cases: list[str] | None = None,
    area: str = "",
    note: str = "",
    now: datetime,
) -> dict[str, Any]:
    """Record a sweep held by ``org`` on ``held_on`` (in ``conn``'s write transaction).

    ``opened`` defaults to the number of ``cases`` named (case numbers or ids of cases
    opened from it), else 0.

    :raises NotFoundError: for an unknown organisation or case.
    :raises PermissionDenied: for a non-supervisor of another organisation.
    :raises ValidationError: for a day after today, negative counts, more opened than
        found, or text that cannot be stored.
    """
    from mediation.domain.clock import business_date
    from mediation.domain.intake import text_problem
    from mediation.storage import audit
    from mediation.storage.refs import resolve

    row = _organisation(conn, org)
    _check_scope(user, row)
    numbers: list[str] = []
    for ref in cases or ():
        pid = resolve(conn, ref)[0]
        number = conn.execute(
            select(proceeding_table.c.case_number).where(proceeding_table.c.id == pid)
        ).scalar_one()
        if number not in numbers:
            numbers.append(number)
    problems = []
    if held_on > business_date(now):
        problems.append(
            FieldProblem("--on", f"排查日期 {held_on} 晚于今天", "填写实际开展排查的日期")
        )
    if not 0 <= found <= MOST_FOUND:
        problems.append(
            FieldProblem("--found", f"发现纠纷数 {found} 无效", f"填写 0 至 {MOST_FOUND} 的整数")
        )
    if opened is None:
        opened = len(numbers)
    if opened < len(numbers) or opened < 0:
        problems.append(
            FieldProblem(
                "--opened",
                f"已立案数 {opened} 少于列出的案件数 {len(numbers)}",
                "去掉 --opened，或填写不少于 --case 个数的数字",
            )
        )
    elif opened > found:
        problems.append(
            FieldProblem("--opened", f"已立案数 {opened} 多于发现纠纷数 {found}", "核对两个数字")
        )
    if len(area) > 300:
        problems.append(FieldProblem("--area", "排查范围过长", "不超过300字"))
    for name, text in (("--area", area), ("--note", note)):
        bad = text_problem(text)
        if bad:
            problems.append(FieldProblem(name, bad, "删除该字符后重新输入"))
    if problems:
        raise ValidationError(problems, source="sweep add")
    values = {
        "organisation_id": row.id,
        "held_on": held_on,
        "held_by": actor,
        "area": area.strip(),
        "found": found,
        "opened": opened,
        "cases": numbers,
        "note": note.strip(),
        "recorded_at": now,
    }
    sweep_id = conn.execute(
        insert(sweep_table).values(**values).returning(sweep_table.c.id)
    ).scalar_one()
    audit.append_access(
        conn,
        action="sweep_add",
        actor=actor,
        subject=f"{row.code} {held_on}",
        detail={"sweep": sweep_id, "found": found, "opened": opened, "cases": numbers},
        now=now,
    )
    return _as_dict({**values, "id": sweep_id}, row.code, row.name)


def _as_dict(row: Any, code: str, name: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "organisation": code,
        "organisation_name": name,
        "held_on": row["held_on"],
        "held_by": row["held_by"],
        "area": row["area"],
        "found": row["found"],
        "opened": row["opened"],
        "cases": list(row["cases"] or []),
        "note": row["note"],
        "recorded_at": row["recorded_at"],
    }


def _below(conn: Connection, root: int) -> list[int]:
    """``root`` and every organisation below it on the ladder."""
    children: dict[int | None, list[int]] = {}
    for r in conn.execute(select(organisation_table.c.id, organisation_table.c.parent_id)):
        children.setdefault(r.parent_id, []).append(r.id)
    found, frontier = [root], [root]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, ()) if c not in found]
        found += frontier
    return found


def list_sweeps(
    conn: Connection,
    *,
    org: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[dict[str, Any]]:
    """The sweeps held by ``org`` and the organisations below it (None: all) between
    ``start`` and ``end`` (inclusive), latest first.

    :raises NotFoundError: for an unknown organisation.
    """
    o = organisation_table
    q = select(sweep_table, o.c.code, o.c.name).join(o, o.c.id == sweep_table.c.organisation_id)
    if org is not None:
        q = q.where(sweep_table.c.organisation_id.in_(_below(conn, _organisation(conn, org).id)))
    if start is not None:
        q = q.where(sweep_table.c.held_on >= start)
    if end is not None:
        q = q.where(sweep_table.c.held_on <= end)
    rows = conn.execute(q.order_by(sweep_table.c.held_on.desc(), sweep_table.c.id.desc()))
    return [_as_dict(r._mapping, r.code, r.name) for r in rows]
