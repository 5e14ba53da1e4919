"""Organisations: committees, centres and the organs cases are handed to, on the ladder
村/社区 → 乡镇/街道 → 县/区 → 市 (domain.md §2).

An organisation is registered (``add``), corrected or moved on the ladder (``edit``) and
retired (``retire``: merged away or dissolved); each change is an access event of the
audit chain (``org_add`` / ``org_edit`` / ``org_retire``). A retired organisation keeps
its cases, readable as before, but receives no new case and no hand-off
(:func:`check_receives`).

Retirement is kept in the organisation's settings column (``periods``, JSON) under
:data:`RETIRED_KEY`, beside its local periods (``flow.kind`` keys), so that it needs no
schema change; the audit chain records who retired it and when.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from mediation.domain import taxonomy
from mediation.errors import FieldProblem, NotFoundError, TransitionNotAllowed, ValidationError
from mediation.i18n import _
from mediation.storage._tables import organisation_table, proceeding_table
from mediation.storage.store import Store

_LADDER = list(taxonomy.LEVELS)
#: The key of the settings column (``organisation.periods``) holding the time an
#: organisation was retired (ISO 8601); absent while it works.
RETIRED_KEY = "retired_at"
_O = organisation_table

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
            _("只为类型为 court 的组织设定法院代字"),
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
    actor: str | None = None,
    court_code: str | None = None,
) -> dict[str, Any]:
    """Register an organisation; its parent, if any, must sit higher on the ladder.

    With ``exist_ok`` an identical existing registration is returned instead of refused.
    With ``actor`` the registration is recorded in the audit chain (``org_add``).
    A court may be given its ``court_code`` (法院代字) at once: its cases of the court's own
    flows are then numbered （2026）浙0681民初123号.

    :raises ValidationError: for an unknown level or kind, a taken code, or a bad parent.
    """
    problems = []
    if level not in taxonomy.LEVELS:
        problems.append(
            FieldProblem(
                "level",
                f"未知层级 {level!r}",
                _("可选：{levels}").format(levels="、".join(_LADDER)),
            )
        )
    if kind not in taxonomy.ORGANISATION_KINDS:
        kinds = taxonomy.choices(taxonomy.ORGANISATION_KINDS)
        problems.append(
            FieldProblem("kind", f"未知类型 {kind!r}", _("可选：{choices}").format(choices=kinds))
        )
    if not code.strip() or len(code) > 40:
        problems.append(FieldProblem("code", "代码为空或过长", _("请用 1 至 40 个字，例如 城关")))
    if court_code is not None:
        problem = court_code_problem(court_code, kind)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise ValidationError(problems, source="org")
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
                [FieldProblem("code", f"代码 {code!r} 已被使用", _("请换一个代码"))],
                source="org",
            )
        parent_id = None
        if parent:
            row = conn.execute(
                select(organisation_table.c.id, organisation_table.c.level).where(
                    organisation_table.c.code == parent
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    _("没有代码为 {code} 的组织").format(code=repr(parent)),
                    hint=_("请先登记上级组织"),
                )
            # Escalation goes one level up (若干规定 art. 21): the parent is the next rung.
            if _LADDER.index(row.level) != _LADDER.index(level) + 1:
                raise ValidationError(
                    [
                        FieldProblem(
                            "parent",
                            f"上级 {parent} 的层级（{row.level}）不是 {level} 的上一级",
                            _("请给出恰好高一级的组织"),
                        )
                    ],
                    source="org",
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
        if actor is not None:
            from mediation.storage import audit  # here: reading a case needs none of it

            audit.append_access(
                conn,
                action="org_add",
                actor=actor,
                subject=code,
                detail={
                    "name": name,
                    "kind": kind,
                    "level": level,
                    "parent": parent,
                    "court_code": court_code,
                },
                now=now,
            )
    return {
        "id": new_id,
        "code": code,
        "name": name,
        "kind": kind,
        "level": level,
        "parent": parent,
        "court_code": court_code,
    }


def set_court_code(
    store: Store,
    *,
    code: str,
    court_code: str,
    actor: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
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
            raise NotFoundError(
                _("没有代码为 {code} 的组织").format(code=repr(code)),
                hint=_("用 `mediation org list` 查看组织代码"),
            )
        problem = court_code_problem(court_code, row.kind)
        if problem is not None:
            raise ValidationError([problem], source="org set-court-code")
        conn.execute(
            organisation_table.update()
            .where(organisation_table.c.id == row.id)
            .values(court_code=court_code)
        )
        if actor is not None and now is not None:
            from mediation.storage import audit  # here: reading a case needs none of it

            audit.append_access(
                conn,
                action="org_set_court_code",
                actor=actor,
                subject=code,
                detail={"court_code": court_code},
                now=now,
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
            _("流程 {flow} 没有期限 {kind}").format(flow=flow, kind=repr(kind)),
            hint=_("见 `mediation workflow show {flow}`").format(flow=flow),
        )
    if not rule.configurable:
        raise ValidationError(
            [
                FieldProblem(
                    kind,
                    f"期限由法律规定（{rule.legal_basis}），不能由本机关设定",
                    _("请选择可由本机关设定的期限"),
                )
            ],
            source="org set-period",
        )
    try:
        period = Period(count, unit)  # type: ignore[arg-type]
        if count < 1:
            raise ValueError(_("期限至少为 1"))
    except ValueError as exc:
        raise ValidationError(
            [FieldProblem("period", str(exc), _("例如 --working-days 20"))], source="org set-period"
        ) from None
    with store.write() as conn:
        row = conn.execute(
            select(organisation_table.c.id, organisation_table.c.periods).where(
                organisation_table.c.code == code
            )
        ).first()
        if row is None:
            raise NotFoundError(
                _("没有代码为 {code} 的组织").format(code=repr(code)),
                hint=_("用 `mediation org list` 查看组织代码"),
            )
        periods = dict(row.periods or {})
        periods[f"{flow}.{kind}"] = [period.count, period.unit]
        conn.execute(
            organisation_table.update()
            .where(organisation_table.c.id == row.id)
            .values(periods=periods)
        )
    return {"organisation": code, "flow": flow, "kind": kind, "period": period.label}


def retired_at(settings: Any) -> str | None:
    """When an organisation was retired (ISO 8601), from its settings column; None while
    it works."""
    if isinstance(settings, str):
        import json

        settings = json.loads(settings or "{}")
    found = (settings or {}).get(RETIRED_KEY)
    return str(found) if found else None


def check_receives(org: Any) -> None:
    """Refuse a new case or a hand-off into a retired organisation (``org`` a row with
    ``code``, ``name`` and ``periods``).

    :raises TransitionNotAllowed: (exit 5) naming the organisation and how to go on.
    """
    when = retired_at(org.periods)
    if when is not None:
        raise TransitionNotAllowed(
            f"调委会 {org.code}（{org.name}）已于 {when[:10]} 撤销，不能再受理新案件或接收移交的案件",
            hint="请选择其他调委会（`mediation org list`）；已有案件仍可查看",
        )


def _row(conn: Connection, code: str) -> Any:
    row = conn.execute(select(_O).where(_O.c.code == code)).first()
    if row is None:
        known = conn.execute(select(_O.c.code)).scalars().all()
        near = taxonomy.closest(code, known)
        raise NotFoundError(
            f"没有代码为 {code!r} 的调委会",
            hint=f"是否应为 {near!r}？" if near else "用 `mediation org list` 查看全部代码",
        )
    return row


def _described(conn: Connection, row: Any) -> dict[str, Any]:
    parent = None
    if row.parent_id is not None:
        parent = conn.execute(select(_O.c.code).where(_O.c.id == row.parent_id)).scalar()
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "level": row.level,
        "parent": parent,
        "retired_at": retired_at(row.periods),
    }


def _edit_problem(field: str, problem: str, fix: str) -> ValidationError:
    return ValidationError([FieldProblem(field, problem, fix)], source="org edit")


def edit_organisation(
    conn: Connection,
    code: str,
    *,
    name: str | None = None,
    parent: str | None = None,
    level: str | None = None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Correct an organisation's name, or move it on the ladder (its level, its parent
    one level up); ``parent=""`` removes the parent. The code, printed in case numbers,
    never changes. Recorded in the audit chain (``org_edit``) with the values before and
    after.

    :raises ValidationError: (exit 3) for nothing to change, an unknown level, a parent
        not exactly one level up (or retired, or itself), or a level its own parent or
        sub-organisations would no longer fit.
    :raises NotFoundError: for an unknown code or parent.
    """
    row = _row(conn, code)
    before = _described(conn, row)
    if name is None and parent is None and level is None:
        raise _edit_problem("org edit", "没有要修改的内容", "请给出 --name、--parent 或 --level")
    values: dict[str, Any] = {}
    if name is not None:
        if not name.strip() or len(name) > 200:
            raise _edit_problem("--name", "名称为空或过长", "名称应为 1–200 字")
        values["name"] = name.strip()
    new_level = before["level"]
    if level is not None:
        code_of = taxonomy.code_of(taxonomy.LEVELS, level)
        if code_of is None:
            raise _edit_problem(
                "--level", f"未知层级 {level!r}", f"可选：{taxonomy.choices(taxonomy.LEVELS)}"
            )
        new_level = values["level"] = code_of
    parent_row = None
    if parent is not None:
        if parent.strip():
            if parent.strip() == code:
                raise _edit_problem("--parent", "上级不能是本组织自己", "请给出上一级组织的代码")
            parent_row = _row(conn, parent.strip())
            if retired_at(parent_row.periods):
                raise _edit_problem(
                    "--parent", f"上级 {parent_row.code} 已撤销", "请给出未撤销的上一级组织"
                )
        values["parent_id"] = parent_row.id if parent_row else None
    elif row.parent_id is not None:
        parent_row = conn.execute(select(_O).where(_O.c.id == row.parent_id)).first()
    # Escalation goes one level up (若干规定 art. 21): the parent is the next rung.
    if parent_row is not None and _LADDER.index(parent_row.level) != _LADDER.index(new_level) + 1:
        label = taxonomy.label(taxonomy.LEVELS, parent_row.level)
        raise _edit_problem(
            "--parent",
            f"上级 {parent_row.code} 的层级（{label}）不是"
            f"{taxonomy.label(taxonomy.LEVELS, new_level)}的上一级",
            f"请给出上一级组织的代码：mediation org edit {code} --parent 代码",
        )
    if level is not None:
        children = conn.execute(select(_O.c.code, _O.c.level).where(_O.c.parent_id == row.id)).all()
        misfits = [
            c.code for c in children if _LADDER.index(c.level) + 1 != _LADDER.index(new_level)
        ]
        if misfits:
            raise _edit_problem(
                "--level",
                f"下级组织 {'、'.join(misfits)} 将不再是下一级",
                "请先为下级组织另设上级：mediation org edit 代码 --parent 上级代码",
            )
    conn.execute(update(_O).where(_O.c.id == row.id).values(**values))
    after = _described(conn, _row(conn, code))
    changed = {k: {"before": before[k], "after": after[k]} for k in ("name", "level", "parent")}
    changed = {k: v for k, v in changed.items() if v["before"] != v["after"]}
    from mediation.storage import audit  # here: reading a case needs none of it

    audit.append_access(
        conn, action="org_edit", actor=actor, subject=code, detail={"changed": changed}, now=now
    )
    return {**after, "changed": changed}


