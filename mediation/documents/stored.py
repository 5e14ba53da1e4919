"""The documents kept with a case, as stored: one of them (``doc get``), or the whole case
file bound as one PDF (``doc casefile``: :mod:`mediation.documents.volume`).

:func:`stored_document` hands out a document byte for byte as the case keeps it (the
sealed PDF once it is signed), after checking that its bytes still have the hash on
record: the ``document`` row's, and for a sealed one the hash its ``sign_document`` event
put in the audit chain. Documents print the parties' personal data in full, so each copy
handed out is recorded as an access event (``doc_get``), in the same transaction.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from mediation.documents import kinds as K
from mediation.errors import NotFoundError, TamperedError, UsageError
from mediation.i18n import _
from mediation.storage._tables import document_table, event_table, proceeding_table
from mediation.storage.audit import append_access
from mediation.storage.refs import resolve
from mediation.storage.store import Store


def sealed_hash(conn: Connection, pid: int, kind: str, seq: int) -> str | None:
    """The hash the audit chain recorded when document ``kind`` no. ``seq`` was sealed."""
    payloads = conn.execute(
        select(event_table.c.payload)
        .where(event_table.c.proceeding_id == pid, event_table.c.trigger == "sign_document")
        .order_by(event_table.c.seq.desc())
    ).scalars()
    for payload in payloads:
        if payload.get("kind") == kind and payload.get("seq") == seq:
            return str(payload.get("sha256"))
    return None


def case_number_of(conn: Connection, pid: int) -> str:
    return str(
        conn.execute(
            select(proceeding_table.c.case_number).where(proceeding_table.c.id == pid)
        ).scalar_one()
    )


def check_recorded(conn: Connection, pid: int, case_number: str, row: Any) -> None:
    """Refuse a stored document whose bytes do not have the hash on record.

    :raises TamperedError: (exit 10) naming the document.
    """
    digest = hashlib.sha256(row.content).hexdigest()
    recorded = row.sha256
    if row.status == "signed":
        chained = sealed_hash(conn, pid, row.kind, row.seq)
        if chained is not None and chained != recorded:
            recorded = chained
    if digest != recorded:
        raise TamperedError(
            f"{case_number} 的{row.title}（{row.kind} #{row.seq}）存储的内容与登记的哈希不符，"
            "可能被改动过，未输出",
            hint=_("请运行 `mediation audit verify`，并从备份恢复数据库"),
        )


def stored_document(
    store: Store, case_ref: str | int, kind: str, *, seq: int, actor: str, now: datetime
) -> dict[str, Any]:
    """Document ``kind`` no. ``seq`` of a case as stored (sealed, once signed), checked
    against the hash on record; the copy is recorded as a ``doc_get`` access event.

    :raises UsageError: for an unknown kind.
    :raises NotFoundError: for an unknown case, or a document never rendered.
    :raises TamperedError: when the stored bytes do not have the hash on record.
    """
    if kind not in K.KINDS:
        raise UsageError(
            _("没有文书种类 {kind}").format(kind=repr(kind)), hint="kinds: " + ", ".join(K.KINDS)
        )
    with store.write() as conn:
        pid = resolve(conn, case_ref)[0]
        case_number = case_number_of(conn, pid)
        row = conn.execute(
            select(document_table).where(
                document_table.c.proceeding_id == pid,
                document_table.c.kind == kind,
                document_table.c.seq == seq,
            )
        ).first()
        if row is None:
            what = K.KINDS[kind].label + (f"（第{seq}份）" if seq > 1 else "")
            raise NotFoundError(
                f"{case_number} 还没有已生成的{what}",
                hint=f"生成并保存它：mediation doc render {case_number} {kind}"
                + (f" --seq {seq}" if seq > 1 else ""),
            )
        check_recorded(conn, pid, case_number, row)
        append_access(
            conn,
            action="doc_get",
            actor=actor,
            subject=case_number,
            detail={"document_id": row.id, "kind": kind, "seq": seq, "sha256": row.sha256},
            now=now,
        )
    return {
        "case_number": case_number,
        "kind": kind,
        "seq": seq,
        "title": row.title,
        "status": row.status,
        "pages": row.pages,
        "size": len(row.content),
        "sha256": row.sha256,
        "signed_at": row.signed_at,
        "content": bytes(row.content),
    }


__all__ = ["case_number_of", "check_recorded", "sealed_hash", "stored_document"]
