"""The database: connection set-up, transactions, and schema upgrades.

SQLite (the default, one file) runs in WAL mode with ``synchronous=FULL`` (a committed
transition survives power loss), a busy timeout, and ``BEGIN IMMEDIATE`` for every write
transaction, so that two processes serialise instead of losing an update. PostgreSQL runs
at READ COMMITTED with rows locked ``FOR UPDATE`` by the engine.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from mediation.errors import SchemaError, UsageError
from mediation.i18n import _

if TYPE_CHECKING:
    from mediation.domain.calendar import WorkCalendar

log = logging.getLogger(__name__)

#: How long a write waits for another process's transaction before giving up.
BUSY_TIMEOUT_SECONDS = 30


def default_db_path() -> Path:
    """``mediation.db`` in the user's data directory (created on demand)."""
    from platformdirs import user_data_path

    return user_data_path("mediation", appauthor=False) / "mediation.db"


def resolve_url(db: str | None) -> str:
    """The database URL from ``--db``, ``MEDIATION_DB`` or the default SQLite file.

    A bare path means a SQLite file; ``postgresql://`` URLs use the psycopg 3 driver.
    """
    raw = db or os.environ.get("MEDIATION_DB") or str(default_db_path())
    if "://" not in raw:
        path = Path(raw).expanduser()
        return f"sqlite:///{path}"
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername.startswith("sqlite"):
        pass
    elif not url.drivername.startswith("postgresql"):
        raise UsageError(
            _("不支持的数据库地址类型 {scheme}").format(scheme=repr(url.drivername)),
            hint=_("请给出 SQLite 文件路径、sqlite:///路径 或 postgresql://用户@主机/数据库"),
        )
    return url.render_as_string(hide_password=False)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty, readable and writable by its owner only (0600, whatever the
    umask), never through a symbolic link; False when something is there already."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # 64 MiB of page cache (the default is 2 MiB): reports walk many rows.
        cursor.execute("PRAGMA cache_size = -65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("mediation_write", False)
        # On the driver's connection: a statement through SQLAlchemy costs more than this.
        # A failure (the database locked past the busy timeout) is SQLAlchemy's error still.
        from mediation.storage._sql import driver_error

        sql = "BEGIN IMMEDIATE" if write else "BEGIN"
        try:
            conn.connection.driver_connection.execute(sql)  # type: ignore[union-attr]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise driver_error(conn, exc, sql) from exc


#: Engines by (process, URL, echo), the most recently opened last. A store opened again on
#: the same database in one process (a service handling requests, a script, the test
#: suite) takes its engine: its dialect is set up, its compiled statements are cached, and
#: on PostgreSQL its pool holds the connections earlier stores closed. A new PostgreSQL
#: connection is a new server process, which reads the catalog and compiles the trigger
#: functions again before its first write: tens of milliseconds a command. A SQLite
#: connection is a file handle: closing a SQLite store closes it (the file may be copied
#: or replaced next), and only the engine stays.
_ENGINES: OrderedDict[tuple[int, str, bool], Engine] = OrderedDict()
#: How many databases' engines a process keeps.
_KEPT_ENGINES = 4


#: Threads of one process open stores at once (a service's requests, the concurrency tests).
_ENGINES_LOCK = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked child gets a lock of its own (the parent's may have been held by a thread
    the child does not have)."""
    global _ENGINES_LOCK
    _ENGINES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


def _engine(url: str, echo: bool) -> Engine:
    """The engine for ``url`` in this process, made on first use."""
    with _ENGINES_LOCK:
        return _engine_locked(url, echo)


def _engine_locked(url: str, echo: bool) -> Engine:
    pid = os.getpid()
    key = (pid, url, echo)
    engine = _ENGINES.get(key)
    if engine is not None:
        _ENGINES.move_to_end(key)
        return engine
    # Parameters (names, ID numbers, phones) never reach logs or error messages.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_SECONDS}
    else:
        # A pooled connection the server has ended since (a restart) is replaced.
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    _ENGINES[key] = engine
    # The oldest of this process's engines goes. A forked process leaves its parent's
    # alone: their connections are the parent's, and closing one here would end it there.
    own = [k for k in _ENGINES if k[0] == pid]
    for oldest in own[: max(0, len(own) - _KEPT_ENGINES)]:
        _ENGINES.pop(oldest).dispose()
    return engine


@atexit.register
def _close_engines() -> None:
    """Close this process's pooled connections on exit (the server sees a proper goodbye
    rather than a dropped connection)."""
    pid = os.getpid()
    if not _ENGINES_LOCK.acquire(timeout=5):  # a thread stuck opening one: leave them be
        return
    try:
        for key in [k for k in _ENGINES if k[0] == pid]:
            _ENGINES.pop(key).dispose()
    finally:
        _ENGINES_LOCK.release()


class Store:
    """One database: hands out read and write transactions on one reused connection.

    A ``Store`` belongs to one thread; processes each open their own.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = _engine(url, echo)
        self._conn: Connection | None = None
        self._login: str | None = None
        self._calendar: WorkCalendar | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        elif self._conn.invalidated:
            self._conn.rollback()
        return self._conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: all of it commits, or none of it does."""
        from sqlalchemy.exc import DBAPIError

        from mediation.errors import MediationError
        from mediation.storage import audit

        conn = self._connection().execution_options(mediation_write=True)
        committing = False
        try:
            with conn.begin():
                audit.begin(conn)
                yield conn
                audit.before_commit(conn)
                committing = True
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            if committing:
                raise MediationError(
                    "数据库连接在提交时断开，无法确定本次操作是否已写入",
                    hint=_("重试前请先用 `mediation case show` 或 `mediation audit verify` 核对"),
                ) from exc
            raise MediationError(
                "数据库连接在事务中断开，本次操作未写入任何数据",
                hint=_("请确认数据库服务器正在运行且可以连接，然后重新运行该命令"),
            ) from exc
        if self.dialect != "sqlite" and audit.wrote_entries(conn):
            self._seal_committed(conn)

    @contextmanager
    def migrating(self) -> Iterator[Connection]:
        """The write transaction a schema change runs in. On SQLite with foreign keys off:
        rebuilding a table that others refer to (``proceeding``) drops the old one, which
        SQLite refuses while they are on and cannot turn off inside a transaction (SQLite's
        own procedure, https://sqlite.org/lang_altertable.html#otheralter); every foreign
        key is checked before the transaction commits, and they are on again after it."""
        if self.dialect != "sqlite":
            with self.write() as conn:
                yield conn
            return
        from mediation.errors import MediationError

        raw = self._connection().connection.driver_connection
        raw.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with self.write() as conn:
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise MediationError(
                        f"架构升级后表 {broken[0]} 的第 {broken[1]} 行引用了不存在的"
                        f" {broken[2]}，已撤销升级",
                        hint=_("请运行 `mediation audit verify`，并将情况报告开发人员"),
                    )
        finally:
            raw.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]

    def _seal_committed(self, conn: Connection) -> None:
        """PostgreSQL, after a commit that wrote events: seal them into the database-wide
        chain (after another session's seal, if one is running). The write has committed
        whatever happens here: a failure only leaves them pending, for the next seal."""
        from sqlalchemy.exc import DBAPIError

        from mediation.storage import audit

        try:
            if audit.seal_committed(conn, wait=False) is None:
                # Another session is sealing, and may have looked before this commit: wait
                # for it (its seal is short, and no transaction waits with us), then seal
                # what it left. So a write's entries are sealed when ``write`` returns.
                audit.seal_committed(conn, wait=True)
        except DBAPIError as exc:
            log.warning(
                "sealing the audit chain after commit failed (%s); the entries stay "
                "pending until the next write seals them",
                type(exc.orig).__name__,
            )

    def seal_pending(self) -> int:
        """Seal every committed entry still waiting for its place in the database-wide
        audit chain (waiting for the head if another session holds it); return how many.
        The scheduler runs it each time, for entries a killed process left pending.

        :raises MediationError: when the database cannot be reached.
        """
        from sqlalchemy.exc import DBAPIError

        from mediation.errors import MediationError
        from mediation.storage import audit

        conn = self._connection().execution_options(mediation_write=True)
        try:
            return audit.seal_committed(conn, wait=True) or 0
        except DBAPIError as exc:
            raise MediationError(
                f"封存审计链失败：{type(exc.orig).__name__}",
                hint=_("请确认数据库服务器正在运行且可以连接，然后重试"),
            ) from exc

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction that sees one moment of the whole database (PostgreSQL:
        REPEATABLE READ; SQLite's reads always do), on a connection of its own, so that
        reading many tables (an export, ``audit verify``) is consistent while others write."""
        conn = self.engine.connect()
        try:
            if self.dialect == "postgresql":
                conn = conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            with conn.begin():
                yield conn
        finally:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (on SQLite a snapshot; on PostgreSQL READ COMMITTED, so each
        statement sees what was committed before it)."""
        conn = self._connection().execution_options(mediation_write=False)
        with conn.begin():
            yield conn

    def backup(self, target: Path) -> int:
        """Copy a SQLite database, consistently, while others keep using it (SQLite's online
        backup API); return the number of pages copied.

        :raises UsageError: on PostgreSQL (use pg_dump), or when ``target`` exists.
        """
        import sqlite3

        if self.dialect != "sqlite":
            raise UsageError(
                _("backup 只复制 SQLite 数据库文件；PostgreSQL 请用 pg_dump"),
                hint=_(
                    "PostgreSQL 请用：pg_dump --format=custom --file centre.dump 数据库名（见 docs/admin/backup.md）"
                ),
            )
        exists = UsageError(
            _("{path} 已存在").format(path=target), hint=_("请换一个新文件名；不会覆盖任何文件")
        )
        if target.exists() or target.is_symlink():
            raise exists
        target.parent.mkdir(parents=True, exist_ok=True)
        if not create_private_file(target):  # appeared meanwhile
            raise exists
        source = self._connection().connection.driver_connection
        pages = 0

        def progress(_status: int, remaining: int, total: int) -> None:
            nonlocal pages
            pages = total - remaining

        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy, pages=1024, progress=progress)  # type: ignore[union-attr]
            copy.close()
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return pages

    def calendar(self) -> WorkCalendar:
        """The working-day calendar: the package plus the years loaded into this database.

        Read once per store; :meth:`forget_calendar` makes the next call read it again.
        Call it outside a transaction.
        """
        if self._calendar is None:
            with self.read() as conn:
                return self.calendar_reading(conn)
        return self._calendar

    def calendar_reading(self, conn: Connection) -> WorkCalendar:
        """:meth:`calendar`, read (if not yet) in ``conn``'s transaction: for a command that
        reads something else before it writes, one transaction fewer."""
        if self._calendar is None:
            self._calendar = calendar_in(conn)
        return self._calendar

    def forget_calendar(self) -> None:
        self._calendar = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.dialect == "sqlite":
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Bring the schema to ``revision``; return (before, after) revisions."""
        from mediation.storage import migrations

        if self.dialect == "sqlite":
            # Only creating a database makes its folder; reading a missing one must not.
            path = make_url(self.url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                # Personal data: readable by its owner only; SQLite gives its -wal and
                # -shm files the database file's mode.
                create_private_file(Path(path))
        return migrations.upgrade(self, revision)

    def login(self) -> str:
        """Who is acting (:mod:`mediation.storage.identity`): the database login on
        PostgreSQL, the operating-system account on SQLite (asking creates nothing)."""
        from mediation.storage.identity import os_login

        if self.dialect == "sqlite":
            return os_login()
        if self._login is not None:  # one login for the engine's every connection
            return self._login
        with self.read() as conn:
            return self._login_in(conn)

    def _login_in(self, conn: Connection) -> str:
        """:meth:`login` on PostgreSQL, asked in ``conn``'s transaction (once per store)."""
        from mediation.storage.identity import established_login

        if self._login is None:
            self._login = established_login(conn)
        return self._login

    def current_login(self) -> str:
        """:meth:`login`, on a database whose schema is the current one: both asked in one
        read transaction (a command's first; on PostgreSQL two round trips fewer than
        asking each in its own).

        :raises SchemaError: as :meth:`require_current`.
        """
        self._check_current(self._login_in if self.dialect != "sqlite" else None)
        return self.login()

    def exists(self) -> bool:
        """False for a SQLite file not created yet (asking would create it)."""
        if self.dialect != "sqlite":
            return True
        path = make_url(self.url).database
        return not path or path == ":memory:" or Path(path).exists()

    def revision(self) -> str | None:
        """The schema revision stored in the database (None for an empty database)."""
        return self._revision_after(None)

    def _revision_after(self, first: Callable[[Connection], object] | None) -> str | None:
        """:meth:`revision`, read in one transaction after ``first`` (if given): last,
        because a missing table ends the transaction."""
        from sqlalchemy.exc import DBAPIError

        from mediation.storage.migrations import stored_revision

        try:
            with self.read() as conn:
                if first is not None:
                    first(conn)
                return stored_revision(conn)
        except DBAPIError as exc:
            if "alembic_version" in str(exc.orig):
                return None  # no such table: an empty database
            raise

    def require_current(self) -> None:
        """Refuse to work on a database whose schema is not the current one.

        :raises SchemaError: with the command that fixes it.
        """
        self._check_current(None)

    def _check_current(self, first: Callable[[Connection], object] | None) -> None:
        """:meth:`require_current`, its revision read after ``first`` (:meth:`_revision_after`)."""
        missing = self.missing_file()
        if missing is not None:
            raise missing
        self._refuse_revision(self._revision_after(first))

    def _refuse_revision(self, found: str | None) -> None:
        from mediation.storage.migrations import HEAD

        if found == HEAD:
            return
        if found is None:
            raise SchemaError(
                f"没有调解数据库：{self.display_url} 中还没有建表",
                hint="请先执行 `mediation init`（或 `mediation db upgrade`）建表",
            )
        raise SchemaError(
            f"数据库结构版本为 {found}，本程序需要 {HEAD}",
            hint="请执行 `mediation db upgrade` 升级（升级前先备份）",
        )

    def missing_file(self) -> SchemaError | None:
        """Why a SQLite database cannot be opened without creating it — its file, or the
        folder for it, does not exist — or None (PostgreSQL, in memory, or the file is
        there). Checked before connecting, which would create the file."""
        if self.dialect != "sqlite":
            return None
        name = make_url(self.url).database
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        path = Path(name)
        if path.exists():
            return None
        if not path.parent.is_dir():
            what = f"没有调解数据库：文件夹 {path.parent} 不存在"
        else:
            what = f"没有调解数据库：文件 {path} 不存在"
        return SchemaError(
            what,
            hint=f"新建数据库请执行 `mediation init`（不在默认位置时：`mediation --db {path} init`，"
            "文件夹会一并创建），或先运行 `mediation demo` 试用；已有数据库请用 --db 指定它的路径",
        )

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


def calendar_in(conn: Connection) -> WorkCalendar:
    """The calendar as the database holds it, read on ``conn`` (inside its transaction)."""
    from sqlalchemy import select

    from mediation.domain.calendar import WorkCalendar, YearCalendar
    from mediation.storage._tables import calendar_year_table

    cal = WorkCalendar()
    for row in conn.execute(
        select(
            calendar_year_table.c.year,
            calendar_year_table.c.holidays,
            calendar_year_table.c.workdays,
            calendar_year_table.c.source,
        )
    ):
        cal.add_year(
            YearCalendar(
                year=row.year,
                holidays=frozenset(date.fromisoformat(d) for d in row.holidays),
                workdays=frozenset(date.fromisoformat(d) for d in row.workdays),
                source=row.source,
            )
        )
    return cal
