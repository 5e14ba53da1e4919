"""Finding a case by what users call it: its case number or its internal id.

Kept apart from the engine so that read-only commands do not load it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from mediation.errors import NotFoundError
from mediation.storage._tables import proceeding_table


def resolve(conn: Connection, ref: str | int) -> tuple[int, int]:
    """(proceeding id, version) of a case given by case number or internal id.

    :raises NotFoundError: naming what was looked for.
    """
    ref_text = str(ref).strip()
    if ref_text.isascii() and ref_text.isdigit() and len(ref_text) <= 15:
        cond = proceeding_table.c.id == int(ref_text)
    else:
        cond = proceeding_table.c.case_number == ref_text
    row = conn.execute(
        select(proceeding_table.c.id, proceeding_table.c.version).where(cond)
    ).first()
    if row is None:
        raise NotFoundError(
            f"no case {ref_text!r}",
            hint="give the case number, e.g. （2026）城关人调字第1号, or the id from `mediation case list`",
        )
    return row.id, row.version
