"""Administration and supervision: schema, users, organisations, calendars, reports, the
scheduler, the audit chain, moving a database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from mediation.api._base import Session, raise_pinned_clock_refused
from mediation.engine.permissions import Action
from mediation.i18n import _, os_error

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mediation.api.admin_results import CalendarYear, Initialised, SchemaStatus, SchemaUpgraded
    from mediation.api.write_results import CalendarLoaded, LocalPeriod, Organisation
    from mediation.domain.calendar import WorkCalendar, YearCalendar
    from mediation.engine.notifiers import Notifier
    from mediation.engine.scheduler import DispatchPlan, DispatchResult
    from mediation.engine.users import User
    from mediation.reporting import reports, stats
    from mediation.storage.audit import AuditReport
    from mediation.storage.checkpoint import AuditCheckpoint
    from mediation.storage.transfer import ExportSummary, ImportSummary


class AdminAPI(Session):
    # -- schema ---------------------------------------------------------------------------

    def _current(self) -> bool:
        """Whether the database exists at the schema this code needs."""
        from mediation.storage.migrations import HEAD

        return self.store.exists() and self.store.revision() == HEAD

    def _authorize_if_current(self, action: Action) -> None:
        """Authorise on a database already at the schema this code needs (one not created
        or not yet upgraded has no users' roles to check)."""
        if self._current():
            self._authorize(action)

    def init(
        self,
        *,
        org_code: str | None = None,
        org_name: str | None = None,
        level: str = "village",
        roles: Sequence[str] = (),
        training: bool = False,
    ) -> Initialised:
        """Create the database (or bring it up to date), optionally with a first committee.
        On a database without users, the acting login becomes the first admin, with
        ``roles`` besides (a one-person committee: ``mediator``, ``staff``, ``supervisor``),
        in ``org_code``'s committee.

        :param training: make the new database a training database
            (:mod:`mediation.storage.settings`): a pinned clock is honoured there, and its
            documents say 「培训演示」. Refused on a database that holds users or cases.
        """
        self._refuse_pinned_clock_unless(training)
        if training and self._current():
            self._mark_training()  # only while it holds no users nor cases
        self._authorize_if_current(Action.INIT)
        before, after = self.store.upgrade()
        if training:
            self._mark_training()
        self._authorize(Action.INIT)
        organisation = None
        if org_code:
            from mediation.engine.organisations import add_organisation

            organisation = add_organisation(
                self.store,
                code=org_code,
                name=org_name or org_code,
                level=level,
                now=self.clock.now(),
                exist_ok=True,
                actor=self.actor,
            )
        first = self._first_admin(roles, organisation=org_code)
        from mediation.api.admin_results import Initialised
        from mediation.storage.settings import is_training

        with self.store.read() as conn:
            is_training_db = is_training(conn)
        return Initialised(
            self.store.display_url, before, after, organisation, first, is_training_db
        )

    def _refuse_pinned_clock_unless(self, training: bool) -> None:
        """Before creating anything: a pinned clock needs a training database, one this
        command is about to make (``training``) or one that is already."""
        from mediation.domain.clock import PinnedClock

        if not isinstance(self.clock, PinnedClock) or training:
            return
        from mediation.storage.migrations import HEAD

        # A database made before installation settings (revision 0017) is no training one.
        if self.store.exists() and self.store.revision() == HEAD:
            from mediation.storage.settings import is_training

            with self.store.read() as conn:
                if is_training(conn):
                    return
        raise_pinned_clock_refused()

    def _mark_training(self) -> None:
        from mediation.storage.settings import mark_training

        with self._writing() as conn:
            mark_training(conn, actor=self.actor, now=self.clock.now())

    def _first_admin(self, roles: Sequence[str], *, organisation: str | None) -> str | None:
        """Make the acting login the first admin of a database without users (there is no
        open set-up window); None when it has users."""
        from mediation.engine.users import add_user, users_exist
        from mediation.errors import PermissionDenied, UsageError

        with self._writing() as conn:
            if users_exist(conn):
                if roles:
                    raise UsageError(
                        "--role 只用于创建第一位系统管理员；本数据库已有用户",
                        hint="请系统管理员授权：mediation user grant LOGIN ROLE",
                    )
                return None
            if self.acting_admin is not None:
                raise PermissionDenied(
                    "数据库尚无用户，不能代他人操作（--as）",
                    hint="去掉 --as：运行 init 的账户成为第一位系统管理员",
                )
            add_user(
                conn,
                self.actor,
                name=self.actor,
                roles=["admin", *roles],
                organisation=organisation,
                actor=self.actor,
                now=self.clock.now(),
            )
        return self.actor

    def upgrade(self, revision: str = "head") -> SchemaUpgraded:
        """Bring the schema up to ``revision``; then, at the newest one, count again in one
        transaction the running deadlines computed by a rule since changed (each change an
        event on its case: :func:`mediation.engine.deadlines.recompute_changed_rules`).
        Running it again changes nothing."""
        from mediation.api.admin_results import SchemaUpgraded
        from mediation.engine.deadlines import recompute_changed_rules
        from mediation.storage.migrations import HEAD

        self._authorize_if_current(Action.DB_UPGRADE)
        before, after = self.store.upgrade(revision)
        recomputed: list[dict[str, Any]] = []
        if after == HEAD:
            cal = self.store.calendar()
            with self.store.write() as conn:
                recomputed = recompute_changed_rules(
                    conn, cal, actor=self.actor, now=self.clock.now()
                )
        return SchemaUpgraded(before, after, recomputed)

    def status(self) -> SchemaStatus:
        """The schema revision against the one this version needs. Creates nothing: a
        SQLite file that does not exist is not opened (``exists`` is False)."""
        from mediation.api.admin_results import SchemaStatus
        from mediation.storage.migrations import HEAD

        if self.store.missing_file() is not None:
            return SchemaStatus(self.store.display_url, None, HEAD, False, exists=False)
        found = self.store.revision()
        return SchemaStatus(self.store.display_url, found, HEAD, found == HEAD)

    def backup(self, file: Path) -> int:
        """Copy the SQLite database consistently while in use; returns the pages copied."""
        self._authorize(Action.BACKUP)
        return self.store.backup(file)

    # -- users and organisations ----------------------------------------------------------

    def add_user(
        self,
        login: str,
        *,
        name: str,
        roles: list[str],
        organisation: str | None = None,
        password: str | None = None,
    ) -> User:
        """Add a user (admins only; the first admin is whoever ran ``init``). On PostgreSQL
        with per-person logins set up (``db grants``), also the user's database login, a
        member of its roles' group roles, with ``password`` (None: the server authenticates
        it otherwise), in the same transaction; the acting login needs CREATEROLE."""
        from mediation.engine.users import add_user

        with self._writing() as conn:
            self._authorize(Action.USER_ADD, conn)
            return add_user(
                conn,
                login,
                name=name,
                roles=roles,
                organisation=organisation,
                actor=self.actor,
                now=self.clock.now(),
                password=password,
            )

    def users(self) -> list[User]:
        """Every user with their roles and organisation."""
        from mediation.engine.users import list_users

        with self.store.read() as conn:
            self._authorize(Action.USER_LIST, conn)
            return list_users(conn)

    def grant(
        self, login: str, roles: list[str], *, revoke: bool = False, organisation: str | None = None
    ) -> User:
        """Grant roles to a user (or revoke them); recorded in the audit chain. On PostgreSQL
        the user's database login follows: member of exactly its roles' group roles."""
        from mediation.engine.users import grant

        with self._writing() as conn:
            self._authorize(Action.USER_GRANT, conn)
            return grant(
                conn,
                login,
                roles,
                revoke=revoke,
                organisation=organisation,
                actor=self.actor,
                now=self.clock.now(),
            )

    def add_organisation(
        self,
        code: str,
        name: str,
        *,
        level: str,
        kind: str = "people_committee",
        parent: str | None = None,
        court_code: str | None = None,
    ) -> Organisation:
        """Register a committee, centre or organ under its parent one level up (a court
        with its ``court_code``, 法院代字, if given)."""
        from mediation.api.write_results import Organisation
        from mediation.engine.organisations import add_organisation

        self._authorize(Action.ORG_ADD)
        return Organisation.of(
            add_organisation(
                self.store,
                code=code,
                name=name,
                level=level,
                kind=kind,
                parent=parent,
                now=self.clock.now(),
                actor=self.actor,
                court_code=court_code,
            )
        )

    def edit_organisation(
        self,
        code: str,
        *,
        name: str | None = None,
        parent: str | None = None,
        level: str | None = None,
    ) -> Organisation:
        """Correct an organisation's name or move it on the ladder (its level, its parent
        one level up; ``parent=""`` removes it); recorded in the audit chain."""
        from mediation.api.write_results import Organisation
        from mediation.engine.organisations import edit_organisation

        with self._writing() as conn:
            self._authorize(Action.ORG_EDIT, conn)
            return Organisation.of(
                edit_organisation(
                    conn,
                    code,
                    name=name,
                    parent=parent,
                    level=level,
                    actor=self.actor,
                    now=self.clock.now(),
                )
            )

    def retire_organisation(self, code: str, *, reason: str | None = None) -> Organisation:
        """Retire an organisation: no new case nor hand-off goes to it; its cases stay
        readable and open ones are worked to their end. Recorded in the audit chain."""
        from mediation.api.write_results import Organisation
        from mediation.engine.organisations import retire_organisation

        with self._writing() as conn:
            self._authorize(Action.ORG_RETIRE, conn)
            return Organisation.of(
                retire_organisation(
                    conn, code, reason=reason, actor=self.actor, now=self.clock.now()
                )
            )

    def set_court_code(self, code: str, court_code: str) -> Organisation:
        """Set a court's code (法院代字, e.g. 浙0681): its own cases opened from now on are
        numbered （2026）浙0681民初123号, and its court documents print that number."""
        from mediation.api.write_results import Organisation
        from mediation.engine.organisations import set_court_code

        self._authorize(Action.ORG_SET_COURT_CODE)
        return Organisation.of(
            set_court_code(
                self.store,
                code=code,
                court_code=court_code,
                actor=self.actor,
                now=self.clock.now(),
            )
        )

    def set_period(self, code: str, *, flow: str, kind: str, count: int, unit: str) -> LocalPeriod:
        """Set an organisation's own length for a period the law leaves to local rules."""
        from mediation.api.write_results import LocalPeriod
        from mediation.engine.organisations import set_period

        self._authorize(Action.ORG_SET_PERIOD)
        return LocalPeriod.of(
            set_period(self.store, code=code, flow=flow, kind=kind, count=count, unit=unit)
        )

    def organisations(self) -> list[dict[str, Any]]:
        """Every organisation on the ladder, with its parent and number of cases."""
        from mediation.engine.queries import list_organisations

        self._authorize(Action.ORG_LIST)
        return list_organisations(self.store)

    # -- calendar -------------------------------------------------------------------------

    def load_calendar(self, year: YearCalendar) -> CalendarLoaded:
        """Load a year's holiday calendar and recompute the provisional deadlines."""
        from mediation.api.write_results import CalendarLoaded
        from mediation.engine.deadlines import load_calendar_year

        self._authorize(Action.CALENDAR_LOAD)
        return CalendarLoaded.of(
            load_calendar_year(self.store, year, actor=self.actor, now=self.clock.now())
        )

    def working_calendar(self) -> WorkCalendar:
        """The working-day calendar of this database: the years loaded into it, else the
        package's (for computing a due date, which anyone may)."""
        self._authorize(Action.DEADLINE_COMPUTE)
        return self.store.calendar()

    def calendar_year(self, year: int) -> CalendarYear:
        """A year's weekday holidays and weekend working days, and their source."""
        from mediation.api.admin_results import CalendarYear

        self._authorize(Action.CALENDAR_SHOW)
        return CalendarYear.of(self.store.calendar().year_view(year))

    # -- reports and the scheduler --------------------------------------------------------

    def deadline_rows(
        self,
        *,
        as_of: date,
        filters: reports.Filters,
        within: int | None = None,
    ) -> list[dict[str, Any]]:
        """Open deadlines overdue on ``as_of`` (or, with ``within``, due in that many
        days)."""
        from mediation.reporting import reports

        self._authorize(Action.REPORT_OVERDUE if within is None else Action.REPORT_DUE_SOON)
        return reports.overdue_rows(self.store, as_of=as_of, filters=filters, within=within)

    def deadline_csv(
        self, out: TextIO, *, as_of: date, filters: reports.Filters, within: int | None = None
    ) -> int:
        """The same rows as CSV into ``out``; returns their number."""
        from mediation.reporting import reports

        self._authorize(Action.REPORT_OVERDUE if within is None else Action.REPORT_DUE_SOON)
        return reports.write_csv(self.store, out, as_of=as_of, filters=filters, within=within)

    def stats(self, selection: stats.Selection) -> stats.StatsReport:
        """The statistics of the cases opened in a period."""
        from mediation.reporting import stats

        self._authorize(Action.REPORT_STATS)
        return stats.compute(self.store, selection)

    def dispatch(self, notifiers: list[Notifier]) -> DispatchResult:
        """One run of the deadline dispatcher: consequences, reminders, overdue marks."""
        from mediation.engine import scheduler

        self._authorize(Action.SCHEDULER_RUN)
        return scheduler.dispatch(self.store, now=self.clock.now(), notifiers=notifiers)

    def plan_dispatch(self) -> DispatchPlan:
        """What :meth:`dispatch` would do now, worked out and rolled back: nothing is
        written and nothing is sent (``scheduler run --dry-run``)."""
        from mediation.engine import scheduler

        self._authorize(Action.SCHEDULER_RUN)
        return scheduler.plan(self.store, now=self.clock.now())

    def run_scheduler(self, notifiers: list[Notifier], *, interval: int, on_result: Any) -> None:
        """Dispatch now and then every ``interval`` seconds, until stopped."""
        from mediation.engine import scheduler

        self._authorize(Action.SCHEDULER_RUN)
        scheduler.run_forever(
            self.store,
            clock=self.clock,
            notifiers=notifiers,
            interval=interval,
            on_result=on_result,
        )

    # -- audit and moving -----------------------------------------------------------------

    def verify_audit(self, *, since: AuditCheckpoint | Path | None = None) -> AuditReport:
        """Recompute every hash and both chains, and check that the state rows (cases,
        users, keys, sealed documents) equal what the chain records
        (:mod:`mediation.storage.consistency`), on one snapshot of the database. With
        ``since`` (a checkpoint, or its file), only what follows it
        (:mod:`mediation.storage.checkpoint`).

        :raises TamperedError: the checkpoint is another database's, or was edited.
        :raises ValidationError: the file is not a checkpoint.
        """
        self._authorize(Action.AUDIT_VERIFY)
        with self.store.snapshot() as conn:
            return _verified(conn, _checkpoint_of(since))

    def audit_checkpoint(self, *, since: AuditCheckpoint | Path | None = None) -> AuditCheckpoint:
        """Verify the chains and the state rows (everything, or what follows ``since``)
        and return a signed checkpoint of the head they verified, to keep outside the
        database (``audit verify --since``).

        :raises TamperedError: when the verification finds any problem (no checkpoint).
        """
        from mediation.errors import TamperedError
        from mediation.storage import checkpoint

        self._authorize(Action.AUDIT_CHECKPOINT)
        with self.store.snapshot() as conn:
            report = _verified(conn, _checkpoint_of(since))
            if not report.ok:
                raise TamperedError(
                    f"审计链未通过核验（{len(report.problems)} 处问题），不生成检查点："
                    + "".join(f"\n  {p}" for p in report.problems[:20]),
                    hint=_("请运行 `mediation audit verify` 查看全部问题，并从备份恢复"),
                )
            return checkpoint.take(conn, now=self.clock.now())

    def export(
        self, out: IO[bytes] | Path, *, reveal: bool = False, passphrase: str | None = None
    ) -> ExportSummary:
        """Write the database as JSON lines: with ``reveal`` a lossless move (admins only),
        else a copy with personal data masked. Signed with ``passphrase`` (default
        ``MEDIATION_EXPORT_PASSPHRASE``), which a revealed export requires."""
        from mediation.storage import transfer

        self._authorize(Action.EXPORT)
        if reveal:
            with self.store.read() as conn:
                self._require(conn, Action.EXPORT_REVEAL)
        now = self.clock.now()
        passphrase = passphrase or transfer.passphrase_from_env()
        if isinstance(out, Path):
            return transfer.export_file(
                self.store, out, reveal=reveal, actor=self.actor, now=now, passphrase=passphrase
            )
        return transfer.export_jsonl(
            self.store, out, reveal=reveal, actor=self.actor, now=now, passphrase=passphrase
        )

    def import_(self, source: IO[bytes] | Path, *, passphrase: str | None = None) -> ImportSummary:
        """Load an export into a new, empty database at the same schema revision, once its
        signature matches ``passphrase`` (default ``MEDIATION_EXPORT_PASSPHRASE``)."""
        from mediation.storage import transfer

        self._authorize_if_current(Action.IMPORT)  # an empty target is in set-up mode
        return transfer.import_jsonl(
            self.store, source, passphrase=passphrase or transfer.passphrase_from_env()
        )

    def demo(self, **options: Any) -> list[dict[str, Any]]:
        """Create demo data and walk one case through the people's mediation flow
        (:func:`mediation.demo.run_demo`'s options); returns the demo's overdue deadlines
        as of today, the supervisor's report it ends with."""
        from mediation.demo import run_demo
        from mediation.reporting import reports

        self._refuse_pinned_clock_unless(True)
        self._authorize_if_current(Action.DEMO)
        self.store.upgrade()
        from mediation.engine.users import users_exist

        with self.store.read() as conn:
            fresh = not users_exist(conn)
        if fresh:
            self._mark_training()  # a new database the demo fills is a training one
        self._authorize(Action.DEMO)
        if self._first_admin((), organisation=None):
            # A demonstration database: its creator plays every part.
            self.grant(self.actor, ["mediator", "staff", "supervisor"])
        run_demo(self.store, now=self.clock.now(), actor=self.actor, **options)
        return reports.overdue_rows(self.store, as_of=self.clock.today())


def _checkpoint_of(since: AuditCheckpoint | Path | None) -> AuditCheckpoint | None:
    """A checkpoint given as itself or as its file."""
    if not isinstance(since, Path):
        return since
    from mediation.errors import UsageError
    from mediation.storage import checkpoint

    try:
        raw = since.read_bytes()
    except OSError as exc:
        raise UsageError(
            _("无法读取 {path}：{why}").format(path=since, why=os_error(exc)),
            hint=_("请给出 `mediation audit checkpoint` 写出的检查点文件"),
        ) from None
    return checkpoint.parse(raw, str(since))


def _verified(conn: Connection, since: AuditCheckpoint | None) -> AuditReport:
    """The audit report of ``conn``'s snapshot: everything, or what follows ``since``."""
    from mediation.storage import audit_scan, checkpoint, consistency, stamps

    if since is None:
        steps = audit_scan.CaseSteps()  # the scan sees each case's steps: no second pass
        report = audit_scan.scan(conn, steps=steps)
        report.problems.extend(stamps.check(conn))
        report.problems.extend(consistency.check(conn, steps=steps))
        return report
    checkpoint.check(conn, since)
    report = audit_scan.scan(conn, after=(since.position, since.head))
    report.problems.extend(stamps.check(conn, after=since.position))
    report.problems.extend(
        consistency.check(conn, after=since.position, documents_after=since.documents)
    )
    return report
