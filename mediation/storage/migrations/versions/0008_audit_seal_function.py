"""The database-wide chain is sealed after commit on PostgreSQL: mediation_seal()

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

Until 0007 every write transaction folded its entries into ``audit_head`` before it
committed, so on PostgreSQL the head's row lock was held through each commit and all
writers queued behind it. From 0008 a transaction writes its events already linked into
their disputes' chains (under the dispute's row lock) and commits; the server-side
function below then gives every committed, not yet positioned entry its place in the
database-wide chain and folds it into the head, in a short transaction of its own. See
``mediation.storage.audit`` for the whole design. SQLite keeps sealing inside the write
transaction (its writers are serialised anyway), so there is nothing to create there.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


#: wait=false: return -1 at once when another session holds the head (the caller then
#: waits for it with wait=true: see mediation.storage.store.Store.write). The function runs with
#: the caller's rights (the application role may set the chain columns), and commits
#: durably like any write: a head hash once read must never change.
SEAL_FUNCTION = """
CREATE OR REPLACE FUNCTION mediation_seal(wait boolean DEFAULT false) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    head_seq integer;
    head_hash text;
    sealed integer := 0;
    pass integer;
    entry record;
BEGIN
    IF wait THEN
        SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    ELSE
        SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1
            FOR UPDATE SKIP LOCKED;
    END IF;
    IF NOT FOUND THEN
        RETURN -1;
    END IF;
    LOOP  -- again until a pass finds nothing: entries committed meanwhile are taken too
        pass := 0;
        FOR entry IN
            SELECT 1 AS kind, id, hash FROM event
                WHERE chain_seq IS NULL AND hash IS NOT NULL
            UNION ALL
            SELECT 2, id, hash FROM access_event
                WHERE chain_seq IS NULL AND hash IS NOT NULL
            ORDER BY 1, 2
        LOOP
            head_seq := head_seq + 1;
            head_hash := encode(sha256(convert_to(head_hash || entry.hash, 'UTF8')), 'hex');
            IF entry.kind = 1 THEN
                UPDATE event SET chain_seq = head_seq WHERE id = entry.id;
            ELSE
                UPDATE access_event SET chain_seq = head_seq WHERE id = entry.id;
            END IF;
            pass := pass + 1;
        END LOOP;
        EXIT WHEN pass = 0;
        sealed := sealed + pass;
    END LOOP;
    IF sealed > 0 THEN
        UPDATE audit_head SET seq = head_seq, hash = head_hash, updated_at = now() WHERE id = 1;
    END IF;
    RETURN sealed;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(SEAL_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # 0007's code seals in the writing transaction and knows no pending entries.
        op.get_bind().exec_driver_sql("SELECT mediation_seal(true)")
        op.execute("DROP FUNCTION IF EXISTS mediation_seal(boolean)")
