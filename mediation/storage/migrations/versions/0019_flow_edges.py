"""The database refuses an event for a step its case's flow does not have

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Until now only ``audit verify`` found an event for a step the flow lacks (an
``accepted → agreed`` appended by hand, with its hash computed right): the database took
it. This revision adds ``flow_edge``, the steps the flows allow (filled from the code by
``mediation db upgrade``, which the owner runs after every update: see
``mediation.storage.flow_edges``), and a trigger on ``event`` that refuses a row whose
(flow, trigger, from state, to state) is not among them. On PostgreSQL the application's
roles may read the table, not write it, nor drop the trigger; on SQLite whoever holds the
file can, and ``audit verify`` still checks every step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

#: The trigger's message: mediation.commands._common turns it into a Chinese refusal.
MESSAGE = "mediation: not a step of its flow"

_SQLITE_TRIGGER = f"""
CREATE TRIGGER event_is_a_step_of_its_flow BEFORE INSERT ON event
WHEN NOT EXISTS (
    SELECT 1 FROM flow_edge JOIN proceeding ON proceeding.flow = flow_edge.flow
    WHERE proceeding.id = NEW.proceeding_id
      AND flow_edge.trigger = NEW.trigger
      AND flow_edge.source = coalesce(NEW.from_state, '')
      AND flow_edge.dest = NEW.to_state
)
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END
"""

_PG_FUNCTION = f"""
CREATE FUNCTION mediation_event_is_a_step() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM flow_edge JOIN proceeding ON proceeding.flow = flow_edge.flow
        WHERE proceeding.id = NEW.proceeding_id
          AND flow_edge.trigger = NEW.trigger
          AND flow_edge.source = coalesce(NEW.from_state, '')
          AND flow_edge.dest = NEW.to_state
    ) THEN
        RAISE EXCEPTION '{MESSAGE}: % % → %', NEW.trigger, coalesce(NEW.from_state, '-'),
            NEW.to_state USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$
"""

_PG_TRIGGER = """
CREATE TRIGGER event_is_a_step_of_its_flow BEFORE INSERT ON event
FOR EACH ROW EXECUTE FUNCTION mediation_event_is_a_step()
"""


def upgrade() -> None:
    op.create_table(
        "flow_edge",
        sa.Column("flow", sa.String(40), primary_key=True, nullable=False),
        sa.Column("trigger", sa.String(60), primary_key=True, nullable=False),
        sa.Column("source", sa.String(60), primary_key=True, nullable=False),
        sa.Column("dest", sa.String(60), primary_key=True, nullable=False),
    )
    # The steps of the flows as this revision's code has them; `db upgrade` refreshes them
    # from the code of every later version (mediation.storage.flow_edges.refresh).
    from mediation.storage.flow_edges import refresh

    refresh(op.get_bind())
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_TRIGGER)
    else:
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER event_is_a_step_of_its_flow")
    else:
        op.execute("DROP TRIGGER event_is_a_step_of_its_flow ON event")
        op.execute("DROP FUNCTION mediation_event_is_a_step()")
    op.drop_table("flow_edge")
