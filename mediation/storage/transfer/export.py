"""Writing an export: the whole database as JSON lines from one snapshot, personal data
masked unless revealed (a revealing export is recorded in the audit chain)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy import text as sql_text

from mediation.domain.personal import mask_address, mask_id, mask_phone
from mediation.errors import MediationError, SchemaError, UsageError
from mediation.i18n import _, os_error
from mediation.storage import audit
from mediation.storage.store import Store
from mediation.storage.transfer.fileformat import FORMAT, SPECS, VERSION, dumps, encode
from mediation.storage.transfer.signature import new_signer, require_passphrase

#: Rows fetched at a time when exporting (fewer for tables with binary columns).
_FETCH_ROWS = 2000
_FETCH_ROWS_BINARY = 50


# -- masking --------------------------------------------------------------------------------


def _mask_party(row: dict[str, Any]) -> None:
    row["id_number"] = mask_id(row["id_number"]) or None
    row["phone"] = mask_phone(row["phone"]) or None
    row["address"] = mask_address(row["address"]) or None
    row["birth_date"] = None  # the digits the ID mask hides


def _mask_dispute(row: dict[str, Any]) -> None:
    row["party_key"] = None  # an HMAC of the parties' ID numbers: never shown


def _mask_document(row: dict[str, Any]) -> None:
    row["content"] = {"$b64": ""}  # the rendered PDF shows the parties' data in full


def _mask_signature(row: dict[str, Any]) -> None:
    row["image"] = None


_MASKS = {
    "dispute": _mask_dispute,
    "party": _mask_party,
    "document": _mask_document,
    "signature": _mask_signature,
}
#: Tables whose rows a masked export leaves out: the installation's secret (the key of
#: ``dispute.party_key``; a revealed export carries it to the database it moves to).
_LEFT_OUT = frozenset({"installation_secret"})


# -- export ---------------------------------------------------------------------------------


@dataclass
class ExportSummary:
    """What an export wrote."""

    schema: str
    masked: bool
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    #: Whether the export is signed (:mod:`.signature`).
    signed: bool = False


def _record_export(store: Store, *, actor: str, now: datetime) -> None:
    with store.write() as conn:
        audit.append_access(
            conn,
            action="export",
            actor=actor,
            subject=store.display_url[:200],
            detail={"format": "jsonl", "masked": False},
            now=now,
        )


def export_jsonl(
    store: Store,
    out: IO[bytes],
    *,
    reveal: bool = False,
    actor: str | None = None,
    now: datetime | None = None,
    passphrase: str | None = None,
) -> ExportSummary:
    """Write the whole database to ``out`` as JSON lines (see the module docstring).

    :param reveal: write personal data in full (needed to import the file elsewhere);
        recorded as an ``export`` access event by ``actor`` at ``now``.
    :param passphrase: sign a revealed export (:mod:`.signature`); required with ``reveal``.
    :raises SchemaError: when the database is not at the schema this version knows.
    :raises UsageError: ``reveal`` without a passphrase (exit 2; a short one is exit 3).
    """
    from mediation.storage.migrations import HEAD

    # Only a revealed export can be imported, so only it is signed (a masked one stays
    # the same bytes for the same data).
    signer = None
    if reveal:
        signer = new_signer(require_passphrase(passphrase, doing="导出完整数据（--reveal）"))
    if reveal:
        if actor is None or now is None:
            raise ValueError("a revealing export is recorded: pass actor and now")
        store.require_current()
        _record_export(store, actor=actor, now=now)
    with store.snapshot() as conn:
        schema = conn.execute(sql_text("SELECT version_num FROM alembic_version")).scalar()
        if schema != HEAD:
            raise SchemaError(
                _("数据库结构版本为 {schema}，本版本导出的是 {head}").format(
                    schema=schema, head=HEAD
                ),
                hint=_("请先运行 `mediation db upgrade`"),
            )
        summary = ExportSummary(schema=schema, masked=not reveal, signed=signer is not None)
        digest = hashlib.sha256()

        def put(line: bytes) -> None:
            digest.update(line)
            out.write(line)

        put(
            dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "schema": schema,
                    "masked": not reveal,
                    "tables": [s.name for s in SPECS],
                    "signature": None if signer is None else signer.params,
                }
            )
        )
        for spec in SPECS:
            mask = None if reveal else _MASKS.get(spec.name)
            if not reveal and spec.name in _LEFT_OUT:
                summary.counts[spec.name] = 0
                continue
            query = select(spec.table).order_by(*spec.table.primary_key.columns)
            per_fetch = _FETCH_ROWS_BINARY if spec.binary else _FETCH_ROWS
            n = 0
            for values in conn.execution_options(yield_per=per_fetch).execute(query):
                row = {c.name: encode(c.kind, v) for c, v in zip(spec.columns, values, strict=True)}
                if mask is not None:
                    mask(row)
                put(dumps({"table": spec.name, "row": row}))
                n += 1
            summary.counts[spec.name] = n
            summary.rows += n
    summary.sha256 = digest.hexdigest()
    out.write(
        dumps(
            {
                "end": FORMAT,
                "counts": summary.counts,
                "rows": summary.rows,
                "sha256": summary.sha256,
                "hmac": None if signer is None else signer.mac(summary.sha256),
            }
        )
    )
    out.flush()
    return summary


def export_file(
    store: Store,
    path: Path,
    *,
    reveal: bool = False,
    actor: str | None = None,
    now: datetime | None = None,
    passphrase: str | None = None,
) -> ExportSummary:
    """:func:`export_jsonl` into a new file: written beside it and renamed when complete,
    so a failed export leaves no partial file; an existing file is never overwritten.

    :raises UsageError: when ``path`` exists.
    """
    if path.exists():
        raise UsageError(
            _("{path} 已存在").format(path=path), hint=_("请换一个新文件名；不会覆盖任何文件")
        )
    partial = path.with_name(path.name + ".partial")
    try:
        # Personal data (in full with --reveal): the owner's only, whatever the umask.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(partial, flags, 0o600), "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # a partial file left by a crash, say
            summary = export_jsonl(
                store, out, reveal=reveal, actor=actor, now=now, passphrase=passphrase
            )
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MediationError(
            _("无法写入 {path}：{why}").format(path=path, why=os_error(exc)),
            hint=_("请检查文件夹是否存在且可写"),
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary
