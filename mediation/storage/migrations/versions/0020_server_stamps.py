"""PostgreSQL: the database stamps every event with its own clock and login, and vouches for
it with a MAC keyed with a secret only the owner reads

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08

Until now the program computed an event's hash (``mediation.storage.audit``) with a public
function, so whoever could write the tables could append a well-formed event with a
correctly computed hash, dated as they pleased (a service login; a person's login is held to
its own name and the server's clock by the recorder trigger, revision 0015), and whoever
could also update the chain columns could re-link a dispute's chain and the head. From this
revision, on PostgreSQL:

- ``audit_mac_key`` holds a random key (SHA-256 of three ``gen_random_uuid()``, made by the
  server: no extension needed, the key never travels in a statement), stored as HMAC-SHA256's
  inner and outer pads. It belongs to the owner; every privilege on it is revoked from
  everyone else (also any that default privileges gave), and row-level security without a
  policy hides its row from any login granted it later. ``db grants`` revokes it again.
- ``event`` and ``access_event`` get ``recorded_at``, ``recorded_by``, ``recorded_by_owner``
  and ``db_mac``. A trigger (``mediation_stamp_entry``, SECURITY DEFINER, search path
  pinned) sets them on every insert, whatever the client sent: the server's
  ``clock_timestamp()``, ``session_user``, whether that login owns the table (or is a
  superuser: imports, upgrades, the tests), and the HMAC-SHA256 of the row's kind, id,
  program hash and those three stamps. An update never changes the stamps; the MAC is given
  again only when the hash is first set (an access event's hash covers its id, so the
  program sets it just after the insert). So a login without the owner's rights cannot make
  a MAC for any row but the one it inserts now, in its own name, at the server's time.
- ``mediation_audit_unvouched(after)`` (SECURITY DEFINER) lets any login *check* the MACs:
  it returns the entries (after chain position ``after``, and the pending ones) whose MAC
  does not match, and those recorded by a login other than the owner whose program time
  (``occurred_at``) is more than five minutes from the server's ``recorded_at``; it never
  computes a MAC for a value given to it. ``audit verify`` reports both
  (``mediation.storage.stamps``).

Rows that exist at upgrade time get their MAC here, from the login running the upgrade (the
owner), with no ``recorded_at`` (the server did not record their time). The columns and the
key table are PostgreSQL's only: they are not in the models, not exported (an import is
written by the owner, and the trigger stamps it again), and SQLite is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

#: The tables whose rows are stamped (mediation.storage.stamps.STAMPED).
_STAMPED = ("event", "access_event")

#: The key, and every grant on it except the owner's revoked (default privileges may have
#: given some); row-level security with no policy: a later grant shows no row either.
_KEY = """
CREATE TABLE audit_mac_key (
    id integer PRIMARY KEY CHECK (id = 1),
    inner_pad bytea NOT NULL,
    outer_pad bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
ALTER TABLE audit_mac_key ENABLE ROW LEVEL SECURITY;
DO $do$
DECLARE
    block bytea := sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                          || uuid_send(gen_random_uuid())) || decode(repeat('00', 32), 'hex');
    ipad bytea := block;
    opad bytea := block;
    other regrole;
