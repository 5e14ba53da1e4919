"""PostgreSQL: row-level security on the case tables, and the database checks each event's
actor and recording time

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-06

Every person has their own database login (``mediation user add`` makes it, see
``mediation.storage.pgroles``); from this revision the database itself scopes what such a
login reads and writes, whatever the program it runs:

- **Who sees what** (the login's ``app_user`` row, looked up from ``session_user`` by the
  functions below, which run as the schema's owner with their search path pinned):

  - a login without a user row is a *service* (the application role a web service or the
    scheduler runs as, granted by ``mediation db grants``): every case — unless it is a
    member of the per-person group roles (``mediation_login_groups()``): then nothing;
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
  ``occurred_at`` is not the server's clock (within five minutes). The hash of an event is
  computed over the stored values by the program before it inserts the row, so the trigger
  checks and never rewrites them: the chain still verifies.
- The database-wide seal (``mediation_seal``, revision 0008) runs as the owner, so a login
  that sees only some pending entries still seals all of them, in order.

SQLite has none of this (one machine: the operating system's accounts are the boundary).
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0012"
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

CREATE OR REPLACE FUNCTION mediation_in_login_group() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    -- Whether the session's login is a member of this database's per-person group roles
    -- (a person's login: never a service, even where it has no user row, e.g. a person of
    -- another database on the same server whose groups share the names).
    SELECT EXISTS (
        SELECT 1 FROM pg_auth_members m
        JOIN pg_roles g ON g.oid = m.roleid
        JOIN pg_roles r ON r.oid = m.member
        WHERE r.rolname = session_user
          AND g.rolname IN (SELECT mediation_login_groups() || '_' || role
                            FROM unnest(array['mediator', 'staff', 'supervisor', 'admin']) AS role)
    )
$fn$;

CREATE OR REPLACE FUNCTION mediation_scope() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path} AS $fn$
    -- all: every case; own: its organisation's and assigned cases; none.
    SELECT CASE
        WHEN u.login IS NULL AND mediation_in_login_group() THEN 'none'
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
        IF mediation_in_login_group() THEN
            RAISE EXCEPTION '数据库登录 % 不是本数据库的用户，不能记录操作', me
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;  -- a service login (the scheduler, a web service) records for others
    END IF;
    -- An admin may act for another user (recorded as act_for); a supervisor may run the
    -- scheduler, which records as 'scheduler' (mediation.engine.scheduler.SCHEDULER_ACTOR).
    IF NEW.actor IS DISTINCT FROM me
       AND NOT (who.active AND who.roles ? 'admin')
       AND NOT (NEW.actor = 'scheduler' AND who.active AND who.roles ? 'supervisor') THEN
        RAISE EXCEPTION '记录的操作者 % 不是当前数据库登录 %：个人登录只能记录自己的操作',
            NEW.actor, me USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.occurred_at < now() - interval '5 minutes'
       OR NEW.occurred_at > clock_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION '记录时间 % 与数据库服务器的时钟（%）相差超过五分钟：个人登录的记录'
            '时间以服务器时钟为准，请校准本机时钟（勿设 MEDIATION_NOW）',
            NEW.occurred_at, clock_timestamp() USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$fn$;
"""

_ALL = "(SELECT mediation_scope()) = 'all'"
_MINE = "mediation_case_mine(organisation_id, mediator, mediators)"
_HANDED = "(parent_id IS NOT NULL AND mediation_writes_case(parent_id))"
#: A new case: in the login's own organisation, or handed off from one of its cases; and
#: of a dispute it already reaches (so no login reaches a dispute by adding a case to it).
_NEW_CASE = (
    f"{_ALL} OR ((mediation_case_mine(organisation_id, NULL, NULL) OR {_HANDED})"
    " AND mediation_reaches_dispute(dispute_id))"
)
#: A case after an update: still the login's (not moved away, nor to another dispute).
_KEPT_CASE = f"{_ALL} OR (({_MINE} OR {_HANDED}) AND mediation_reaches_dispute(dispute_id))"

#: table → (read, insert, update-using, update-check)
_POLICIES: dict[str, tuple[str, str, str, str]] = {
    "proceeding": (
        f"{_ALL} OR {_MINE} OR mediation_reaches_dispute(dispute_id)",
        _NEW_CASE,
        f"{_ALL} OR mediation_writes_case(id)",
        _KEPT_CASE,
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
        f"{_ALL} OR (mediation_writes_case(proceeding_id) AND mediation_reaches_dispute(dispute_id))",
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
    # pg_catalog first: nothing in the schema may stand in for a built-in function.
    path = f"pg_catalog, {_quote(schema)}, pg_temp"
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
        "mediation_in_login_group()",
        "mediation_login_groups()",
    ):
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