def retire_organisation(
    conn: Connection, code: str, *, reason: str | None, actor: str, now: datetime
) -> dict[str, Any]:
    """Retire an organisation (merged into another, dissolved): it receives no new case and
    no hand-off from now on (:func:`check_receives`); its cases stay as they are, readable
    and, while open, worked to their end. Recorded in the audit chain (``org_retire``).

    :raises TransitionNotAllowed: (exit 5) when it is already retired.
    """
    row = _row(conn, code)
    if retired_at(row.periods):
        raise TransitionNotAllowed(
            f"调委会 {code} 已于 {retired_at(row.periods)[:10]} 撤销",  # type: ignore[index]
            hint="无需再次撤销",
        )
    settings = dict(row.periods or {})
    settings[RETIRED_KEY] = now.isoformat()
    conn.execute(update(_O).where(_O.c.id == row.id).values(periods=settings))
    open_cases = conn.execute(
        select(func.count()).where(
            proceeding_table.c.organisation_id == row.id, proceeding_table.c.closed_at.is_(None)
        )
    ).scalar_one()
    children = conn.execute(select(_O.c.code).where(_O.c.parent_id == row.id)).scalars().all()
    from mediation.storage import audit  # here: reading a case needs none of it

    audit.append_access(
        conn,
        action="org_retire",
        actor=actor,
        subject=code,
        detail={"reason": reason or "", "open_cases": open_cases},
        now=now,
    )
    return {
        **_described(conn, _row(conn, code)),
        "open_cases": open_cases,
        "children": list(children),
    }
