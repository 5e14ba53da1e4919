"""Shared fixtures: every storage test runs on a real SQLite file and on PostgreSQL.

PostgreSQL comes from ``MEDIATION_TEST_PG`` (default: the local server's ``test``
database). Without a server the PostgreSQL cases are skipped locally, but fail under
``CI=true``: CI must test both. The tests run in a database of their own on that server,
made for the session (for each xdist worker) and dropped at its end: see :data:`PG_URL`.

Every test that runs on PostgreSQL carries the ``postgres`` marker (added at collection,
see :func:`pytest_collection_modifyitems`), so ``pytest -m "not postgres"`` is the quick
loop on SQLite alone, and ``pytest -m postgres`` runs the other half.

Databases. ``db_url`` is an empty database (a new SQLite file; a new PostgreSQL schema,
dropped afterwards) — unless the test also uses ``store`` (itself or through another
fixture): then it is the store's database, migrated to the head revision with the ladder
of committees (and, but with the ``no_runner`` marker, the runner as its first admin);
with the ``upgraded`` marker and no ``store``, an empty database as ``mediation db
upgrade`` leaves it. Migrating takes every Alembic revision; so it is done once per session
(per xdist worker) for each of these kinds (:data:`TEMPLATE_KINDS`), and each test gets a
copy of the result:

- SQLite: the migrated file, checkpointed and closed, copied to the process's one test
  database path (:func:`_sqlite_file`; a failed test's copy is kept in its ``tmp_path``);
- PostgreSQL: one migrated schema per worker; before each test every row is deleted, the
  rows the migrations and the ladder wrote are put back and every sequence is set back to
  where it stood, after checking that the schema itself (tables, columns, indexes,
  constraints, functions, grants) is still the one migrated. A test that changed the schema,
  or left a lock that holds up the reset, gets a newly migrated schema instead.

Tests of the migrations themselves use ``db_url`` without ``store`` and still get empty
databases.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import shutil
import signal
import time
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
import typer.testing
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from mediation.domain.clock import BUSINESS_TZ
from mediation.storage import store as store_module
from mediation.storage.stamps import KEY_TABLE
from mediation.storage.store import Store

# The suite allocates much and drops most of it at once (a command run, a test's data):
# collecting garbage cycles every 700 allocations, CPython's default, took about a tenth of
# its time. Less often here; the cycles are still collected, and a test that measures memory
# collects first.
gc.set_threshold(50_000, 20, 10)


def _memory_folder(path: str = "/dev/shm", *, room: int = 1 << 30) -> str | None:
    """``path`` if it is a writable folder with ``room`` bytes free (a container's /dev/shm
    may hold only 64 MB), else None."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    free = stat.f_bavail * stat.f_frsize
    return path if free >= room and os.access(path, os.W_OK | os.X_OK) else None


# The tests' files (SQLite databases, PDFs, exports) are written to memory where the machine
# has room for them (/dev/shm): on disk every SQLite commit waits for the disk (synchronous =
# FULL), and nothing here has to outlive the run (only failed tests' folders are kept:
# pyproject.toml). Read by pytest when it makes its base temporary folder (in the xdist
# controller too, which hands each worker a folder inside it).
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and (_shm := _memory_folder()):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = _shm

#: The PostgreSQL server, and a database on it to connect to for administration.
#: Revealed exports are signed and imports check the signature (storage.transfer.signature):
#: every test that moves a database uses this passphrase unless it says otherwise.
EXPORT_PASSPHRASE = "test-export-passphrase"
os.environ.setdefault("MEDIATION_EXPORT_PASSPHRASE", EXPORT_PASSPHRASE)

