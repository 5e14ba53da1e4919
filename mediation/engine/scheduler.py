"""The deadline dispatcher, and the APScheduler loop that runs it.

The database is the source of truth; the dispatcher only looks at it and acts, so it may
run late, twice, or on two machines and every decision is still made once:

- the statutory consequence a flow declares (``DeadlineRule.on_expiry``): fired as an
  ordinary transition by the user ``scheduler``; once fired the clock has stopped, so it
  cannot be fired again, and it is not overdue (the law's outcome, not an overrun);
- a reminder ``remind_before`` days ahead of a due date: claimed by setting
  ``deadline.reminded_at`` where it is still empty, and queued in the outbox (one row per
  deadline and kind, a unique constraint);
- an overdue mark the day after the due date: ``deadline.overdue_at``, likewise;
- delivery of the outbox to the notifiers, retried until it succeeds (at least once).

On PostgreSQL one dispatcher at a time holds an advisory lock; a second one skips its
run. On SQLite write transactions are serialised by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, or_, select, text, update

from mediation.domain.clock import Clock, business_date
from mediation.engine.machine import load
from mediation.errors import ConflictError, TransitionNotAllowed
from mediation.storage._tables import deadline_table, outbox_table, proceeding_table

if TYPE_CHECKING:
    from mediation.engine.notifiers import Notifier
    from mediation.storage.store import Store

log = logging.getLogger(__name__)

SCHEDULER_ACTOR = "scheduler"
#: pg_try_advisory_lock key: "mediation dispatcher" (any constant shared by all runs).
ADVISORY_KEY = 0x6D656469
_D, _P, _X = deadline_table, proceeding_table, outbox_table


@dataclass
class DispatchResult:
    """What one run did."""

    ran: bool = True
    reminders: int = 0
    overdue: int = 0
    consequences: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    failed_deliveries: int = 0
    sealed: int = 0


def _candidates(conn: Connection, today: date, *, overdue: bool) -> list[Any]:
    q = (
        select(
            _D.c.id,
            _D.c.kind,
            _D.c.label,
            _D.c.due,
            _D.c.legal_basis,
            _D.c.proceeding_id,
            _P.c.flow,
            _P.c.case_number,
            _P.c.organisation_id,
            _P.c.mediator,
        )
        .join(_P, _P.c.id == _D.c.proceeding_id)
        .where(_D.c.status == "open", _D.c.duty.is_(True))
    )
    if overdue:
        q = q.where(_D.c.due < today, _D.c.overdue_at.is_(None))
    else:
        # 30 days is longer than any lead time; the rule's own lead is checked below.
        q = q.where(_D.c.due >= today, _D.c.due <= today + timedelta(days=30))
        q = q.where(_D.c.reminded_at.is_(None))
    return list(conn.execute(q.order_by(_D.c.id)))


def _queue(conn: Connection, row: Any, kind: str, subject: str, body: str, now: datetime) -> None:
    conn.execute(
        insert(_X).values(
            kind=kind,
            deadline_id=row.id,
            due=row.due,
            proceeding_id=row.proceeding_id,
            organisation_id=row.organisation_id,
            subject=subject,
            body=body,
            created_at=now,
            attempts=0,
        )
    )


def _claim(conn: Connection, deadline_id: int, column: str, now: datetime) -> bool:
    """Set ``column`` on the deadline if nobody has: True when this run made the claim."""
    col = _D.c[column]
    done = conn.execute(
        update(_D).where(_D.c.id == deadline_id, col.is_(None)).values({column: now})
    )
    return done.rowcount == 1


def mark_and_queue(store: Store, now: datetime) -> tuple[int, int]:
    """Reminders and overdue marks, one transaction: (reminders, overdue) queued now."""
    with store.write() as conn:
        reminded, overdue = _mark_and_queue_in(conn, now)
    return len(reminded), len(overdue)


def _mark_and_queue_in(conn: Connection, now: datetime) -> tuple[list[Any], list[Any]]:
    """Claim and queue, in the caller's transaction: the deadlines reminded and marked."""
    today = business_date(now)
    reminded: list[Any] = []
    overdue: list[Any] = []
    for row in _candidates(conn, today, overdue=False):
        rule = load(row.flow).rules.get(row.kind)
        lead = rule.remind_before if rule else 3
        if row.due - timedelta(days=lead) > today or not _claim(conn, row.id, "reminded_at", now):
            continue
        days = (row.due - today).days
        _queue(
            conn,
            row,
            "reminder",
            f"期限提醒：{row.case_number} {row.label} {row.due} 届满",
            f"案件 {row.case_number} 的{row.label}将于 {row.due} 届满（还有 {days} 天）。\n"
            f"法律依据：{row.legal_basis}\n承办调解员：{row.mediator or '（未指派）'}",
            now,
        )
        reminded.append(row)
    for row in _candidates(conn, today, overdue=True):
        if not _claim(conn, row.id, "overdue_at", now):
            continue
        days = (today - row.due).days
        _queue(
            conn,
            row,
            "overdue",
            f"超期督办：{row.case_number} {row.label}已逾期 {days} 天",
            f"案件 {row.case_number} 的{row.label}已于 {row.due} 届满，逾期 {days} 天。\n"
            f"法律依据：{row.legal_basis}\n承办调解员：{row.mediator or '（未指派）'}",
            now,
        )
        overdue.append(row)
    return reminded, overdue


