"""Importing an export into an empty database at the same schema revision, in one
transaction that commits only when the file checked out and the audit chains verify."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError

from mediation.errors import MediationError, SchemaError, TamperedError, UsageError
from mediation.i18n import _
from mediation.storage import audit
from mediation.storage._tables import audit_head_table, installation_secret_table
from mediation.storage.secret import forget_secret
from mediation.storage.store import Store
from mediation.storage.transfer.fileformat import (
    BY_NAME,
    REEXPORT,
    SPECS,
    ExportReader,
    TableSpec,
    bad,
    check_file,
    decode,
    open_export,
)
from mediation.storage.transfer.signature import require_passphrase

#: Rows per INSERT batch, and the most line bytes a batch may hold (documents are large).
BATCH_ROWS = 2000
BATCH_BYTES = 16 * 1024 * 1024


# -- import ---------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What an import wrote, and the audit chain it verified."""

    schema: str
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    head_seq: int = 0
    head_hash: str = audit.GENESIS


def import_jsonl(
    store: Store,
    source: Path | IO[bytes],
    *,
    name: str | None = None,
    passphrase: str | None = None,
) -> ImportSummary:
    """Load an export into ``store``, which must be at the same schema revision and empty.

    A file is checked through once before the database is touched; a stream (stdin) is
    checked as it is inserted. Either way every row goes in ONE transaction, which
    commits only when the trailer and the signature matched and the audit chains verify.

    :param passphrase: the passphrase the export was signed with (:mod:`.signature`).
    :raises UsageError: a masked export, no passphrase, or a target that holds data.
    :raises SchemaError: the target, or the file, is not at this version's schema.
    :raises ValidationError: the file is truncated, altered, unsigned, signed with another
        passphrase, or not an export.
    :raises TamperedError: the rows do not verify as the audit chains they carry.
    """
    if isinstance(source, Path):
        with open_export(source) as stream:
            _refuse_masked(ExportReader(stream, str(source)), str(source))
        passphrase = require_passphrase(passphrase, doing="导入")
        check_file(source, passphrase=passphrase)
        with open_export(source) as stream:
            return _import(store, stream, str(source), passphrase)
    return _import(store, source, name or "stdin", passphrase)


def _refuse_masked(reader: ExportReader, source: str) -> None:
    if reader.masked:
        raise UsageError(
            _("{source} 是隐去个人信息的导出文件，不能用于迁移").format(source=source),
            hint=_("迁移数据库须完整导出：mediation export --reveal -o 文件"),
        )


def _import(store: Store, stream: IO[bytes], source: str, passphrase: str | None) -> ImportSummary:
    from mediation.storage.migrations import HEAD

    reader = ExportReader(stream, source)
    _refuse_masked(reader, source)
    reader.verify_with(require_passphrase(passphrase, doing="导入"))
    schema = reader.header["schema"]
    if schema != HEAD:
        raise SchemaError(
            _("{source} 的数据库结构版本为 {schema}；本版本导入的是 {head}").format(
                source=source, schema=schema, head=HEAD
            ),
            hint=_("请先升级源数据库（`mediation db upgrade`），再用本版本重新导出"),
        )
    if reader.header["tables"] != [s.name for s in SPECS]:
        raise SchemaError(
            _("{source} 所列的表与数据库结构版本 {head} 不符").format(source=source, head=HEAD),
            hint=_("请用与目标相同版本的本程序重新导出源数据库"),
        )
    store.require_current()
    summary = ImportSummary(schema=schema, counts={s.name: 0 for s in SPECS})
    with store.write() as conn:
        _require_empty(conn, store)
        _Loader(conn, reader, summary).run()
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
        report = audit.verify(conn, limit=5)
        if report.ok and report.pending:
            # Exported while a writer was between its commit and its seal: seal them here.
            audit.seal(conn)
            report = audit.verify(conn, limit=5)
        if not report.ok:
            raise TamperedError(
                f"{source}: the audit chains do not verify; nothing was imported:\n"
                + "\n".join(f"  - {p}" for p in report.problems),
                hint=_("请在源数据库上运行 `mediation audit verify`；该文件可能被改动过"),
            )
        summary.head_seq, summary.head_hash = report.head_seq, report.head_hash
    return summary


