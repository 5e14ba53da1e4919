"""The steps the flows allow, in the database: ``flow_edge`` (revision 0019).

The flows are code (:mod:`mediation.workflows`); a trigger on ``event`` refuses a row for
a step its case's flow does not have, so the database must know the steps. They are
written by :func:`refresh`, run by every ``mediation db upgrade`` / ``init`` (the owner's
commands, after an update of the program), replacing what an earlier version wrote.

The steps are those ``audit verify`` checks (:mod:`mediation.storage.consistency`): each
transition from each of its sources; each entry into a flow (from no state, ``source``
``""``); each in-place action of the engine (a signature, a correction...) from any state
to itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

_COLUMNS = ("flow", "trigger", "source", "dest")
#: The table as revision 0019 made it (not the current models: a migration calls this).
_FLOW_EDGE = sa.table("flow_edge", *(sa.column(name, sa.String()) for name in _COLUMNS))
#: PostgreSQL: the rows in one statement, as four arrays.
_INSERT_ARRAYS = sa.text(
    "INSERT INTO flow_edge (flow, trigger, source, dest) SELECT * FROM unnest("
    "CAST(:flow AS text[]), CAST(:trigger AS text[]), CAST(:source AS text[]), "
    "CAST(:dest AS text[]))"
)


def steps() -> set[tuple[str, str, str, str]]:
    """(flow, trigger, source, dest) of every step the code's flows allow."""
    from mediation.storage.consistency import IN_PLACE, _edges, _entries
    from mediation.workflows import flow_names, get_flow

    found: set[tuple[str, str, str, str]] = set()
    for name in flow_names():
        found |= {(name, trigger, source, dest) for trigger, source, dest in _edges(name)}
        for trigger, entered in _entries(name).items():
            found |= {(name, trigger, "", dest) for dest in entered}
        states = [s.name for s in get_flow(name).states]
        found |= {(name, trigger, s, s) for trigger in IN_PLACE for s in states}
    return found


def refresh(conn: Connection) -> int:
    """Make ``flow_edge`` hold exactly the code's steps (in ``conn``'s transaction);
    return how many rows changed."""
    wanted = steps()
    held = {tuple(r) for r in conn.execute(sa.select(_FLOW_EDGE))}
    gone, new = held - wanted, wanted - held
    for flow, trigger, source, dest in gone:
        conn.execute(
            sa.delete(_FLOW_EDGE).where(
                _FLOW_EDGE.c.flow == flow,
                _FLOW_EDGE.c.trigger == trigger,
                _FLOW_EDGE.c.source == source,
                _FLOW_EDGE.c.dest == dest,
            )
        )
    if new:
        rows = sorted(new)
        if conn.dialect.name == "postgresql":
            # One statement for the ~2,000 rows (a row a statement costs the server a parse
            # and an execution each: most of a fresh migration's time).
            columns = {name: [row[i] for row in rows] for i, name in enumerate(_COLUMNS)}
            conn.execute(_INSERT_ARRAYS, columns)
        else:
            conn.execute(
                sa.insert(_FLOW_EDGE), [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
            )
    return len(gone) + len(new)
