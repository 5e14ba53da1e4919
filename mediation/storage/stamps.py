"""What the PostgreSQL server vouches for: each entry's recording time and login, under a
MAC keyed with a secret only the owner reads (revision 0020).

The program computes an event's hash (:mod:`mediation.storage.audit`) with a public
function, so the chains alone cannot tell an event the program wrote from one appended or
re-linked, with its hash computed right, by anyone who can write the tables. On PostgreSQL
a trigger stamps every case event and access event as the server writes it, whatever the
client sent: ``recorded_at`` (the server's clock), ``recorded_by`` (``session_user``),
``recorded_by_owner`` (whether that login owns the tables or is a superuser: imports,
upgrades) and ``db_mac``, an HMAC-SHA256 over the entry's kind, id, hash and stamps under
the key in ``audit_mac_key``, which only the owner may read. A login without the owner's
rights thus gets a MAC only for the row it inserts now, in its own name, at the server's
time; the stamps never change afterwards.

:func:`check` asks the database (``mediation_audit_unvouched``, which checks MACs and never
computes one for a value passed in) for the entries

- whose MAC does not match: written or altered outside the trigger, i.e. beyond the
  rights of every login but the owner (an edited hash, a chain re-linked by hand, a row
  copied in with the trigger disabled);
- recorded by a login other than the owner with a program time (``occurred_at``) more than
  five minutes from the server's ``recorded_at``: a backdated (or post-dated) event. A
  person's login cannot write one (the recorder trigger, revision 0015); a service login
  can, and this shows it.

What remains: the owner (and superusers) can read the key and so write anything; a service
login may append an event for any user at the server's time (it is trusted to act for the
users it authenticated: see docs/admin/security.md). SQLite has none of this.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text

from mediation.domain.clock import BUSINESS_TZ
from mediation.i18n import _
from mediation.storage.audit import Problem

#: The tables whose rows the server stamps, and the columns it adds (not in the models).
STAMPED = ("event", "access_event")
COLUMNS = ("recorded_at", "recorded_by", "recorded_by_owner", "db_mac")
#: The key's table (the owner's only; not in the models).
KEY_TABLE = "audit_mac_key"

_UNVOUCHED = text(
    "SELECT entry, entry_id, mac_matches, occurred, recorded, login "
    "FROM mediation_audit_unvouched(:after)"
)
_EVENTS = text(
    "SELECT e.id, e.seq, e.proceeding_id, p.case_number FROM event e "
    "LEFT JOIN proceeding p ON p.id = e.proceeding_id WHERE e.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_ACCESS = text("SELECT id, action, actor FROM access_event WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def in_models(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's ``include_object`` when comparing the models with a database: the server's
    stamps and their key are PostgreSQL's own, not the models'."""
    if type_ == "table":
        return name != KEY_TABLE
    if type_ == "column" and reflected and compare_to is None:
        return not (name in COLUMNS and obj.table.name in STAMPED)
    return True


def check(conn: Connection, *, after: int | None = None, limit: int = 1000) -> list[Problem]:
    """The entries the server does not vouch for (see the module's text): all of them, or
    after chain position ``after`` (and the pending ones). Nothing on SQLite."""
    if conn.dialect.name != "postgresql":
        return []
    found = conn.execute(_UNVOUCHED, {"after": after}).all()[:limit]
    where = _places(conn, [r.entry_id for r in found if r.entry == "event"], events=True)
    where |= _places(conn, [r.entry_id for r in found if r.entry != "event"], events=False)
    problems = []
    for row in found:
        place = where.get((row.entry == "event", row.entry_id)) or _unseen(row)
        if not row.mac_matches:
            problems.append(
                Problem(
                    "mac",
                    place,
                    _(
                        "数据库的校验码不符：这条记录不是经数据库的触发器写入的，或写入后被改动"
                        "（只有表的所有者能这样做）"
                    ),
                )
            )
        else:
            problems.append(
                Problem(
                    "backdated",
                    place,
                    _(
                        "程序记录的时间 {occurred} 与数据库服务器写入它的时间 {recorded}"
                        "（登录 {login}）相差超过五分钟：记录的时间被倒签或预签"
                    ).format(
                        occurred=_when(row.occurred),
                        recorded=_when(row.recorded),
                        login=row.login,
                    ),
                )
            )
    return problems


def _places(conn: Connection, ids: Sequence[int], *, events: bool) -> dict[tuple[bool, int], str]:
    """Where each entry is, as the other problems say it (those the login may read)."""
    if not ids:
        return {}
    if events:
        return {
            (True, r.id): f"{r.case_number or f'proceeding {r.proceeding_id}'} "
            f"事件 #{r.seq}（event id {r.id}）"
            for r in conn.execute(_EVENTS, {"ids": list(ids)})
        }
    return {
        (False, r.id): f"访问记录 id {r.id}（{r.action}，{r.actor}）"
        for r in conn.execute(_ACCESS, {"ids": list(ids)})
    }


def _unseen(row: Any) -> str:
    """Where an entry is that the login may not read (row-level security)."""
    return f"{'event' if row.entry == 'event' else '访问记录'} id {row.entry_id}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "（无）"
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
