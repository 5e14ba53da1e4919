"""Merging a dispute reported through two channels, and splitting a wrong merge again.

A merge keeps both intake records as they were and records who merged which into which,
when and why; from then on the kept dispute's lineage shows the merged one's proceedings
too. A split ends the merge (the row stays: the history of merging is evidence too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mediation.errors import FieldProblem, NotFoundError, ValidationError
from mediation.i18n import _
from mediation.storage._tables import dispute_merge_table, dispute_table
from mediation.storage.audit import append_access
from mediation.storage.store import Store


def _exists(conn: Connection, dispute_id: int) -> None:
    if (
        conn.execute(select(dispute_table.c.id).where(dispute_table.c.id == dispute_id)).first()
        is None
    ):
        raise NotFoundError(
            _("没有纠纷 #{dispute}").format(dispute=dispute_id),
            hint=_("用 `mediation case list` 查看案件"),
        )


def _active_merge_of(conn: Connection, dispute_id: int) -> Any:
    """The live merge in which ``dispute_id`` was merged away, if any."""
    return conn.execute(
        select(dispute_merge_table).where(
            dispute_merge_table.c.merged_id == dispute_id, dispute_merge_table.c.split_at.is_(None)
        )
    ).first()


def root_of(conn: Connection, dispute_id: int) -> int:
    """The dispute that ``dispute_id`` was (transitively) merged into, or itself."""
    seen = {dispute_id}
    while (live := _active_merge_of(conn, dispute_id)) is not None and live.kept_id not in seen:
        dispute_id = live.kept_id
        seen.add(dispute_id)
    return dispute_id


def group_of(conn: Connection, dispute_id: int) -> list[int]:
    """``dispute_id`` and every dispute merged into it (transitively), kept one first."""
    group, frontier = [dispute_id], [dispute_id]
    while frontier:
        rows = (
            conn.execute(
                select(dispute_merge_table.c.merged_id).where(
                    dispute_merge_table.c.kept_id.in_(frontier),
                    dispute_merge_table.c.split_at.is_(None),
                )
            )
            .scalars()
            .all()
        )
        frontier = [r for r in rows if r not in group]
        group += frontier
    return group


def merge(
    store: Store, kept: int, merged: int, *, reason: str, actor: str, now: datetime
) -> dict[str, Any]:
    """Merge dispute ``merged`` into ``kept``, in one transaction.

    :raises ValidationError: merging a dispute into itself, into one merged into it, or one
        already merged elsewhere.
    """
    if not reason.strip():
        raise ValidationError(
            [FieldProblem("--reason", "缺少合并理由", _("请说明为什么是同一纠纷"))],
            source="命令行",
        )
    with store.write() as conn:
        _exists(conn, kept)
        _exists(conn, merged)
        problems = []
        if kept == merged:
            problems.append(FieldProblem("DISPUTE", "不能与自身合并", _("请给出两件不同的纠纷")))
        elif kept in group_of(conn, merged):
            problems.append(FieldProblem("KEEP", f"纠纷 #{kept} 已并入 #{merged}", _("请反向合并")))
        elif (live := _active_merge_of(conn, merged)) is not None:
            problems.append(
                FieldProblem("MERGED", f"纠纷 #{merged} 已并入 #{live.kept_id}", _("请先拆分"))
            )
        if problems:
            raise ValidationError(problems, source="dispute merge")
        merge_id = conn.execute(
            insert(dispute_merge_table)
            .values(kept_id=kept, merged_id=merged, reason=reason, merged_by=actor, merged_at=now)
            .returning(dispute_merge_table.c.id)
        ).scalar_one()
        # In the audit chain too: which disputes count as one is part of the record.
        append_access(
            conn,
            action="dispute_merge",
            actor=actor,
            subject=f"dispute #{merged} -> #{kept}",
            detail={"merge_id": merge_id, "reason": reason},
            now=now,
        )
    return {"merge_id": merge_id, "kept": kept, "merged": merged}


def split(store: Store, merged: int, *, reason: str, actor: str, now: datetime) -> dict[str, Any]:
    """Undo the live merge of ``merged`` (a wrong merge), in one transaction."""
    with store.write() as conn:
        _exists(conn, merged)
        live = _active_merge_of(conn, merged)
        if live is None:
            raise ValidationError(
                [
                    FieldProblem(
                        "DISPUTE",
                        f"纠纷 #{merged} 没有被合并",
                        _("请给出被并入的纠纷"),
                    )
                ],
                source="dispute split",
            )
        conn.execute(
            update(dispute_merge_table)
            .where(dispute_merge_table.c.id == live.id)
            .values(split_at=now, split_by=actor, split_reason=reason)
        )
        append_access(
            conn,
            action="dispute_split",
            actor=actor,
            subject=f"dispute #{merged} -/-> #{live.kept_id}",
            detail={"merge_id": live.id, "reason": reason},
            now=now,
        )
    return {"merge_id": live.id, "kept": live.kept_id, "merged": merged}


def merges_of(conn: Connection, dispute_ids: list[int]) -> list[dict[str, Any]]:
    """Every merge (live or split) touching these disputes, oldest first."""
    rows = conn.execute(
        select(dispute_merge_table)
        .where(
            dispute_merge_table.c.kept_id.in_(dispute_ids)
            | dispute_merge_table.c.merged_id.in_(dispute_ids)
        )
        .order_by(dispute_merge_table.c.id)
    )
    return [dict(r._mapping) for r in rows]
