"""Rendering many cases' documents: what there is to render, and worker processes.

:func:`plan` lists every document the cases have now (optionally only cases with events
since a day, or one kind); :func:`render_all` renders them, in this process or in a pool
of long-lived worker processes, each of which opens the database and sets WeasyPrint up
once (one FontConfiguration per process), then renders its share; a batch can be stopped
part-way (Ctrl-C) and keeps what it finished. Refusals (a signed
document, missing data) and failures (any error rendering one document) are reported as
outcomes, with their reason, not raised: the batch goes on.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from mediation.documents import context as C
from mediation.documents import kinds as K
from mediation.documents.service import DocumentSigned, _stylesheet, render
from mediation.domain.clock import BUSINESS_TZ
from mediation.errors import MediationError, UsageError, ValidationError
from mediation.i18n import _
from mediation.storage._tables import event_table, proceeding_table
from mediation.storage.store import Store


@dataclass
class Outcome:
    """What happened to one document of a batch."""

    case_number: str
    kind: str
    seq: int
    status: str  # rendered | skipped_signed | refused | failed
    message: str = ""
    pages: int = 0
    size: int = 0


def plan(
    store: Store, *, since: date | None = None, kind: str | None = None
) -> list[tuple[int, str, int]]:
    """(case id, kind, seq) of every document the cases have now; with ``since``, only
    cases with an event on or after that day."""
    if kind is not None and kind not in K.KINDS:
        raise UsageError(
            _("没有文书种类 {kind}").format(kind=repr(kind)), hint="kinds: " + ", ".join(K.KINDS)
        )
    query = select(proceeding_table.c.id).order_by(proceeding_table.c.id)
    if since is not None:
        start = datetime(since.year, since.month, since.day, tzinfo=BUSINESS_TZ)
        recent = select(event_table.c.proceeding_id).where(event_table.c.occurred_at >= start)
        query = query.where(proceeding_table.c.id.in_(recent))
    work: list[tuple[int, str, int]] = []
    with store.read() as conn:
        for pid in conn.execute(query).scalars():
            case = C.gather(conn, pid)
            work.extend(
                (pid, spec.kind, seq)
                for spec, seq in C.available(case)
                if kind is None or spec.kind == kind
            )
    return work


_worker_store: Store | None = None


def _worker_init(url: str) -> None:
    """Each worker opens the database once and builds WeasyPrint once."""
    global _worker_store
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the batch
    # (Batch.stop) and lets the workers finish the document each is rendering.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_store = Store(url)
    from mediation.documents import _pdf

    _pdf.renderer(_stylesheet())


def _worker_render(pid: int, kind: str, seq: int, actor: str, now: datetime) -> Outcome:
    assert _worker_store is not None
    return render_one(_worker_store, pid, kind, seq, actor=actor, now=now)


def render_one(
    store: Store, pid: int, kind: str, seq: int, *, actor: str, now: datetime
) -> Outcome:
    """Render one document of a batch; refusals are reported, not raised."""

    try:
        result = render(store, pid, kind, actor=actor, now=now, seq=seq)
    except DocumentSigned as exc:
        return Outcome(_number(store, pid), kind, seq, "skipped_signed", exc.message)
    except ValidationError as exc:
        return Outcome(_number(store, pid), kind, seq, "refused", exc.message)
    except MediationError as exc:
        return Outcome(_number(store, pid), kind, seq, "failed", exc.message)
    except Exception as exc:  # one document's failure does not stop the batch
        reason = f"生成失败（{type(exc).__name__}：{str(exc)[:200]}）"
        return Outcome(_number(store, pid), kind, seq, "failed", reason)
    return Outcome(result.case_number, kind, seq, "rendered", "", result.pages, result.size)


def _number(store: Store, pid: int) -> str:
    with store.read() as conn:
        return str(
            conn.execute(
                select(proceeding_table.c.case_number).where(proceeding_table.c.id == pid)
            ).scalar_one()
        )


def render_all(
    store: Store,
    work: list[tuple[int, str, int]],
    *,
    actor: str,
    now: datetime,
    jobs: int = 1,
) -> Batch:
    """Render ``work`` (from :func:`plan`): iterate the result for each outcome as it
    completes; :meth:`Batch.stop` ends the batch early (Ctrl-C).

    ``jobs`` > 1 uses that many long-lived worker processes (started fresh, not forked,
    so no database connection or font state is shared); each opens the database and sets
    WeasyPrint up once, then renders its share.
    """
    return Batch(store, work, actor=actor, now=now, jobs=jobs)


class Batch(Iterator[Outcome]):
    """A batch being rendered, one :class:`Outcome` per document as it completes.

    Each document is stored in a transaction of its own, so a batch stopped part-way
    (:meth:`stop`, on Ctrl-C) keeps what it finished: documents being rendered at that
    moment are finished (or, rendered in this process, rolled back whole), the rest are
    not started.
    """

    def __init__(
        self,
        store: Store,
        work: list[tuple[int, str, int]],
        *,
        actor: str,
        now: datetime,
        jobs: int,
    ) -> None:
        self._store, self._actor, self._now = store, actor, now
        self._work = iter(work)
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[Outcome]] = []
        self._seen: set[Future[Outcome]] = set()
        if jobs > 1 and work:
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(store.url,),
            )
            self._futures = [
                self._pool.submit(_worker_render, pid, kind, seq, actor, now)
                for pid, kind, seq in work
            ]
            self._completed = as_completed(self._futures)

    def __next__(self) -> Outcome:
        if self._pool is None:
            pid, kind, seq = next(self._work)  # StopIteration: all done
            return render_one(self._store, pid, kind, seq, actor=self._actor, now=self._now)
        try:
            future = next(self._completed)
        except StopIteration:
            self._pool.shutdown(wait=True)
            raise
        self._seen.add(future)
        return future.result()

    def stop(self) -> list[Outcome]:
        """End the batch now: nothing more is started; the documents the workers are
        rendering are finished, and their outcomes (not yet iterated) returned."""
        if self._pool is None:
            self._work = iter(())
            return []
        self._pool.shutdown(wait=True, cancel_futures=True)
        return [
            f.result()
            for f in self._futures
            if f not in self._seen and f.done() and not f.cancelled() and f.exception() is None
        ]


#: Documents a worker process must have to pay for its start: a fresh interpreter importing
#: WeasyPrint and cutting the font takes about 0.9 s, a document about 0.1 s. Measured with
#: ``doc render-all`` on the demo on 2 CPUs: 2 documents 1.20 s in this process against
#: 1.48 s with 2 workers, 7 documents 1.33 s against 1.65 s, 14 and 18 documents even,
#: 67 documents 4.70 s against 3.49 s.
DOCUMENTS_PER_WORKER = 8


def default_jobs() -> int:
    """One worker per CPU the process may use."""
    return max(
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 1
    )


def auto_jobs(documents: int, cpus: int | None = None) -> int:
    """The workers for a batch of ``documents`` when the user leaves the number to us
    (``-j 0``): one per CPU, but no more than have :data:`DOCUMENTS_PER_WORKER` documents
    each; 1 (this process renders them) for a small batch."""
    return max(1, min(cpus or default_jobs(), documents // DOCUMENTS_PER_WORKER))
