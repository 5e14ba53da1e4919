"""Moving a database: a lossless JSON-lines export and its import (SQLite ↔ PostgreSQL).

The export is one UTF-8 file, written and read as a stream (never the whole database in
memory):

- a header line ``{"format": "mediation-export", "version": 1, "schema": "0006",
  "masked": false, "tables": [...]}``;
- one line per row, ``{"table": "event", "row": {...}}``, table by table in foreign-key
  order (``metadata.sorted_tables``), each table's rows by primary key, so a row's parent
  comes before it. Values are kept exactly: timestamps as UTC ISO 8601 with microseconds,
  dates as ISO dates, binary columns as ``{"$b64": "..."}``, JSON columns as JSON;
- a trailer ``{"end": "mediation-export", "counts": {...}, "rows": N, "sha256": "..."}``:
  the row count of every table and the SHA-256 of every line before it (header
  included), so a truncated or altered file is refused.

The export reads one consistent snapshot (PostgreSQL: a REPEATABLE READ, read-only
transaction; SQLite: one read transaction), so it may run while others keep working.

Personal data is masked by default (domain.md §6): ID and phone numbers and addresses as
``case show`` masks them, the birth date left out, and the rendered documents' content
and signature images left empty. Such an export says ``"masked": true`` and cannot be
imported. ``reveal=True`` writes everything, for a move, and records an ``export`` access
event in the audit chain first (so the export carries the record of itself).

The import refuses unless the target is at the export's schema revision and holds no
data; it checks the file, inserts every row with its id in ONE transaction (batched),
moves PostgreSQL's id sequences past the imported ids, and recomputes the audit chains
(:func:`mediation.storage.audit.verify`) before committing. The chains' columns are copied as
they are — rows are inserted plainly, not re-appended — so the imported history verifies
with the same head hash as the source. Any error leaves the target as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Boolean, Connection, Date, Integer, LargeBinary, Table, insert, select
from sqlalchemy import String as _String
from sqlalchemy import text as sql_text
from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError

from mediation.domain.clock import UTC
from mediation.domain.personal import mask_address, mask_id, mask_phone
from mediation.errors import (
    FieldProblem,
    MediationError,
    SchemaError,
    TamperedError,
    UsageError,
    ValidationError,
)
from mediation.storage import audit
from mediation.storage._tables import audit_head_table, metadata
from mediation.storage._types import JSONText, Timestamp
from mediation.storage.store import Store

FORMAT = "mediation-export"
#: The file format's version; a reader refuses versions it does not know.
VERSION = 1
#: Rows per INSERT batch, and the most line bytes a batch may hold (documents are large).
BATCH_ROWS = 2000
BATCH_BYTES = 16 * 1024 * 1024
#: Rows fetched at a time when exporting (fewer for tables with binary columns).
_FETCH_ROWS = 2000
_FETCH_ROWS_BINARY = 50


# -- columns and values ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # timestamp | date | bytes | json | int | bool | text
    nullable: bool


def _kind(column: Any) -> str:
    t = column.type
    if isinstance(t, Timestamp):
        return "timestamp"
    if isinstance(t, JSONText):
        return "json"
    if isinstance(t, LargeBinary):
        return "bytes"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Integer):
        return "int"
    if isinstance(t, _String):  # Text too
        return "text"
    raise TypeError(f"{column.table.name}.{column.name}: no export encoding for {t!r}")


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind == "date":
        return value.isoformat()
    if kind == "bytes":
        return {"$b64": base64.b64encode(value).decode("ascii")}
    return value


def _decode(kind: str, value: Any) -> Any:
    """The stored value of an exported one; :class:`ValueError` says what is wrong."""
    if value is None:
        return None
    if kind == "timestamp":
        if not isinstance(value, str):
            raise ValueError("应为 ISO 8601 时间字符串")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("时间缺少时区")
        return parsed
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError("应为 ISO 8601 日期字符串")
        return date.fromisoformat(value)
    if kind == "bytes":
        if not (isinstance(value, dict) and set(value) == {"$b64"}):
            raise ValueError('应为 {"$b64": "..."}')
        return base64.b64decode(value["$b64"], validate=True)
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError("应为整数")
    if kind == "bool" and not isinstance(value, bool):
        raise ValueError("应为 true 或 false")
    if kind == "text" and not isinstance(value, str):
        raise ValueError("应为字符串")
    return value


@dataclass(frozen=True)
class _TableSpec:
    table: Table
    columns: tuple[_Column, ...]
    #: Nullable foreign keys to the table itself (organisation.parent_id, proceeding.parent_id).
    self_refs: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def binary(self) -> bool:
        return any(c.kind == "bytes" for c in self.columns)


def _specs() -> list[_TableSpec]:
    specs = []
    for table in metadata.sorted_tables:
        columns = tuple(_Column(c.name, _kind(c), bool(c.nullable)) for c in table.columns)
        self_refs = tuple(
            fk.parent.name
            for fk in table.foreign_keys
            if fk.column.table is table and fk.parent.nullable
        )
        specs.append(_TableSpec(table, columns, self_refs))
    return specs


SPECS = _specs()
_BY_NAME = {s.name: s for s in SPECS}


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# -- masking --------------------------------------------------------------------------------


def _mask_party(row: dict[str, Any]) -> None:
    row["id_number"] = mask_id(row["id_number"]) or None
    row["phone"] = mask_phone(row["phone"]) or None
    row["address"] = mask_address(row["address"]) or None
    row["birth_date"] = None  # the digits the ID mask hides


def _mask_document(row: dict[str, Any]) -> None:
    row["content"] = {"$b64": ""}  # the rendered PDF shows the parties' data in full


def _mask_signature(row: dict[str, Any]) -> None:
    row["image"] = None


_MASKS = {"party": _mask_party, "document": _mask_document, "signature": _mask_signature}


# -- export ---------------------------------------------------------------------------------


@dataclass
class ExportSummary:
    """What an export wrote."""

    schema: str
    masked: bool
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    sha256: str = ""


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
) -> ExportSummary:
    """Write the whole database to ``out`` as JSON lines (see the module docstring).

    :param reveal: write personal data in full (needed to import the file elsewhere);
        recorded as an ``export`` access event by ``actor`` at ``now``.
    :raises SchemaError: when the database is not at the schema this version knows.
    """
    from mediation.storage.migrations import HEAD

    if reveal:
        if actor is None or now is None:
            raise ValueError("a revealing export is recorded: pass actor and now")
        store.require_current()
        _record_export(store, actor=actor, now=now)
    with store.snapshot() as conn:
        schema = conn.execute(sql_text("SELECT version_num FROM alembic_version")).scalar()
        if schema != HEAD:
            raise SchemaError(
                f"database schema is at revision {schema}, this version exports {HEAD}",
                hint="run `mediation db upgrade` first",
            )
        summary = ExportSummary(schema=schema, masked=not reveal)
        digest = hashlib.sha256()

        def put(line: bytes) -> None:
            digest.update(line)
            out.write(line)

        put(
            _dumps(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "schema": schema,
                    "masked": not reveal,
                    "tables": [s.name for s in SPECS],
                }
            )
        )
        for spec in SPECS:
            mask = None if reveal else _MASKS.get(spec.name)
            query = select(spec.table).order_by(*spec.table.primary_key.columns)
            per_fetch = _FETCH_ROWS_BINARY if spec.binary else _FETCH_ROWS
            n = 0
            for values in conn.execution_options(yield_per=per_fetch).execute(query):
                row = {
                    c.name: _encode(c.kind, v) for c, v in zip(spec.columns, values, strict=True)
                }
                if mask is not None:
                    mask(row)
                put(_dumps({"table": spec.name, "row": row}))
                n += 1
            summary.counts[spec.name] = n
            summary.rows += n
    summary.sha256 = digest.hexdigest()
    out.write(
        _dumps(
            {
                "end": FORMAT,
                "counts": summary.counts,
                "rows": summary.rows,
                "sha256": summary.sha256,
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
) -> ExportSummary:
    """:func:`export_jsonl` into a new file: written beside it and renamed when complete,
    so a failed export leaves no partial file; an existing file is never overwritten.

    :raises UsageError: when ``path`` exists.
    """
    if path.exists():
        raise UsageError(f"{path} exists", hint="choose a new file name; nothing is overwritten")
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as out:
            summary = export_jsonl(store, out, reveal=reveal, actor=actor, now=now)
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MediationError(
            f"cannot write {path}: {exc.strerror}",
            hint="check that the folder exists and is writable",
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary


# -- reading an export ----------------------------------------------------------------------


def _bad(source: str, where: str, problem: str, fix: str) -> ValidationError:
    return ValidationError([FieldProblem(where, problem, fix)], source=source)


_REEXPORT = "export the source database again (`mediation export --reveal -o FILE`)"


class _ExportReader:
    """The lines of an export, checked as they are read: the header first, then the data
    rows (:meth:`rows`), whose hash and counts must match the trailer at the end."""

    def __init__(self, stream: IO[bytes], source: str) -> None:
        self.stream, self.source = stream, source
        self.digest = hashlib.sha256()
        self.lineno = 1
        first = stream.readline()
        header = self._json(first) if first else None
        if not (isinstance(header, dict) and header.get("format") == FORMAT):
            raise _bad(
                source,
                "第1行",
                "不是 mediation 导出文件（缺少文件头）",
                "give a `mediation export` file",
            )
        if header.get("version") != VERSION:
            raise _bad(
                source,
                "第1行",
                f"导出格式版本 {header.get('version')!r} 不受支持（本版本读取 {VERSION}）",
                "import with the version of mediation that wrote the file",
            )
        if not isinstance(header.get("tables"), list) or not isinstance(header.get("schema"), str):
            raise _bad(source, "第1行", "文件头不完整", _REEXPORT)
        self.digest.update(first)
        self.header: dict[str, Any] = header
        self.trailer: dict[str, Any] | None = None

    @property
    def masked(self) -> bool:
        return self.header.get("masked") is not False

    def _json(self, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            cut = "" if raw.endswith(b"\n") else "（文件在此行中断）"
            raise _bad(
                self.source, f"第{self.lineno}行", f"不是有效的 JSON{cut}", _REEXPORT
            ) from None

    def rows(self) -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        """(line number, line length, table, row) of every data line; then the trailer
        is checked."""
        counts: Counter[str] = Counter()
        tables = set(self.header["tables"])
        for raw in self.stream:
            self.lineno += 1
            obj = self._json(raw)
            if isinstance(obj, dict) and "table" in obj:
                table, row = obj.get("table"), obj.get("row")
                if not isinstance(table, str) or table not in tables or not isinstance(row, dict):
                    raise _bad(
                        self.source, f"第{self.lineno}行", f"未知的表 {table!r} 或行内容", _REEXPORT
                    )
                self.digest.update(raw)
                counts[table] += 1
                yield self.lineno, len(raw), table, row
            elif isinstance(obj, dict) and obj.get("end") == FORMAT:
                self._check_trailer(obj, counts)
                return
            else:
                raise _bad(self.source, f"第{self.lineno}行", "既不是数据行也不是文件尾", _REEXPORT)
        raise _bad(
            self.source,
            f"第{self.lineno}行之后",
            "文件不完整：缺少文件尾（导出被中断或文件被截断）",
            _REEXPORT,
        )

    def _check_trailer(self, trailer: dict[str, Any], counts: Counter[str]) -> None:
        where = f"第{self.lineno}行（文件尾）"
        if trailer.get("sha256") != self.digest.hexdigest():
            raise _bad(
                self.source,
                where,
                "校验和不符：文件内容在导出后被修改或损坏",
                _REEXPORT,
            )
        expected = trailer.get("counts")
        found = {t: counts.get(t, 0) for t in self.header["tables"]}
        if (
            not isinstance(expected, dict)
            or {t: expected.get(t, 0) for t in self.header["tables"]} != found
        ):
            raise _bad(self.source, where, "各表行数与文件尾不符", _REEXPORT)
        if self.stream.read(1):
            raise _bad(self.source, where, "文件尾之后还有内容", _REEXPORT)
        self.trailer = trailer


def check_file(path: Path) -> dict[str, Any]:
    """Read an export through once without a database: its header, each line's JSON, the
    trailer's hash and counts. Returns the header.

    :raises ValidationError: naming the first problem (truncated, altered, not an export).
    """
    with _open(path) as stream:
        reader = _ExportReader(stream, str(path))
        for _ in reader.rows():
            pass
        return reader.header


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise UsageError(
            f"cannot read {path}: {exc.strerror}", hint="give the path of an export file"
        ) from None
    with stream:
        yield stream


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
    store: Store, source: Path | IO[bytes], *, name: str | None = None
) -> ImportSummary:
    """Load an export into ``store``, which must be at the same schema revision and empty.

    A file is checked through once before the database is touched; a stream (stdin) is
    checked as it is inserted. Either way every row goes in ONE transaction, which
    commits only when the trailer matched and the audit chains verify.

    :raises UsageError: a masked export, or a target that holds data.
    :raises SchemaError: the target, or the file, is not at this version's schema.
    :raises ValidationError: the file is truncated, altered or not an export.
    :raises TamperedError: the rows do not verify as the audit chains they carry.
    """
    if isinstance(source, Path):
        check_file(source)
        with _open(source) as stream:
            return _import(store, stream, str(source))
    return _import(store, source, name or "stdin")


def _import(store: Store, stream: IO[bytes], source: str) -> ImportSummary:
    from mediation.storage.migrations import HEAD

    reader = _ExportReader(stream, source)
    if reader.masked:
        raise UsageError(
            f"{source} is a masked export (personal data hidden); it cannot be moved",
            hint="export with --reveal to move a database: mediation export --reveal -o FILE",
        )
    schema = reader.header["schema"]
    if schema != HEAD:
        raise SchemaError(
            f"{source} holds schema revision {schema}; this version of mediation imports {HEAD}",
            hint="upgrade the source (`mediation db upgrade`) and export it again with this version",
        )
    if reader.header["tables"] != [s.name for s in SPECS]:
        raise SchemaError(
            f"{source} lists other tables than schema revision {HEAD} has",
            hint="export the source again with the same version of mediation as the target",
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
                hint="run `mediation audit verify` on the source database; the file may have "
                "been altered",
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
        if spec.table is not audit_head_table
        and conn.execute(select(spec.table.c[spec.columns[0].name]).limit(1)).first() is not None
    ]
    if any(h.seq != 0 or h.hash != audit.GENESIS for h in heads):
        busy.append(audit_head_table.name)
    if busy:
        raise UsageError(
            f"the target database {store.display_url} is not empty (rows in: {', '.join(busy)})",
            hint="import into a new database: `mediation --db NEW init`, then "
            "`mediation --db NEW import FILE` (init without --org-code)",
        )


class _Loader:
    """Inserts an export's rows in batches, ids and chain columns as they are."""

    def __init__(self, conn: Connection, reader: _ExportReader, summary: ImportSummary) -> None:
        self.conn, self.reader, self.summary = conn, reader, summary
        self.spec: _TableSpec | None = None
        self.batch: list[dict[str, Any]] = []
        self.batch_bytes = 0
        self.first_line = 0
        #: Links to a row later in the file, set once it exists: (table, id, column, value).
        self.forward: list[tuple[str, Any, str, Any]] = []

    def run(self) -> None:
        for lineno, size, table, row in self.reader.rows():
            spec = _BY_NAME[table]
            if (
                spec is not self.spec
                or len(self.batch) >= BATCH_ROWS
                or (self.batch_bytes >= BATCH_BYTES)
            ):
                self.flush()
                self.spec, self.first_line = spec, lineno
            self.batch.append(self._decode(spec, lineno, row))
            self.batch_bytes += size
            self.summary.counts[table] += 1
            self.summary.rows += 1
        self.flush()
        self._run("(links to later rows)", self._link_forward)

    def _link_forward(self) -> None:
        for name, pk, column, value in self.forward:
            table = _BY_NAME[name].table
            self.conn.execute(sql_update(table).where(table.c.id == pk).values({column: value}))

    def _decode(self, spec: _TableSpec, lineno: int, row: Mapping[str, Any]) -> dict[str, Any]:
        if len(row) != len(spec.columns) or any(c.name not in row for c in spec.columns):
            expected = ", ".join(c.name for c in spec.columns)
            raise _bad(
                self.reader.source,
                f"第{lineno}行",
                f"{spec.name} 的列不符（应为 {expected}）",
                _REEXPORT,
            )
        values: dict[str, Any] = {}
        for c in spec.columns:
            raw = row[c.name]
            if raw is None and not c.nullable:
                raise _bad(
                    self.reader.source, f"第{lineno}行 {spec.name}.{c.name}", "不能为空", _REEXPORT
                )
            try:
                values[c.name] = _decode(c.kind, raw)
            except ValueError as exc:
                raise _bad(
                    self.reader.source, f"第{lineno}行 {spec.name}.{c.name}", str(exc), _REEXPORT
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
        if table is audit_head_table:
            # The target's empty chain already has its head row: it takes the source's.
            def write_heads() -> None:
                for head in batch:
                    moved = self.conn.execute(
                        sql_update(table).where(table.c.id == head["id"]).values(head)
                    ).rowcount
                    if not moved:
                        self.conn.execute(insert(table).values(head))

            self._run(spec.name, write_heads)
        else:
            self._run(spec.name, lambda: self.conn.execute(insert(table), batch))

    def _run(self, table: str, write: Any) -> None:
        try:
            write()
        except DBAPIError as exc:
            message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise MediationError(
                f"import failed in table {table} (from line {self.first_line} of "
                f"{self.reader.source}): {message}; nothing was imported",
                hint="the file does not fit this database; export it again with this version",
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
