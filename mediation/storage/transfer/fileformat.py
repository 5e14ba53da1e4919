"""The export file's format: its header and trailer, how each column's values are
written and read back, the tables in foreign-key order, and reading a file line by line
with every check (:class:`ExportReader`, :func:`check_file`)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Boolean, Date, Integer, LargeBinary, Table
from sqlalchemy import String as _String

from mediation.domain.clock import UTC
from mediation.errors import FieldProblem, UsageError, ValidationError
from mediation.i18n import _, os_error
from mediation.storage._tables import metadata
from mediation.storage._types import JSONText, Timestamp
from mediation.storage.transfer.signature import PASSPHRASE_ENV, Signer, signer_for

FORMAT = "mediation-export"
#: The file format's version; a reader refuses versions it does not know. Version 2 adds
#: the signature (``signature`` in the header, ``hmac`` in the trailer).
VERSION = 2


# -- columns and values ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
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


def encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "timestamp":
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind == "date":
        return value.isoformat()
    if kind == "bytes":
        return {"$b64": base64.b64encode(value).decode("ascii")}
    return value


def decode(kind: str, value: Any) -> Any:
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
class TableSpec:
    table: Table
    columns: tuple[Column, ...]
    #: Nullable foreign keys to the table itself (organisation.parent_id, proceeding.parent_id).
    self_refs: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def binary(self) -> bool:
        return any(c.kind == "bytes" for c in self.columns)


#: Tables an export leaves out because ``db upgrade`` derives them from the code: the steps
#: of the flows (mediation.storage.flow_edges).
DERIVED = frozenset({"flow_edge"})


def _specs() -> list[TableSpec]:
    specs = []
    for table in metadata.sorted_tables:
        if table.name in DERIVED:
            continue
        columns = tuple(Column(c.name, _kind(c), bool(c.nullable)) for c in table.columns)
        self_refs = tuple(
            fk.parent.name
            for fk in table.foreign_keys
            if fk.column.table is table and fk.parent.nullable
        )
        specs.append(TableSpec(table, columns, self_refs))
    return specs


SPECS = _specs()
BY_NAME = {s.name: s for s in SPECS}


def dumps(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# -- reading an export ----------------------------------------------------------------------


def bad(source: str, where: str, problem: str, fix: str) -> ValidationError:
    return ValidationError([FieldProblem(where, problem, fix)], source=source)


REEXPORT = "export the source database again (`mediation export --reveal -o FILE`)"


class ExportReader:
    """The lines of an export, checked as they are read: the header first, then the data
    rows (:meth:`rows`), whose hash and counts must match the trailer at the end, and,
    given a ``passphrase``, the signature too (:meth:`require_signature`)."""

    def __init__(self, stream: IO[bytes], source: str, *, passphrase: str | None = None) -> None:
        self.stream, self.source = stream, source
        self.digest = hashlib.sha256()
        self.lineno = 1
        first = stream.readline()
        header = self._json(first) if first else None
        if not (isinstance(header, dict) and header.get("format") == FORMAT):
            raise bad(
                source,
                "第1行",
                "不是 mediation 导出文件（缺少文件头）",
                "give a `mediation export` file",
            )
        if header.get("version") == 1:
            raise bad(
                source,
                "第1行",
                "导出文件没有签名（由旧版本写出），不能确认它在导出后未被修改",
                f"export the source again with this version and {PASSPHRASE_ENV} set",
            )
        if header.get("version") != VERSION:
            raise bad(
                source,
                "第1行",
                f"导出格式版本 {header.get('version')!r} 不受支持（本版本读取 {VERSION}）",
                "import with the version of mediation that wrote the file",
            )
        if not isinstance(header.get("tables"), list) or not isinstance(header.get("schema"), str):
            raise bad(source, "第1行", "文件头不完整", REEXPORT)
        self.digest.update(first)
        self.header: dict[str, Any] = header
        self.trailer: dict[str, Any] | None = None
        self.signer: Signer | None = None
        if passphrase is not None and self.signed:
            self.verify_with(passphrase)

    @property
    def signed(self) -> bool:
        return self.header.get("signature") is not None

    def verify_with(self, passphrase: str) -> None:
        """Check the signature at the trailer with ``passphrase``'s key; refuse an
        unsigned export, or one signed in a way this version does not write."""
        if not self.signed:
            raise bad(
                self.source,
                "第1行",
                "导出文件没有签名，不能确认它在导出后未被修改",
                f"export the source again with {PASSPHRASE_ENV} set (`mediation export --reveal`)",
            )
        self.signer = signer_for(self.header["signature"], passphrase)
        if self.signer is None:
            raise bad(self.source, "第1行", "文件头中的签名参数无法识别", REEXPORT)

    @property
    def masked(self) -> bool:
        return self.header.get("masked") is not False

    def _json(self, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            cut = "" if raw.endswith(b"\n") else "（文件在此行中断）"
            raise bad(
                self.source, f"第{self.lineno}行", f"不是有效的 JSON{cut}", REEXPORT
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
                    raise bad(
                        self.source, f"第{self.lineno}行", f"未知的表 {table!r} 或行内容", REEXPORT
                    )
                self.digest.update(raw)
                counts[table] += 1
                yield self.lineno, len(raw), table, row
            elif isinstance(obj, dict) and obj.get("end") == FORMAT:
                self._check_trailer(obj, counts)
                return
            else:
                raise bad(self.source, f"第{self.lineno}行", "既不是数据行也不是文件尾", REEXPORT)
        raise bad(
            self.source,
            f"第{self.lineno}行之后",
            "文件不完整：缺少文件尾（导出被中断或文件被截断）",
            REEXPORT,
        )

    def _check_trailer(self, trailer: dict[str, Any], counts: Counter[str]) -> None:
        where = f"第{self.lineno}行（文件尾）"
        if trailer.get("sha256") != self.digest.hexdigest():
            raise bad(
                self.source,
                where,
                "校验和不符：文件内容在导出后被修改或损坏",
                REEXPORT,
            )
        if self.signer is not None and not self.signer.matches(
            self.digest.hexdigest(), trailer.get("hmac")
        ):
            raise bad(
                self.source,
                where,
                "签名不符：文件在导出后被修改过，或导入时的口令与导出时不同",
                f"check {PASSPHRASE_ENV} against the exporting admin's; else {REEXPORT}",
            )
        expected = trailer.get("counts")
        found = {t: counts.get(t, 0) for t in self.header["tables"]}
        if (
            not isinstance(expected, dict)
            or {t: expected.get(t, 0) for t in self.header["tables"]} != found
        ):
            raise bad(self.source, where, "各表行数与文件尾不符", REEXPORT)
        if self.stream.read(1):
            raise bad(self.source, where, "文件尾之后还有内容", REEXPORT)
        self.trailer = trailer


def check_file(path: Path, *, passphrase: str | None = None) -> dict[str, Any]:
    """Read an export through once without a database: its header, each line's JSON, the
    trailer's hash and counts, and with ``passphrase`` its signature. Returns the header.

    :raises ValidationError: naming the first problem (truncated, altered, not an export).
    """
    with open_export(path) as stream:
        reader = ExportReader(stream, str(path), passphrase=passphrase)
        for _row in reader.rows():
            pass
        return reader.header


@contextmanager
def open_export(path: Path) -> Iterator[IO[bytes]]:
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise UsageError(
            _("无法读取 {path}：{why}").format(path=path, why=os_error(exc)),
            hint=_("请给出导出文件的路径"),
        ) from None
    with stream:
        yield stream