def _require_empty(conn: Connection, store: Store) -> None:
    """Refuse a target that holds anything but an empty audit chain (read under the head's
    lock; a write slipping in meanwhile would collide with the imported ids and fail the
    import, not mix with it)."""
    query = select(audit_head_table.c.seq, audit_head_table.c.hash)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    heads = conn.execute(query).all()
    busy = [
        spec.name
        for spec in SPECS
        if spec.table not in (audit_head_table, installation_secret_table)
        and conn.execute(select(spec.table.c[spec.columns[0].name]).limit(1)).first() is not None
    ]
    if any(h.seq != 0 or h.hash != audit.GENESIS for h in heads):
        busy.append(audit_head_table.name)
    if busy:
        raise UsageError(
            _("目标数据库 {db} 不是空的（以下表中有数据：{tables}）").format(
                db=store.display_url, tables="、".join(busy)
            ),
            hint="请导入新的空数据库：先运行 `mediation --db NEW db upgrade`（只建表结构；"
            "`init` 会登记第一位系统管理员），再运行 `mediation --db NEW import FILE`",
        )


class _Loader:
    """Inserts an export's rows in batches, ids and chain columns as they are."""

    def __init__(self, conn: Connection, reader: ExportReader, summary: ImportSummary) -> None:
        self.conn, self.reader, self.summary = conn, reader, summary
        self.spec: TableSpec | None = None
        self.batch: list[dict[str, Any]] = []
        self.batch_bytes = 0
        self.first_line = 0
        #: Links to a row later in the file, set once it exists: (table, id, column, value).
        self.forward: list[tuple[str, Any, str, Any]] = []

    def run(self) -> None:
        for lineno, size, table, row in self.reader.rows():
            spec = BY_NAME[table]
            if (
                spec is not self.spec
                or len(self.batch) >= BATCH_ROWS
                or (self.batch_bytes >= BATCH_BYTES)
            ):
                self.flush()
                self.spec, self.first_line = spec, lineno
            self.batch.append(self._decode_row(spec, lineno, row))
            self.batch_bytes += size
            self.summary.counts[table] += 1
            self.summary.rows += 1
        self.flush()
        self._run("(links to later rows)", self._link_forward)

    def _link_forward(self) -> None:
        for name, pk, column, value in self.forward:
            table = BY_NAME[name].table
            self.conn.execute(sql_update(table).where(table.c.id == pk).values({column: value}))

    def _decode_row(self, spec: TableSpec, lineno: int, row: Mapping[str, Any]) -> dict[str, Any]:
        if len(row) != len(spec.columns) or any(c.name not in row for c in spec.columns):
            expected = ", ".join(c.name for c in spec.columns)
            raise bad(
                self.reader.source,
                f"第{lineno}行",
                f"{spec.name} 的列不符（应为 {expected}）",
                REEXPORT,
            )
        values: dict[str, Any] = {}
        for c in spec.columns:
            raw = row[c.name]
            if raw is None and not c.nullable:
                raise bad(
                    self.reader.source, f"第{lineno}行 {spec.name}.{c.name}", "不能为空", REEXPORT
                )
            try:
                values[c.name] = decode(c.kind, raw)
            except ValueError as exc:
                raise bad(
                    self.reader.source, f"第{lineno}行 {spec.name}.{c.name}", str(exc), REEXPORT
                ) from None
        for column in spec.self_refs:
            target = values[column]
            if target is not None and target >= values["id"]:
                self.forward.append((spec.name, values["id"], column, target))
                values[column] = None
        return values

    def flush(self) -> None:
        spec, batch = self.spec, self.batch
        if spec is None or not batch:
            return
        self.batch, self.batch_bytes = [], 0
        table = spec.table
        if table in (audit_head_table, installation_secret_table):
            # The target's empty chain already has its head row: it takes the source's. So
            # does its secret: the imported parties' keys were made with the source's.
            def write_heads() -> None:
                for head in batch:
                    moved = self.conn.execute(
                        sql_update(table).where(table.c.id == head["id"]).values(head)
                    ).rowcount
                    if not moved:
                        self.conn.execute(insert(table).values(head))

            self._run(spec.name, write_heads)
            forget_secret(self.conn)
        else:
            self._run(spec.name, lambda: self.conn.execute(insert(table), batch))

    def _run(self, table: str, write: Any) -> None:
        try:
            write()
        except DBAPIError as exc:
            message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise MediationError(
                _(
                    "导入在表 {table} 失败（{source} 第 {line} 行起）：{why}；没有导入任何数据"
                ).format(table=table, source=self.reader.source, line=self.first_line, why=message),
                hint=_("该文件与本数据库不符；请用本版本重新导出"),
            ) from None


def _reset_sequences(conn: Connection) -> None:
    """Move each id sequence past the imported ids, so new rows get fresh ones."""
    preparer = conn.dialect.identifier_preparer
    for spec in SPECS:
        column = spec.table.autoincrement_column
        if column is None:
            continue
        name = preparer.format_table(spec.table)
        col = preparer.quote(column.name)
        conn.execute(
            sql_text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"coalesce(max({col}), 1), max({col}) IS NOT NULL) FROM {name}"
            ),
            {"table": name, "column": column.name},
        )
