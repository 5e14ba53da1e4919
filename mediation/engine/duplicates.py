"""The same dispute registered twice: at intake, the open cases whose parties and
dispute type are those of the new record (a dispute reported through two channels, or by
each side at a different committee). The intake still goes ahead; the caller warns.

A party is the same person by ID number when both records have one, else by name. The
lookup is by index (``ix_party_id_number``, ``ix_party_name``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, union

from mediation.domain.intake import Intake
from mediation.storage._tables import (
    dispute_table,
    organisation_table,
    party_table,
    proceeding_table,
)

#: The disputes with a party of one of the ID numbers or names: one index lookup each (a
#: union, not an OR: with an OR PostgreSQL scans every dispute of the type when its
#: statistics are stale, as in a bulk import's own transaction, which grew quadratic).
_MATCHING = union(
    select(party_table.c.dispute_id).where(
        party_table.c.id_number.in_(bindparam("ids", expanding=True))
    ),
    select(party_table.c.dispute_id).where(
        party_table.c.name.in_(bindparam("names", expanding=True))
    ),
).subquery()
#: Those of the record's type.
_CANDIDATES = (
    select(dispute_table.c.id)
    .join(_MATCHING, _MATCHING.c.dispute_id == dispute_table.c.id)
    .where(dispute_table.c.dispute_type == bindparam("dispute_type"))
    .limit(200)
)
#: The parties of those disputes.
_PARTIES = select(party_table.c.dispute_id, party_table.c.id_number, party_table.c.name).where(
    party_table.c.dispute_id.in_(bindparam("disputes", expanding=True))
)
#: The open cases of the disputes found the same.
_OPEN_CASES = (
    select(proceeding_table.c.case_number, organisation_table.c.code)
    .join(organisation_table, organisation_table.c.id == proceeding_table.c.organisation_id)
    .where(
        proceeding_table.c.dispute_id.in_(bindparam("disputes", expanding=True)),
        proceeding_table.c.closed_at.is_(None),
    )
    .order_by(proceeding_table.c.id)
)


def _same(a: tuple[str | None, str], b: tuple[str | None, str]) -> bool:
    if a[0] and b[0]:
        return a[0] == b[0]
    return a[1] == b[1]


def open_duplicates(conn: Connection, record: Intake) -> list[dict[str, Any]]:
    """The open cases (case number, organisation code) of disputes of ``record``'s type
    whose parties are ``record``'s parties."""
    new = [(p.id_number, p.name) for p in record.parties]
    if not new:
        return []
    ids = sorted({i for i, _ in new if i})
    names = sorted({n for _, n in new})
    wanted = {"ids": ids, "names": names, "dispute_type": record.dispute_type}
    dispute_ids = list(conn.execute(_CANDIDATES, wanted).scalars())
    if not dispute_ids:
        return []
    parties: dict[int, list[tuple[str | None, str]]] = {}
    for row in conn.execute(_PARTIES, {"disputes": dispute_ids}):
        parties.setdefault(row.dispute_id, []).append((row.id_number, row.name))
    same = [
        d
        for d, old in parties.items()
        if all(any(_same(n, o) for o in old) for n in new)
        and all(any(_same(o, n) for n in new) for o in old)
    ]
    if not same:
        return []
    rows = conn.execute(_OPEN_CASES, {"disputes": same})
    return [{"case_number": r.case_number, "organisation": r.code} for r in rows]