def fire_consequences(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Fire each flow's ``on_expiry`` trigger for clocks that ran out; each in its own
    transaction, as the user ``scheduler``."""
    today = business_date(now)
    with store.read() as conn:
        rows = _candidates_expired(conn, today)
    cal = store.calendar()
    fired = []
    for row in rows:
        rule = load(row.flow).rules.get(row.kind)
        if rule is None or rule.on_expiry is None:
            continue
        try:
            # The consequence and its notice: one transaction, so neither is ever lost.
            with store.write() as conn:
                fired.append(_fire_in(conn, row, rule, now=now, cal=cal))
        except (TransitionNotAllowed, ConflictError) as exc:
            # Someone (another dispatcher, or a mediator) changed the case first.
            log.info("consequence for case id %s not fired: %s", row.proceeding_id, exc.message)
    return fired


def _fire_in(conn: Connection, row: Any, rule: Any, *, now: datetime, cal: Any) -> dict[str, Any]:
    """Fire ``rule``'s consequence for the expired deadline ``row`` and queue its notice,
    in the caller's transaction; what was fired."""
    from mediation.engine.cases import advance_in

    result = advance_in(
        conn,
        row.proceeding_id,
        rule.on_expiry,
        actor=SCHEDULER_ACTOR,
        now=now,
        cal=cal,
        note=f"{row.label}已于 {row.due} 届满：{rule.legal_basis}",
        payload={"deadline": row.kind, "due": row.due.isoformat()},
    )
    _queue(
        conn,
        row,
        "consequence",
        f"期满自动处理：{result.case_number} {result.to_state_label}",
        f"案件 {result.case_number} 的{row.label}已于 {row.due} 届满，"
        f"依{rule.legal_basis}，已自动记录为「{result.to_state_label}」。",
        now,
    )
    return {
        "case_number": result.case_number,
        "trigger": rule.on_expiry,
        "to_state": result.to_state,
        "to_state_label": result.to_state_label,
    }


def _candidates_expired(conn: Connection, today: date) -> list[Any]:
    return list(
        conn.execute(
            select(
                _D.c.id,
                _D.c.kind,
                _D.c.label,
                _D.c.due,
                _D.c.proceeding_id,
                _P.c.flow,
                _P.c.organisation_id,
            )
            .join(_P, _P.c.id == _D.c.proceeding_id)
            .where(_D.c.status == "open", _D.c.due < today)
            .order_by(_D.c.id)
        )
    )


#: How long a claim on an outbox row holds before another dispatcher may take it over.
CLAIM_LEASE = timedelta(minutes=10)


def _pending(limit: int) -> Any:
    """The outbox rows a delivery would look at, oldest first."""
    return select(_X).where(_X.c.sent_at.is_(None)).order_by(_X.c.id).limit(limit)


def deliver(
    store: Store, notifiers: list[Notifier], now: datetime, limit: int = 500
) -> tuple[int, int]:
    """Send queued notifications: claim a row, send it to every notifier, mark it sent.

    A failure releases the claim and records the error; the next run tries again.
    """
    with store.read() as conn:
        ids = list(conn.execute(_pending(limit).with_only_columns(_X.c.id)).scalars())
    sent = failed = 0
    for outbox_id in ids:
        with store.write() as conn:
            claimed = conn.execute(
                update(_X)
                .where(
                    _X.c.id == outbox_id,
                    _X.c.sent_at.is_(None),
                    or_(_X.c.claimed_at.is_(None), _X.c.claimed_at < now - CLAIM_LEASE),
                )
                .values(claimed_at=now, attempts=_X.c.attempts + 1)
            ).rowcount
            row = conn.execute(
                select(_X.c.kind, _X.c.subject, _X.c.body).where(_X.c.id == outbox_id)
            ).one()
        if not claimed:
            continue  # another dispatcher is sending it
        try:
            for notifier in notifiers:
                notifier.send(row.subject, row.body, kind=row.kind, at=now)
        except Exception as exc:  # any delivery failure is retried on the next run
            failed += 1
            with store.write() as conn:
                conn.execute(
                    update(_X)
                    .where(_X.c.id == outbox_id)
                    .values(claimed_at=None, last_error=f"{type(exc).__name__}: {exc}")
                )
            continue
        with store.write() as conn:
            conn.execute(update(_X).where(_X.c.id == outbox_id).values(sent_at=now))
        sent += 1
    return sent, failed


def dispatch(store: Store, *, now: datetime, notifiers: list[Notifier]) -> DispatchResult:
    """One run: consequences, reminders, overdue marks, then delivery."""
    lock = _AdvisoryLock(store)
    if not lock.acquire():
        log.info("another dispatcher holds the lock; skipping this run")
        return DispatchResult(ran=False)
    try:
        result = DispatchResult()
        # The statutory consequences first: a clock whose expiry is the law's own outcome
        # (医调委 deemed failure, a labour lapse) is then stopped as expired and is never
        # marked, nor noticed, as overdue (超期); one whose consequence cannot fire still is.
        result.consequences = fire_consequences(store, now)
        result.reminders, result.overdue = mark_and_queue(store, now)
        result.delivered, result.failed_deliveries = deliver(store, notifiers, now)
        result.sealed = store.seal_pending()  # audit entries a busy moment left pending
        return result
    finally:
        lock.release()


@dataclass(frozen=True)
class DispatchPlan:
    """What a run of the dispatcher would do at ``as_of`` (``scheduler run --dry-run``),
    worked out by the run's own code in a transaction that is rolled back: nothing of it
    is written, and a real run at the same moment does exactly this.

    Each list holds labelled rows: ``reminders`` and ``overdue`` the deadlines
    (``case_number``, ``deadline``, ``due``) a reminder would be sent for or marked
    overdue; ``consequences`` the statutory consequences (``case_number``, ``trigger``,
    ``to_state``, ``to_state_label``); ``notifications`` the notices (``kind``,
    ``subject``) delivery would send, those queued by earlier runs first.
    """

    as_of: datetime
    reminders: tuple[dict[str, Any], ...]
    overdue: tuple[dict[str, Any], ...]
    consequences: tuple[dict[str, Any], ...]
    notifications: tuple[dict[str, Any], ...]

    @property
    def empty(self) -> bool:
        """Whether the run would do nothing at all."""
        return not (self.reminders or self.overdue or self.consequences or self.notifications)


class _RollBack(Exception):
    """Raised inside the dry run's transaction to undo it, carrying the plan out."""

    def __init__(self, plan: DispatchPlan) -> None:
        super().__init__("dry run")
        self.plan = plan


def plan(store: Store, *, now: datetime, limit: int = 500) -> DispatchPlan:
    """What :func:`dispatch` would do at ``now``: the same steps, in one transaction that
    is then rolled back (each consequence in a savepoint, so one that would be refused is
    left out as the real run leaves it out). Delivery is not attempted; the notices it
    would send are listed."""

    def deadline(row: Any) -> dict[str, Any]:
        return {"case_number": row.case_number, "deadline": row.label, "due": row.due}

    today = business_date(now)
    cal = store.calendar()
    try:
        with store.write() as conn:
            fired = []  # in the order dispatch() runs: consequences, then marks
            for row in _candidates_expired(conn, today):
                rule = load(row.flow).rules.get(row.kind)
                if rule is None or rule.on_expiry is None:
                    continue
                try:
                    with conn.begin_nested():
                        fired.append(_fire_in(conn, row, rule, now=now, cal=cal))
                except (TransitionNotAllowed, ConflictError):
                    continue
            reminded, overdue = _mark_and_queue_in(conn, now)
            notices = [
                {"kind": r.kind, "subject": r.subject}
                for r in conn.execute(_pending(limit))
                if r.claimed_at is None or r.claimed_at < now - CLAIM_LEASE
            ]
            raise _RollBack(
                DispatchPlan(
                    as_of=now,
                    reminders=tuple(deadline(r) for r in reminded),
                    overdue=tuple(deadline(r) for r in overdue),
                    consequences=tuple(fired),
                    notifications=tuple(notices),
                )
            )
    except _RollBack as done:
        return done.plan
    raise AssertionError("unreachable")  # pragma: no cover


class _AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        if self.store.dialect != "postgresql":
            return True
        self.conn = self.store.engine.connect()
        got = bool(
            self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        )
        self.conn.commit()
        if not got:
            self.conn.close()
            self.conn = None
        return got

    def release(self) -> None:
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
        except BaseException:
            # Not back to the engine's pool with the lock possibly still held: ending the
            # server session releases it.
            conn.invalidate()
            raise
        finally:
            conn.close()


def run_forever(
    store: Store, *, clock: Clock, notifiers: list[Notifier], interval: int, on_result: Any = None
) -> None:
    """Run :func:`dispatch` now and every ``interval`` seconds until interrupted.

    Missed runs (the machine slept, a run took too long) are coalesced into one: the
    dispatcher catches up from the database anyway.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    from mediation.domain.clock import BUSINESS_TZ

    def job() -> None:
        result = dispatch(store, now=clock.now(), notifiers=notifiers)
        if on_result is not None:
            on_result(result)

    scheduler = BlockingScheduler(timezone=BUSINESS_TZ)
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=interval, timezone=BUSINESS_TZ),
        id="dispatch",
        next_run_time=datetime.now(BUSINESS_TZ),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
