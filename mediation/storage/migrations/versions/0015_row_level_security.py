"""PostgreSQL: row-level security on the case tables, and the database checks each event's
actor and recording time

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-06

Every person has their own database login (``mediation user add`` makes it, see
``mediation.storage.pgroles``); from this revision the database itself scopes what such a
login reads and writes, whatever the program it runs:

- **Who sees what** (the login's ``app_user`` row, looked up from ``session_user`` by the
  functions below, which run as the schema's owner with their search path pinned):

  - a login without a user row is a *service* (the application role the scheduler and a
    web service run as, granted by ``mediation db grants``): every case;
  - a supervisor or an admin: every case; staff and mediators read and write their
    organisation's cases and the cases assigned to them by login (``proceeding.mediator``
    / ``mediators``), and read the rest of those cases' disputes (their history is one
    chain); an inactive user nothing. A case handed off from one of a login's cases stays
    writable to it (the hand-off writes the new case).

  The schema owner (table owner) and superusers are not subject to row-level security.
- **Who recorded an event, and when**: a trigger on ``event`` and ``access_event`` refuses a
  row written by a person's login whose ``actor`` is not that login (an admin may act for
  another user: the program records that as an ``act_for`` access event; a supervisor may
  run the scheduler, which records as ``scheduler``), or whose
  ``occurred_at`` is not the server's clock (within a minute). The hash of an event is
  computed over the stored values by the program before it inserts the row, so the trigger
  checks and never rewrites them: the chain still verifies.
- The database-wide seal (``mediation_seal``, revision 0008) runs as the owner, so a login
  that sees only some pending entries still seals all of them, in order.

SQLite has none of this (one machine: the operating system's accounts are the boundary).
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

#: (table, how a row names its case) for the tables scoped through a proceeding.
_BY_PROCEEDING = ("deadline", "document", "signature", "outbox")

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION mediation_login_groups() RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    -- The prefix of the group roles of per-person logins: NULL until `mediation db grants`
    -- (mediation.storage.pgroles.grants_sql) sets them up and replaces this function.
    SELECT NULL::text
$fn$;

CREATE OR REPLACE FUNCTION mediation_scope() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    -- all: every case; own: its organisation's and assigned cases; none.
    SELECT CASE
        WHEN u.login IS NULL THEN 'all'
        WHEN NOT u.active THEN 'none'
        WHEN u.roles::jsonb ?| array['supervisor', 'admin'] THEN 'all'
        ELSE 'own'
    END
    FROM (SELECT session_user::text AS me) AS s LEFT JOIN app_user u ON u.login = s.me
$fn$;

CREATE OR REPLACE FUNCTION mediation_case_mine(org integer, mediator text, mediators text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    -- The login's organisation's case, or one assigned to the login.
    SELECT EXISTS (
        SELECT 1 FROM app_user u
        WHERE u.login = session_user::text AND u.active
          AND (u.organisation_id = org OR u.login = mediator
               OR coalesce(mediators, '[]')::jsonb ? u.login)
    )
$fn$;

CREATE OR REPLACE FUNCTION mediation_writes_case(pid integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    -- The case is the login's, or was handed off from one of the login's cases.
    SELECT coalesce(bool_or(
        mediation_case_mine(p.organisation_id, p.mediator, p.mediators)
        OR (f.id IS NOT NULL AND mediation_case_mine(f.organisation_id, f.mediator, f.mediators))
    ), false)
    FROM proceeding p LEFT JOIN proceeding f ON f.id = p.parent_id
    WHERE p.id = pid
$fn$;

CREATE OR REPLACE FUNCTION mediation_reaches_dispute(did integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    -- The login recorded the dispute, or one of its cases is the login's.
    SELECT EXISTS (SELECT 1 FROM dispute d WHERE d.id = did AND d.created_by = session_user::text)
        OR EXISTS (
            SELECT 1 FROM proceeding p
            WHERE p.dispute_id = did
              AND mediation_case_mine(p.organisation_id, p.mediator, p.mediators)
        )
$fn$;

CREATE OR REPLACE FUNCTION mediation_reads_case(pid integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    SELECT coalesce(bool_or(mediation_reaches_dispute(p.dispute_id)), false)
    FROM proceeding p WHERE p.id = pid
$fn$;

CREATE OR REPLACE FUNCTION mediation_check_recorder() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $fn$
DECLARE
    me text := session_user::text;
    who record;
BEGIN
    -- The owner (imports, upgrades) and superusers write history as recorded elsewhere.
    IF pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RETURN NEW;
    END IF;
    SELECT login, active, roles::jsonb AS roles INTO who FROM app_user WHERE login = me;
    IF NOT FOUND THEN
        RETURN NEW;  -- a service login (the scheduler, a web service) records for others
    END IF;
    -- An admin may act for another user (recorded as act_for); a supervisor may run the
    -- scheduler, which records as 'scheduler' (mediation.engine.scheduler.SCHEDULER_ACTOR).
    IF NEW.actor IS DISTINCT FROM me
       AND NOT (who.active AND who.roles ? 'admin')
       AND NOT (NEW.actor = 'scheduler' AND who.active AND who.roles ? 'supervisor') THEN
        RAISE EXCEPTION 'mediation: actor % is not the login %', NEW.actor, me
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'a login records only its own actions';
    END IF;
    IF NEW.occurred_at < now() - interval '1 minute'
       OR NEW.occurred_at > clock_timestamp() + interval '1 minute' THEN
        RAISE EXCEPTION 'mediation: recording time % is not the server clock (%)',
            NEW.occurred_at, clock_timestamp()
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'the recording time of a login''s event is the server''s clock';
    END IF;
    RETURN NEW;
END
$fn$;
"""

