"""Audit checkpoints: the chain's head, signed, kept outside the database.

The audit chain's head lives in the same database as the history it vouches for, so
someone able to rewrite the whole chain and its head consistently is not caught by the
database alone. ``mediation audit checkpoint`` writes, after verifying everything, a small
JSON file with the chain's position and head hash, the highest document id, the time and
the database's identity, signed; kept elsewhere (another machine, a supervisor's mail),
it anchors the history up to that position:

- ``audit verify --since FILE`` checks the file's signature and database, that the entries
  after its position, folded onto its head, give the head stored now (so the chain still
  extends the checkpoint: an entry at or before it rewritten together with the head shows
  as a head that does not extend it), every entry after it against its own hash and its
  dispute's chain, and the state rows those entries touch (cases, documents added since,
  users, keys). Its cost follows the entries written since, not the database's size.
  An edit of an entry before the checkpoint that leaves the head alone is the full
  ``audit verify``'s to find; run it too, less often.

**Signature and identity.** Both are HMAC-SHA256 under keys derived from the
installation's secret (:mod:`mediation.storage.secret`): the identity, ``HMAC(secret,
"mediation database identity")``, names the database without revealing anything; the
signature covers every other field. The secret moves with a revealed export, and the
chain's head hash too, so a checkpoint taken before a move verifies after it. Whoever can
read the database can read the secret and so make a checkpoint of their own: what the
signature stops is a checkpoint file edited by someone who cannot, and a checkpoint
checked against the wrong database; the anchor itself is the copy kept out of their reach.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from mediation.errors import FieldProblem, SchemaError, TamperedError, ValidationError
from mediation.i18n import _
from mediation.storage._tables import audit_head_table, document_table, installation_secret_table

FORMAT = "mediation-audit-checkpoint"
#: The file format's version; a reader refuses versions it does not know.
VERSION = 1


@dataclass(frozen=True)
class AuditCheckpoint:
    """A signed record of the audit chain's head (``mediation audit checkpoint``).

    :ivar database: the database's identity (an HMAC of its installation secret).
    :ivar position: how many entries the database-wide chain held.
    :ivar head: the chain's head hash at that position.
    :ivar documents: the highest document id then (documents added since are checked).
    :ivar taken_at: when it was taken (UTC).
    :ivar signature: HMAC-SHA256 over the fields above.
    """

    database: str
    position: int
    head: str
    documents: int
    taken_at: datetime
    signature: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "format": FORMAT,
            "version": VERSION,
            **asdict(self),
            "taken_at": self.taken_at.isoformat(timespec="seconds"),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n"


def _secret(conn: Connection) -> bytes:
    found = conn.execute(
        select(installation_secret_table.c.secret).where(installation_secret_table.c.id == 1)
    ).scalar()
    if found is None:
        raise SchemaError(
            "数据库中没有本安装的密钥（installation_secret），无法签署或核对检查点",
            hint=_("请运行 `mediation db upgrade`；如该行被删除，请从备份恢复"),
        )
    return bytes.fromhex(found)


def _mac(secret: bytes, label: str, message: bytes) -> str:
    key = hmac.new(secret, f"mediation {label}".encode(), "sha256").digest()
    return hmac.new(key, message, "sha256").hexdigest()


def database_identity(conn: Connection) -> str:
    """The database's identity: stable across moves (the secret moves with the data)."""
    return _mac(_secret(conn), "database identity", b"")[:32]


def _signed(cp: AuditCheckpoint) -> bytes:
    fields = cp.as_dict()
    fields.pop("signature")
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(conn: Connection, cp: AuditCheckpoint) -> AuditCheckpoint:
    return replace(cp, signature=_mac(_secret(conn), "audit checkpoint", _signed(cp)))


def take(conn: Connection, *, now: datetime) -> AuditCheckpoint:
    """The checkpoint of the chain as ``conn`` sees it (a snapshot the caller verified)."""
    head = conn.execute(
        select(audit_head_table.c.seq, audit_head_table.c.hash).where(audit_head_table.c.id == 1)
    ).first()
    if head is None:
        raise TamperedError(
            "审计链的链头记录缺失，不能生成检查点",
            hint=_("请运行 `mediation audit verify`，并从备份恢复数据库"),
        )
    documents = conn.execute(select(func.max(document_table.c.id))).scalar() or 0
    cp = AuditCheckpoint(
        database=database_identity(conn),
        position=int(head.seq),
        head=str(head.hash),
        documents=int(documents),
        taken_at=now.astimezone(UTC).replace(microsecond=0),
    )
    return sign(conn, cp)


def parse(raw: bytes, source: str) -> AuditCheckpoint:
    """A checkpoint file's content, its form checked (not yet its signature).

    :raises ValidationError: when it is not a checkpoint file of this format.
    """

    def bad(problem: str) -> ValidationError:
        fix = _("请给出由 mediation audit checkpoint 写出、未经改动的文件")
        return ValidationError([FieldProblem("--since", problem, fix)], source=source)

    try:
        data = json.loads(raw)
    except ValueError:
        raise bad("不是有效的 JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("不是审计检查点文件")
    if data.get("version") != VERSION:
        raise bad(f"检查点格式版本 {data.get('version')!r} 不受支持（本版本读取 {VERSION}）")
    try:
        taken = datetime.fromisoformat(data["taken_at"])
        cp = AuditCheckpoint(
            database=str(data["database"]),
            position=data["position"],
            head=str(data["head"]),
            documents=data["documents"],
            taken_at=taken,
            signature=str(data["signature"]),
        )
    except (KeyError, TypeError, ValueError):
        raise bad("检查点文件缺少字段或字段格式不对") from None
    if (
        type(cp.position) is not int
        or type(cp.documents) is not int
        or cp.position < 0
        or taken.tzinfo is None
        or len(cp.head) != 64
    ):
        raise bad("检查点文件的字段格式不对")
    return cp


def check(conn: Connection, cp: AuditCheckpoint) -> None:
    """Refuse a checkpoint of another database, or one whose signature does not match.

    :raises TamperedError: either way (exit 10), nothing else checked.
    """
    if not hmac.compare_digest(cp.database, database_identity(conn)):
        raise TamperedError(
            "检查点不属于本数据库（数据库标识不符）",
            hint=_(
                "请给出在本数据库（或其迁出的数据库）上用 `mediation audit checkpoint` 写出的检查点"
            ),
        )
    if not hmac.compare_digest(cp.signature, sign(conn, cp).signature):
        raise TamperedError(
            "检查点的签名不符：检查点文件在生成后被修改过",
            hint=_("请使用保存在安全处的检查点副本，并运行完整的 `mediation audit verify`"),
        )