PG_SERVER_URL = os.environ.get(
    "MEDIATION_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _session_database_url(server_url: str) -> str:
    """A new database's URL on ``server_url``'s server, named for this session: the time
    (for sweeping up after killed runs) and a random part (one per xdist worker)."""
    url = make_url(server_url)
    name = f"{_database_prefix(server_url)}{int(time.time())}_{uuid.uuid4().hex[:6]}"
    return url.set(database=name).render_as_string(hide_password=False)


def _database_prefix(server_url: str) -> str:
    # Short enough for PostgreSQL's 63 characters, with the time and the random part.
    return f"{(make_url(server_url).database or 'postgres')[:30]}_pytest_"


#: The database the tests use: created on that server at first use and dropped when the
#: session ends; one per session, and per xdist worker. So nothing database-wide is shared
#: with a parallel worker or another session's run (the scheduler's advisory lock is one
#: per database), and its catalog starts clean (schemas made and dropped by the thousand
#: bloat it). The user of MEDIATION_TEST_PG must be allowed to create databases.
PG_URL = _session_database_url(PG_SERVER_URL)
#: Session databases left by killed runs are dropped once they are this old (if unused).
_STALE_AFTER_SECONDS = 6 * 3600
#: A fixed moment for tests: a Monday, 2026-03-02 09:00 Beijing time.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)
#: The committees every ``store`` starts with: (code, name, level, parent), top first.
LADDER = (
    ("江城", "江城市人民调解委员会", "city", None),
    ("青山", "青山县人民调解委员会", "county", "江城"),
    ("城关", "城关镇人民调解委员会", "township", "青山"),
    ("桥头", "桥头村人民调解委员会", "village", "城关"),
)
#: Fixtures that only exist on PostgreSQL: their tests get the ``postgres`` marker too.
PG_ONLY_FIXTURES = frozenset({"app_db"})

_pg_problem: str | None = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that runs on PostgreSQL ``postgres``: those whose ``db_url`` (or any
    other parameter, e.g. a transfer's source or target) is ``postgresql``, and those using
    a PostgreSQL-only fixture. ``pytest -m "not postgres"`` is then the quick SQLite loop."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        on_pg = any(isinstance(v, str) and v == "postgresql" for v in params)
        if on_pg or PG_ONLY_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@functools.cache
def _command_of(app: typer.Typer) -> Any:
    return typer.main.get_command(app)


@pytest.fixture(autouse=True)
def _cli_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``CliRunner.invoke`` build each Typer app's command tree once per process: it
    rebuilds it on every call otherwise (25-50 ms, much of a short invocation). Same app,
    same commands: the tree holds no state of an invocation."""
    monkeypatch.setattr(typer.testing, "_get_command", _command_of, raising=False)


@pytest.fixture(autouse=True)
def _chinese(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in Chinese, whatever the machine's locale (a test that passes
    ``--lang en`` or sets ``LANG`` leaves no language behind)."""
    from mediation import i18n

    for name in ("MEDIATION_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the clock every command reads (``MEDIATION_NOW``) to :data:`T0`, so that no test
    depends on the day it runs; a test that needs another moment sets its own."""
    monkeypatch.setenv("MEDIATION_NOW", T0.isoformat())


def _pg_available() -> str | None:
    """None when the session's database is there (created now on first call), else why not."""
    global _pg_problem
    if _pg_problem is None:
        try:
            _create_session_database()
            _pg_problem = ""
        except Exception as exc:
            _pg_problem = f"PostgreSQL not reachable at {PG_SERVER_URL}: {exc.__class__.__name__}"
            if "permission denied" in str(exc):
                _pg_problem = f"{PG_SERVER_URL}: may not create the test database (CREATEDB)"
    return _pg_problem or None


def _create_session_database() -> None:
    server = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            _sweep_stale_databases(conn)
            name = make_url(PG_URL).database
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # A throw-away database: a commit need not wait for the server's disk (a server
            # crash could lose the last commits; no test crashes the server). Every session
            # on it, the commands' subprocesses included, commits without that wait.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        server.dispose()


def _sweep_stale_databases(conn: Any) -> None:
    """Drop the session databases of runs killed long ago (one in use is left alone)."""
    prefix = _database_prefix(PG_SERVER_URL)
    names = conn.execute(
        text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"), {"p": prefix}
    ).scalars()
    for name in list(names):
        stamp = name[len(prefix) :].split("_")[0]
        if stamp.isdigit() and time.time() - int(stamp) > _STALE_AFTER_SECONDS:
            # In use after all, or another session dropped it first: leave it.
            with contextlib.suppress(Exception):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the session's database, if this process made one; then leave the heap to exit.

    After the last test, pytest's check for unraisable exceptions collects garbage twice
    (at unconfigure and at cleanup), each time walking every object the run left: a second
    or more a worker, with nothing to show for it (exceptions a test raised in a finaliser
    are reported with that test; these come after the summary). Frozen, the heap is not
    walked again.
    """
    try:
        _drop_session_database()
    finally:
        gc.freeze()


def _drop_session_database() -> None:
    if _pg_problem != "":
        return
    server = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            # FORCE: a connection a test left open must not keep it (it is ours alone).
            conn.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(PG_URL).database}" WITH (FORCE)')
            )
    except Exception as exc:
        warnings.warn(f"could not drop the test database: {exc}", stacklevel=1)
    finally:
        server.dispose()


def _require_pg() -> None:
    """Skip without a PostgreSQL server; fail under ``CI=true``."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI must run every storage test on PostgreSQL)")
        pytest.skip(problem)


def pg_schema_url(schema: str) -> str:
    """:data:`PG_URL` with ``schema`` as the search path."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def add_ladder(store: Store) -> None:
    """Register :data:`LADDER` (at :data:`T0`)."""
    from mediation.engine.organisations import add_organisation

    for code, name, level, parent in LADDER:
        add_organisation(store, code=code, name=name, level=level, parent=parent, now=T0)


#: The roles of the login that runs the tests (the OS account on SQLite, the database
#: login on PostgreSQL): the first admin of every migrated database, as ``init`` makes it,
#: and staff and supervisor besides (a supervisor does what a mediator does, anywhere), so a
#: test acts without naming anyone. Tests of roles and
#: scope add users and act as them (``Mediation(store, login)``, or ``--as``: an admin
#: acting for them, recorded).
RUNNER_ROLES = ["admin", "staff", "supervisor"]


def add_runner(store: Store) -> str:
    """Make the login running the tests the first admin (with every role); its login."""
    from mediation.engine.users import add_user

    login = store.login()
    with store.write() as conn:
        add_user(
            conn, login, name=login, roles=RUNNER_ROLES, organisation=None, actor=login, now=T0
        )
    return login


def add_users(
    store: Store,
    *logins: str,
    roles: tuple[str, ...] = ("mediator",),
    organisation: str | None = "桥头",
) -> None:
    """Add ``logins`` as users of ``organisation`` with ``roles`` (the runner adds them,
    at T0)."""
    from mediation.engine.users import add_user

    runner = store.login()
    with store.write() as conn:
        for login in logins:
            add_user(
                conn,
                login,
                name=login,
                roles=list(roles),
                organisation=organisation,
                actor=runner,
                now=T0,
            )


def make_training(store: Store) -> None:
    """Make a new database a training database (as ``init --training`` does): tests pin
    the CLI's clock with ``MEDIATION_NOW``, which only a training database honours."""
    from mediation.storage.settings import mark_training

    login = store.login()
    with store.write() as conn:
        mark_training(conn, actor=login, now=T0)


#: What a test's database holds when it starts, by the fixture or marker that asks for it:
#: ``store``, a training database with the ladder and the runner as its first admin;
#: ``no_runner``, the ladder and no users; ``upgraded``, only what ``mediation db upgrade``
#: leaves in an empty database.
TEMPLATE_KINDS = ("store", "no_runner", "upgraded")


def _migrate_as(kind: str, url: str) -> None:
    """Migrate the empty database at ``url`` and fill it as ``kind`` (:data:`TEMPLATE_KINDS`)."""
    store = Store(url)
    try:
        store.upgrade()
        if kind == "store":
            make_training(store)
        if kind in ("store", "no_runner"):
            add_ladder(store)
        if kind == "store":
            add_runner(store)
    finally:
        store.close()


# -- the migrated templates -----------------------------------------------------------------


class _SqliteTemplates:
    """One SQLite file per kind of database (:data:`TEMPLATE_KINDS`), migrated on first use,
    closed, its WAL checkpointed into the file (so the file alone is the whole database)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, Path] = {}

    def file(self, kind: str) -> Path:
        if kind not in self.files:
            self.files[kind] = self._build(kind)
        return self.files[kind]

    def _build(self, kind: str) -> Path:
        path = self.folder / kind / "mediation.db"
        path.parent.mkdir()
        _migrate_as(kind, f"sqlite:///{path}")
        import sqlite3

        conn = sqlite3.connect(path)
        try:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0, "the template's WAL could not be checkpointed"
        finally:
            conn.close()
        for suffix in ("-wal", "-journal"):
            side = path.with_name(path.name + suffix)
            assert not side.exists() or side.stat().st_size == 0, f"{side} left behind"
        return path


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> _SqliteTemplates:
    return _SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def _sqlite_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of every SQLite test database of this process (see :func:`_sqlite_file`)."""
    return tmp_path_factory.getbasetemp() / "sqlite"


def _sqlite_file(folder: Path) -> Path:
    """The process's one SQLite test database path, in ``folder`` emptied for a new test.

    Every test opens the same path, so the stores take the same engine
    (``mediation.storage.store._ENGINES``) and the statements SQLAlchemy compiled for one
    test serve the next: a new file name per test made a new engine, and every statement
    was compiled again (~7 % of the SQLite tests' CPU). Whatever a test left of the last
    one goes: the pooled connections to its file (a store left open), and the folder with
    what was written beside the database. A failed test's folder is copied into its
    ``tmp_path`` (kept: pyproject.toml) as ``sqlite/``.
    """
    path = folder / "mediation.db"
    url = f"sqlite:///{path}"
    for (_pid, engine_url, _echo), engine in list(store_module._ENGINES.items()):
        if engine_url == url:
            engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return path


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


#: A digest of everything in one schema's catalog a test could change: its objects (tables,
#: sequences, functions, types, views), their columns (types, defaults), indexes,
#: constraints, triggers, sequences' settings, and the grants. Found through ``pg_depend``
#: and the objects' OIDs, by index: a scan of the whole catalog costs much more.
_CATALOG_SQL = """
WITH objs AS (
    SELECT classid, objid FROM pg_depend
    WHERE refclassid = 'pg_namespace'::regclass
      AND refobjid = (SELECT oid FROM pg_namespace WHERE nspname = :schema)
),
rels AS (SELECT objid AS oid FROM objs WHERE classid = 'pg_class'::regclass)
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT 'obj ' || pg_describe_object(classid, objid, 0) AS item FROM objs
    UNION ALL
    SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relowner::regrole::text
           || ' ' || coalesce(c.relacl::text, '')
        FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'col ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || a.attnum || ' '
           || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
           || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || coalesce(a.attacl::text, '')
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'idx ' || pg_get_indexdef(i.indexrelid)
        FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE conrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'trg ' || pg_get_triggerdef(t.oid)
        FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
    UNION ALL
    SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid)) || ' '
           || coalesce(p.proacl::text, '')
        FROM pg_proc p WHERE p.oid IN (SELECT objid FROM objs WHERE classid = 'pg_proc'::regclass)
    UNION ALL
    SELECT 'seq ' || s.seqrelid::regclass::text || ' ' || s.seqstart || ' ' || s.seqincrement
           || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcycle
        FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT 'ns ' || coalesce(n.nspacl::text, '') FROM pg_namespace n WHERE n.nspname = :schema
) AS catalog
"""


class _SchemaChanged(Exception):
    pass


class _PgTemplate:
    """One PostgreSQL schema per session (per xdist worker) and kind of database
    (:data:`TEMPLATE_KINDS`), migrated once; :meth:`fresh` puts it back to the state the
    migrations and what the kind adds (the ladder, the runner) left it in."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.engine = create_engine(PG_URL)
        self.schemas: list[str] = []
        self._build()

    def _build(self) -> None:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        self.schema, self.url, self.used = schema, pg_schema_url(schema), False
        try:
            _migrate_as(self.kind, self.url)
            self._capture()
        except BaseException:
            self._drop(schema, lock_timeout="30s")
            raise

    def _capture(self) -> None:
        """Keep a copy of the rows the migration and the ladder left (in a schema beside the
        test schema, server-side), and the catalog digest; write the script that puts them
        back (:meth:`_reset`)."""
        schema, copy = self.schema, f"{self.schema}_rows"
        meta = MetaData(schema=schema)
        with self.engine.begin() as conn:
            meta.reflect(conn)
            conn.execute(text(f'CREATE SCHEMA "{copy}"'))
            self.schemas.append(copy)
            # Referenced tables first; not the server's audit key (revision 0020): the
            # stamping trigger needs it while the events are put back (and stamps them again,
            # as the owner). Nor the steps of the flows, which `db upgrade` derives from the
            # code and no test writes (thousands of rows): put back only if a test emptied
            # them.
            tables = [t.name for t in meta.sorted_tables if t.name != KEY_TABLE]
            for name in tables:
                conn.execute(text(f'CREATE TABLE "{copy}"."{name}" AS TABLE "{schema}"."{name}"'))
            steps = conn.execute(text(f'SELECT count(*) FROM "{schema}".flow_edge')).scalar()
            restore = [
                f'DELETE FROM "{schema}"."{name}";'
                for name in reversed(tables)
                if name != "flow_edge"
            ]
            restore.append(  # before the events: their trigger looks the steps up
                f"""DO $$ BEGIN
                    IF (SELECT count(*) FROM "{schema}".flow_edge) <> {steps} THEN
                        DELETE FROM "{schema}".flow_edge;
                        INSERT INTO "{schema}".flow_edge SELECT * FROM "{copy}".flow_edge;
                    END IF;
                END $$;"""
            )
            restore += [
                f'INSERT INTO "{schema}"."{name}" SELECT * FROM "{copy}"."{name}";'
                for name in tables
                if name != "flow_edge"
            ]
            for r in conn.execute(
                text(
                    "SELECT sequencename, start_value, last_value FROM pg_sequences "
                    "WHERE schemaname = :s"
                ),
                {"s": schema},
            ):
                name = f'"{schema}"."{r.sequencename}"'.replace("'", "''")
                if r.last_value is None:
                    restore.append(f"SELECT setval('{name}', {int(r.start_value)}, false);")
                else:
                    restore.append(f"SELECT setval('{name}', {int(r.last_value)}, true);")
            self.restore = "\n".join(restore)
            self.catalog = conn.execute(text(_CATALOG_SQL), {"schema": schema}).scalar()

    def fresh(self) -> str:
        """The URL of the schema, as migrated (rebuilt if a test changed its definition)."""
        if self.used:
            try:
                self._reset()
            except _SchemaChanged:  # a test migrated it down and up again, say
                self._drop(self.schema, lock_timeout="1s")
                self._build()
            except Exception as exc:  # a lock something left behind held up the reset
                warnings.warn(
                    f"test schema {self.schema} could not be reset ({exc.__class__.__name__}: "
                    f"{exc}); migrating a new one",
                    stacklevel=1,
                )
                self._drop(self.schema, lock_timeout="1s")
                self._build()
        self.used = True
        return self.url

    def _reset(self) -> None:
        """Two round trips: the catalog's digest, then one script that empties every table,
        copies the kept rows back and sets every sequence where it stood."""
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            found = conn.execute(text(_CATALOG_SQL), {"schema": self.schema}).scalar()
            if found != self.catalog:
                raise _SchemaChanged(self.schema)
            conn.exec_driver_sql(self.restore)

    def _drop(self, schema: str, *, lock_timeout: str) -> None:
        for name in (schema, f"{schema}_rows"):
            if name not in self.schemas:
                continue
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f"SET lock_timeout = '{lock_timeout}'"))
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
                self.schemas.remove(name)
            except Exception as exc:
                warnings.warn(f"could not drop test schema {name}: {exc}", stacklevel=1)

    def close(self) -> None:
        for schema in list(self.schemas):
            self._drop(schema, lock_timeout="30s")
        self.engine.dispose()
        self.admin.dispose()


class _PgTemplates:
    """The session's PostgreSQL templates, one per kind, each made on first use."""

    def __init__(self) -> None:
        self.made: dict[str, _PgTemplate] = {}

    def template(self, kind: str) -> _PgTemplate:
        if kind not in self.made:
            self.made[kind] = _PgTemplate(kind)
        return self.made[kind]

    def close(self) -> None:
        for template in self.made.values():
            template.close()


@pytest.fixture(scope="session")
def _pg_templates() -> Iterator[_PgTemplates]:
    _require_pg()
    templates = _PgTemplates()
    try:
        yield templates
    finally:
        templates.close()


# -- databases --------------------------------------------------------------------------


_UPGRADED_WITH_STORE = "the upgraded marker is for db_url without store"


def _template_kind(request: pytest.FixtureRequest) -> str | None:
    """Which template the test's database is a copy of (:data:`TEMPLATE_KINDS`), if any."""
    upgraded = request.node.get_closest_marker("upgraded") is not None
    if "store" in request.fixturenames:
        if upgraded:
            raise pytest.UsageError(_UPGRADED_WITH_STORE)
        return "no_runner" if request.node.get_closest_marker("no_runner") else "store"
    return "upgraded" if upgraded else None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database: a SQLite file (at one path for every test:
    :func:`_sqlite_file`), or a fresh PostgreSQL schema. When the test uses ``store`` too,
    the URL of the store's database instead, and with the ``upgraded`` marker a database as
    ``db upgrade`` leaves it: a copy of the session's template of that kind (see the
    module's docstring)."""
    kind = _template_kind(request)
    request.node._mediation_template = kind
    if request.param == "sqlite":
        path = _sqlite_file(request.getfixturevalue("_sqlite_home"))
        if kind is not None:
            shutil.copyfile(request.getfixturevalue("_sqlite_templates").file(kind), path)
        yield f"sqlite:///{path}"
        if request.node.stash.get(_FAILED, False):
            shutil.copytree(path.parent, tmp_path / "sqlite", dirs_exist_ok=True)
        return
    _require_pg()
    if kind is not None:
        yield request.getfixturevalue("_pg_templates").template(kind).fresh()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """A migrated, empty store with the demo ladder of committees."""
    template = getattr(request.node, "_mediation_template", None)
    if template is None:
        # ``store`` was asked for dynamically, after ``db_url`` made an empty database.
        _migrate_as(
            "no_runner" if request.node.get_closest_marker("no_runner") else "store", db_url
        )
    elif template == "upgraded":
        raise pytest.UsageError(_UPGRADED_WITH_STORE)
    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def intake_record(**overrides: object) -> dict[str, object]:
    """A valid intake record (as parsed from a file), with ``overrides`` applied."""
    record: dict[str, object] = {
        "organisation": "桥头",
        "dispute_type": "neighbourhood",
        "channel": "walk_in",
        "title": "邻里通道堆放杂物纠纷",
        "summary": "张三与李四因通道堆放杂物发生争执。",
        "claims": "请求清理杂物。",
        "parties": [
            {
                "role": "applicant",
                "name": "张三",
                "gender": "male",
                "id_number": "11010519491231002X",
                "phone": "13812345678",
                "address": "浙江省江城市青山县城关镇桥头村12号",
            },
            {"role": "respondent", "name": "李四", "phone": "13987654321"},
        ],
    }
    record.update(overrides)
    return record


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table a case operation, an import or a correction writes, in key
    order: a refused or killed write must leave it equal. The rows as the driver returns
    them (what is stored, before any column type reads it), through statements compiled
    once: the state-machine test takes one before every step."""
    with store.read() as conn:
        return {name: read.tuples(conn, {}) for name, read in _snapshot_reads()}


@functools.cache
def _snapshot_reads() -> tuple[tuple[str, Any], ...]:
    from sqlalchemy import select

    from mediation.storage import _tables as t
    from mediation.storage._sql import Prepared

    tables = (
        t.dispute_table,
        t.dispute_merge_table,
        t.party_table,
        t.proceeding_table,
        t.event_table,
        t.deadline_table,
        t.outbox_table,
        t.case_counter_table,
        t.audit_head_table,
        t.access_event_table,
    )
    return tuple(
        (table.name, Prepared(select(table).order_by(*table.primary_key.columns)))
        for table in tables
    )


def drop_step_trigger(store: Store) -> None:
    """Remove the trigger that refuses an event for a step its flow lacks (revision 0019),
    as whoever holds the SQLite file or owns the PostgreSQL schema can: what ``audit
    verify`` must then still find."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER event_is_a_step_of_its_flow"))
        else:
            conn.execute(text("DROP TRIGGER event_is_a_step_of_its_flow ON event"))


def interruptible() -> None:
    """``preexec_fn`` of a child the test will interrupt: Ctrl-C's default action, as in a
    terminal's foreground job (a suite started in the background of a shell script
    inherits SIGINT ignored, and so would the child)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