_ALL = "(SELECT mediation_scope()) = 'all'"
_MINE = "mediation_case_mine(organisation_id, mediator, mediators)"
_HANDED = "(parent_id IS NOT NULL AND mediation_writes_case(parent_id))"

#: table → (read, insert, update-using, update-check)
_POLICIES: dict[str, tuple[str, str, str, str]] = {
    "proceeding": (
        f"{_ALL} OR {_MINE} OR mediation_reaches_dispute(dispute_id)",
        f"{_ALL} OR {_MINE} OR {_HANDED}",
        f"{_ALL} OR mediation_writes_case(id)",
        f"{_ALL} OR {_MINE} OR {_HANDED}",
    ),
    "dispute": (
        f"{_ALL} OR created_by = session_user::text OR mediation_reaches_dispute(id)",
        f"{_ALL} OR created_by = session_user::text",
        f"{_ALL} OR mediation_reaches_dispute(id)",
        f"{_ALL} OR mediation_reaches_dispute(id)",
    ),
    "party": (
        f"{_ALL} OR mediation_reaches_dispute(dispute_id)",
        f"{_ALL} OR mediation_reaches_dispute(dispute_id)",
        f"{_ALL} OR mediation_reaches_dispute(dispute_id)",
        f"{_ALL} OR mediation_reaches_dispute(dispute_id)",
    ),
    "event": (
        f"{_ALL} OR mediation_reaches_dispute(dispute_id)",
        f"{_ALL} OR mediation_writes_case(proceeding_id)",
        _ALL,
        _ALL,
    ),
    **{
        table: (
            f"{_ALL} OR mediation_reads_case(proceeding_id)",
            f"{_ALL} OR mediation_writes_case(proceeding_id)",
            f"{_ALL} OR mediation_writes_case(proceeding_id)",
            f"{_ALL} OR mediation_writes_case(proceeding_id)",
        )
        for table in _BY_PROCEEDING
    },
}
_RECORDED = ("event", "access_event")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    path = f"{_quote(schema)}, pg_catalog, pg_temp"
    bind.exec_driver_sql(_FUNCTIONS.format(path=path).replace("%", "%%"))  # no parameters
    for table, (read, add, using, check) in _POLICIES.items():
        bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        bind.exec_driver_sql(f"CREATE POLICY mediation_read ON {table} FOR SELECT USING ({read})")
        bind.exec_driver_sql(
            f"CREATE POLICY mediation_insert ON {table} FOR INSERT WITH CHECK ({add})"
        )
        bind.exec_driver_sql(
            f"CREATE POLICY mediation_update ON {table} FOR UPDATE USING ({using}) "
            f"WITH CHECK ({check})"
        )
    for table in _RECORDED:
        bind.exec_driver_sql(
            f"CREATE TRIGGER mediation_recorder BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION mediation_check_recorder()"
        )
    # Seal every pending entry whoever asks (a login may see only some of them).
    bind.exec_driver_sql(
        f"ALTER FUNCTION mediation_seal(boolean) SECURITY DEFINER SET search_path = {path}"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql("ALTER FUNCTION mediation_seal(boolean) SECURITY INVOKER RESET ALL")
    for table in _RECORDED:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS mediation_recorder ON {table}")
    for table in _POLICIES:
        for policy in ("mediation_read", "mediation_insert", "mediation_update"):
            bind.exec_driver_sql(f"DROP POLICY IF EXISTS {policy} ON {table}")
        bind.exec_driver_sql(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in (
        "mediation_check_recorder()",
        "mediation_reads_case(integer)",
        "mediation_reaches_dispute(integer)",
        "mediation_writes_case(integer)",
        "mediation_case_mine(integer, text, text)",
        "mediation_scope()",
        "mediation_login_groups()",
    ):
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