BEGIN
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(block, i) # 54);  -- 0x36
        opad := set_byte(opad, i, get_byte(block, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO audit_mac_key (id, inner_pad, outer_pad) VALUES (1, ipad, opad);
    REVOKE ALL ON audit_mac_key FROM PUBLIC;
    FOR other IN
        SELECT DISTINCT a.grantee::regrole
        FROM pg_class c, aclexplode(c.relacl) AS a
        WHERE c.oid = 'audit_mac_key'::regclass AND a.grantee <> c.relowner AND a.grantee <> 0
    LOOP
        EXECUTE 'REVOKE ALL ON audit_mac_key FROM ' || other::text;
    END LOOP;
END
$do$;
"""

_FUNCTIONS = """
CREATE FUNCTION mediation_audit_mac(
    inner_pad bytea, outer_pad bytea, entry text, entry_id integer, hash text,
    recorded_at timestamptz, recorded_by text, recorded_by_owner boolean
) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    -- HMAC-SHA256 (RFC 2104) of one entry, given the key's pads: harmless without them.
    -- Every field is quoted or a number, so no two entries give the same text.
    SELECT encode(sha256(outer_pad || sha256(inner_pad || convert_to(
        entry || ' ' || entry_id::text || ' ' || quote_nullable(hash) || ' '
        || quote_nullable(to_char(recorded_at AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD"T"HH24:MI:SS.US'))
        || ' ' || quote_nullable(recorded_by_owner) || ' ' || quote_nullable(recorded_by),
        'UTF8'))), 'hex')
$fn$;

CREATE FUNCTION mediation_stamp_entry() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $fn$
DECLARE
    k record;
    owner boolean;
BEGIN
    -- Only the two tables' own triggers: attached to a table of a caller's own (a
    -- temporary "event", say) it would MAC what the caller chose, as the owner's.
    IF TG_RELID NOT IN ('event'::regclass, 'access_event'::regclass) THEN
        RAISE EXCEPTION 'mediation_stamp_entry 只用于 event 和 access_event 表'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT inner_pad, outer_pad INTO k FROM audit_mac_key WHERE id = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION '数据库的审计密钥（audit_mac_key）缺失：请表的所有者从备份恢复'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    owner := coalesce(
        pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
        OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false);
    -- A chain position is given once, by the seal (mediation_seal, run as the owner for
    -- any login), after the head: a login other than the owner cannot write an entry
    -- already positioned, move one, or place one at or before the head (where `audit
    -- verify --since` a checkpoint would not look).
    IF NOT owner THEN
        IF TG_OP = 'INSERT' THEN
            NEW.chain_seq := NULL;
        ELSIF NEW.chain_seq IS DISTINCT FROM OLD.chain_seq
              AND (OLD.chain_seq IS NOT NULL OR NEW.chain_seq IS NULL
                   OR NEW.chain_seq <= (SELECT seq FROM audit_head WHERE id = 1)) THEN
            RAISE EXCEPTION '审计链位置只能由封存（mediation_seal）在链头之后给出一次'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- The stamps never change; the MAC is given again only when the hash is first set:
        -- the MAC on record is the one given at insert, over no hash. (Clearing a hash and
        -- setting another keeps the MAC of the first, which then no longer matches.)
        NEW.recorded_at := OLD.recorded_at;
        NEW.recorded_by := OLD.recorded_by;
        NEW.recorded_by_owner := OLD.recorded_by_owner;
        IF OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.id IS DISTINCT FROM OLD.id
           OR OLD.db_mac IS DISTINCT FROM mediation_audit_mac(k.inner_pad, k.outer_pad,
               TG_TABLE_NAME, OLD.id, NULL, OLD.recorded_at, OLD.recorded_by,
               OLD.recorded_by_owner) THEN
            NEW.db_mac := OLD.db_mac;
            RETURN NEW;
        END IF;
    ELSE
        NEW.recorded_at := clock_timestamp();
        NEW.recorded_by := session_user::text;
        NEW.recorded_by_owner := owner;
    END IF;
    NEW.db_mac := mediation_audit_mac(k.inner_pad, k.outer_pad, TG_TABLE_NAME, NEW.id,
        NEW.hash, NEW.recorded_at, NEW.recorded_by, NEW.recorded_by_owner);
    RETURN NEW;
END
$fn$;

CREATE FUNCTION mediation_audit_unvouched(after integer DEFAULT NULL)
RETURNS TABLE (entry text, entry_id integer, mac_matches boolean, occurred timestamptz,
               recorded timestamptz, login text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
DECLARE
    k record;
BEGIN
    -- Entries after chain position `after` (all with NULL) and the pending ones whose MAC
    -- does not match, or that a login other than the owner recorded with a program time
    -- more than five minutes from the server's. Never a MAC of a value passed in.
    SELECT inner_pad, outer_pad INTO k FROM audit_mac_key WHERE id = 1;
    RETURN QUERY
    SELECT w.entry, w.entry_id, w.mac_matches, w.occurred, w.recorded, w.login FROM (
        SELECT 'event'::text AS entry, e.id AS entry_id,
            coalesce(e.db_mac = mediation_audit_mac(k.inner_pad, k.outer_pad, 'event', e.id,
                e.hash, e.recorded_at, e.recorded_by, e.recorded_by_owner), false) AS mac_matches,
            e.occurred_at AS occurred, e.recorded_at AS recorded, e.recorded_by AS login,
            e.recorded_by_owner AS by_owner
        FROM event e
        WHERE after IS NULL OR e.chain_seq > after OR e.chain_seq IS NULL
        UNION ALL
        SELECT 'access_event', a.id,
            coalesce(a.db_mac = mediation_audit_mac(k.inner_pad, k.outer_pad, 'access_event',
                a.id, a.hash, a.recorded_at, a.recorded_by, a.recorded_by_owner), false),
            a.occurred_at, a.recorded_at, a.recorded_by, a.recorded_by_owner
        FROM access_event a
        WHERE after IS NULL OR a.chain_seq > after OR a.chain_seq IS NULL
    ) AS w
    WHERE NOT w.mac_matches
       OR (w.by_owner IS NOT TRUE
           AND (w.recorded IS NULL OR w.occurred < w.recorded - interval '5 minutes'
                OR w.occurred > w.recorded + interval '5 minutes'))
    ORDER BY 1 DESC, 2;
END
$fn$;
"""

_TRIGGER = """
CREATE TRIGGER mediation_stamp BEFORE INSERT
    OR UPDATE OF id, hash, chain_seq, recorded_at, recorded_by, recorded_by_owner, db_mac
    ON {table}
FOR EACH ROW EXECUTE FUNCTION mediation_stamp_entry()
"""

#: The rows already there: vouched for by the login running the upgrade (the owner).
_EXISTING = """
UPDATE {table} SET recorded_by = session_user::text, recorded_by_owner = true,
    db_mac = mediation_audit_mac(k.inner_pad, k.outer_pad, '{table}', {table}.id,
        {table}.hash, NULL, session_user::text, true)
FROM audit_mac_key k WHERE k.id = 1
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    # pg_catalog first: nothing in the schema may stand in for a built-in (sha256 ...).
    path = f"pg_catalog, {_quote(schema)}, pg_temp"
    # No parameters: a percent sign would be taken for one.
    bind.exec_driver_sql(_KEY.replace("%", "%%"))
    bind.exec_driver_sql(_FUNCTIONS.format(path=path).replace("%", "%%"))
    # Its triggers fire whoever writes; nobody else may attach it to a table.
    bind.exec_driver_sql("REVOKE EXECUTE ON FUNCTION mediation_stamp_entry() FROM PUBLIC")
    for table in _STAMPED:
        bind.exec_driver_sql(
            f"ALTER TABLE {table} ADD COLUMN recorded_at timestamptz, "
            "ADD COLUMN recorded_by text, ADD COLUMN recorded_by_owner boolean, "
            "ADD COLUMN db_mac text"
        )
        bind.exec_driver_sql(_EXISTING.format(table=table))
        bind.exec_driver_sql(_TRIGGER.format(table=table))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in _STAMPED:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS mediation_stamp ON {table}")
        bind.exec_driver_sql(
            f"ALTER TABLE {table} DROP COLUMN IF EXISTS recorded_at, "
            "DROP COLUMN IF EXISTS recorded_by, DROP COLUMN IF EXISTS recorded_by_owner, "
            "DROP COLUMN IF EXISTS db_mac"
        )
    for function in (
        "mediation_audit_unvouched(integer)",
        "mediation_stamp_entry()",
        "mediation_audit_mac(bytea, bytea, text, integer, text, timestamptz, text, boolean)",
    ):
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS audit_mac_key")
