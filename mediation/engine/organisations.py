"""Organisations: committees, centres and the organs cases are handed to, on the ladder
村/社区 → 乡镇/街道 → 县/区 → 市 (domain.md §2)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from mediation.domain import taxonomy
from mediation.errors import FieldProblem, NotFoundError, ValidationError
from mediation.storage._tables import organisation_table
from mediation.storage.store import Store

_LADDER = list(taxonomy.LEVELS)

#: A court's code (法院代字) as its case numbers print it: the province's one-character
#: abbreviation and the court's digits, e.g. 浙0681 (a basic court), 浙06 (an
#: intermediate court), 浙 (a high court); 最高法 for the Supreme People's Court.
_COURT_CODE = re.compile(r"^[\u4e00-\u9fff]{1,3}[0-9]{0,4}$")


def court_code_problem(court_code: str, kind: str) -> FieldProblem | None:
    """Why ``court_code`` cannot be the code of an organisation of ``kind``, or None."""
    if kind != "court":
        return FieldProblem(
            "court_code",
            f"只有人民法院（court）才有法院代字，该组织的类型为 {kind}",
            "set a court code only on an organisation of kind court",
        )
    if not _COURT_CODE.match(court_code):
        return FieldProblem(
            "court_code",
            f"法院代字 {court_code!r} 格式不对",
            "the province's abbreviation and the court's digits, e.g. 浙0681",
        )
    return None


def add_organisation(
    store: Store,
    *,
    code: str,
    name: str,
    level: str,
    kind: str = "people_committee",
    parent: str | None = None,
    now: datetime,
    exist_ok: bool = False,
    court_code: str | None = None,
) -> dict[str, Any]:
    """Register an organisation; its parent, if any, must sit higher on the ladder.

    With ``exist_ok`` an identical existing registration is returned instead of refused.
    A court may be given its ``court_code`` (法院代字) at once: its cases of the court's own
    flows are then numbered （2026）浙0681民初123号.

    :raises ValidationError: for an unknown level or kind, a taken code, or a bad parent.
    """
    problems = []
    if level not in taxonomy.LEVELS:
        problems.append(FieldProblem("level", f"未知层级 {level!r}", f"use {', '.join(_LADDER)}"))
    if kind not in taxonomy.ORGANISATION_KINDS:
        kinds = ", ".join(taxonomy.ORGANISATION_KINDS)
        problems.append(FieldProblem("kind", f"未知类型 {kind!r}", f"use one of {kinds}"))
    if not code.strip() or len(code) > 40:
        problems.append(FieldProblem("code", "代码为空或过长", "use 1-40 characters, e.g. 城关"))
    if court_code is not None:
        problem = court_code_problem(court_code, kind)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise ValidationError(problems, source="organisation")
    with store.write() as conn:
        same = conn.execute(
            select(
                organisation_table.c.id,
                organisation_table.c.name,
                organisation_table.c.level,
                organisation_table.c.kind,
            ).where(organisation_table.c.code == code)
        ).first()
        if (
            same is not None
            and exist_ok
            and (same.name, same.level, same.kind) == (name, level, kind)
        ):
            return {
                "id": same.id,
                "code": code,
                "name": name,
                "kind": kind,
                "level": level,
                "parent": parent,
                "court_code": court_code,
                "existing": True,
            }
        if same is not None:
            raise ValidationError(
                [FieldProblem("code", f"代码 {code!r} 已被使用", "choose another code")],
                source="organisation",
            )
        parent_id = None
        if parent:
            row = conn.execute(
                select(organisation_table.c.id, organisation_table.c.level).where(
                    organisation_table.c.code == parent
                )
            ).first()
            if row is None:
                raise NotFoundError(f"no organisation {parent!r}", hint="add the parent first")
            # Escalation goes one level up (若干规定 art. 21): the parent is the next rung.
            if _LADDER.index(row.level) != _LADDER.index(level) + 1:
                raise ValidationError(
                    [
                        FieldProblem(
                            "parent",
                            f"上级 {parent} 的层级（{row.level}）不是 {level} 的上一级",
                            "name an organisation exactly one level up the ladder",
                        )
                    ],
                    source="organisation",
                )
            parent_id = row.id
        new_id = conn.execute(
            insert(organisation_table)
            .values(
                code=code,
                name=name,
                kind=kind,
                level=level,
                parent_id=parent_id,
                court_code=court_code,
                created_at=now,
            )
            .returning(organisation_table.c.id)
        ).scalar_one()
    return {
        "id": new_id,
        "code": code,
        "name": name,
        "kind": kind,
        "level": level,
        "parent": parent,
        "court_code": court_code,
    }


def set_court_code(store: Store, *, code: str, court_code: str) -> dict[str, Any]:
    """Set (or change) a court's code (法院代字): its cases opened from now on are numbered
    （year）{court_code}民初N号 / 民特N号, and its court documents print that number.

    :raises NotFoundError: for an unknown organisation.
    :raises ValidationError: for an organisation that is not a court, or a malformed code.
    """
    with store.write() as conn:
        row = conn.execute(
            select(
                organisation_table.c.id,
                organisation_table.c.name,
                organisation_table.c.kind,
                organisation_table.c.level,
                organisation_table.c.parent_id,
            ).where(organisation_table.c.code == code)
        ).first()
        if row is None:
            raise NotFoundError(f"no organisation {code!r}", hint="see `mediation org list`")
        problem = court_code_problem(court_code, row.kind)
        if problem is not None:
            raise ValidationError([problem], source="org set-court-code")
        conn.execute(
            organisation_table.update()
            .where(organisation_table.c.id == row.id)
            .values(court_code=court_code)
        )
        parent = None
        if row.parent_id is not None:
            parent = conn.execute(
                select(organisation_table.c.code).where(organisation_table.c.id == row.parent_id)
            ).scalar()
    return {
        "id": row.id,
        "code": code,
        "name": row.name,
        "kind": row.kind,
        "level": row.level,
        "parent": parent,
        "court_code": court_code,
    }


def set_period(
    store: Store, *, code: str, flow: str, kind: str, count: int, unit: str
) -> dict[str, Any]:
    """Set an organisation's own period for a rule the law leaves to local rules.

    :raises ValidationError: for a rule whose period is fixed by law, or a bad length.
    """
    from mediation.domain.periods import Period
    from mediation.workflows import get_flow

    rule = next((r for r in get_flow(flow).deadlines if r.kind == kind), None)
    if rule is None:
        raise NotFoundError(
            f"flow {flow} has no deadline {kind!r}", hint=f"see `mediation workflow show {flow}`"
        )
    if not rule.configurable:
        raise ValidationError(
            [
                FieldProblem(
                    kind,
                    f"期限由法律规定（{rule.legal_basis}），不能由本机关设定",
                    "choose a configurable rule",
                )
            ],
            source="org set-period",
        )
    try:
        period = Period(count, unit)  # type: ignore[arg-type]
        if count < 1:
            raise ValueError("a period must be at least 1")
    except ValueError as exc:
        raise ValidationError(
            [FieldProblem("period", str(exc), "e.g. --working-days 20")], source="org set-period"
        ) from None
    with store.write() as conn:
        row = conn.execute(
            select(organisation_table.c.id, organisation_table.c.periods).where(
                organisation_table.c.code == code
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no organisation {code!r}", hint="see `mediation org list`")
        periods = dict(row.periods or {})
        periods[f"{flow}.{kind}"] = [period.count, period.unit]
        conn.execute(
            organisation_table.update()
            .where(organisation_table.c.id == row.id)
            .values(periods=periods)
        )
    return {"organisation": code, "flow": flow, "kind": kind, "period": period.label}
