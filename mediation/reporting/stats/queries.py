"""The statements of a report: cases by outcome, received cases by month and type, the
mediation clocks, what followed an agreement, judicial confirmations, repeats.

Each is shaped so that SQLite sorts no row (see the package docstring)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, null, or_, select, tuple_

from mediation.reporting.stats.figures import (
    CLOCK,
    PERFORMANCE,
    SATISFACTION,
    SATISFACTION_CODE,
    flows_with,
)
from mediation.reporting.stats.selection import Count, Query, by_position, unindexed, utc_midnight
from mediation.storage._tables import (
    deadline_table,
    dispute_merge_table,
    dispute_table,
    proceeding_table,
)


def _merged_away() -> Any:
    """Disputes merged into another (a live merge): the same dispute as the one kept.
    Not correlated, so the database evaluates it once."""
    return (
        select(dispute_merge_table.c.merged_id)
        .where(dispute_merge_table.c.split_at.is_(None))
        .scalar_subquery()
    )


def _needs_dispute(by: str | None) -> bool:
    return by in ("type", "channel")


def cases(qx: Query, by: str | None) -> Any:
    """Cases counted by (key, flow, state, outcome, level), with ``new``: how many of
    them start a dispute (no parent case, or a petition diverted to mediation), not
    counting a case of a dispute merged into another (not a dispute of its own).

    Grouped in the order of ``ix_proceeding_report``, which covers every column read:
    SQLite counts while walking the index, without sorting a row.
    """
    parent = proceeding_table.alias("parent")
    # Correlated: looked up only for the few cases that have a parent.
    parent_flow = (
        select(parent.c.flow).where(parent.c.id == proceeding_table.c.parent_id).scalar_subquery()
    )
    new = case(
        (proceeding_table.c.dispute_id.in_(_merged_away()), 0),
        (proceeding_table.c.parent_id.is_(None), 1),
        (parent_flow == "petition", 1),
        else_=0,
    )
    dims = qx.dims(
        by,
        proceeding_table.c.flow,
        proceeding_table.c.state,
        proceeding_table.c.outcome,
        proceeding_table.c.level,
    )
    q = select(*dims, func.count().label("n"), func.sum(new).label("new")).select_from(
        proceeding_table
    )
    if _needs_dispute(by):
        q = q.join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    return q.where(*qx.cohort()).group_by(*by_position(len(dims)))


def volume(qx: Query) -> Count:
    """Cases by (month opened, dispute type), for the chart of received cases."""
    dims = [qx.sql.month(proceeding_table.c.opened_at).label("month"), dispute_table.c.dispute_type]
    q = (
        select(*dims)
        .select_from(proceeding_table)
        .join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    )
    # In table order (else SQLite reads the cases from the covering index, in its order,
    # and seeks their disputes at random): disputes are stored in nearly the same order.
    return Count(q.where(*qx.cohort(scan=True)), order=proceeding_table.c.id)


def clocks(qx: Query, by: str | None, charts: bool) -> Count:
    """Mediation clocks (:data:`CLOCK`) of the cases, counted by (key, [month], status,
    start, stop) or (key, [month], status, span). ``status``: met / late (stopped in time
    or not), overdue (running past its due day on ``as_of``), running, other. A stopped
    clock brings its start day and the business day it stopped, for Python to count the
    days against the calendar (a few thousand distinct pairs): on PostgreSQL the day
    itself; on SQLite, whose date functions cost a microsecond a call, the stored UTC
    text's date and whether its hour is 16 or later (the business day is the next one),
    all in one text (``span``, see :meth:`.tally.Durations.of`).
    """
    sql, sel = qx.sql, qx.sel
    stopped = deadline_table.c.status.in_(("met", "late"))
    status = case(
        (deadline_table.c.status == "late", "late"),
        (deadline_table.c.status == "met", "met"),
        (and_(deadline_table.c.status == "open", deadline_table.c.due < sel.as_of), "overdue"),
        (deadline_table.c.status.in_(("open", "paused")), "running"),
        else_="other",
    )
    extra = [sql.month(proceeding_table.c.opened_at).label("month")] if charts else []
    if sql.pg:
        span = [
            case((stopped, deadline_table.c.starts_on), else_=null()).label("start"),
            case((stopped, sql.biz_date(deadline_table.c.closed_at)), else_=null()).label("stop"),
        ]
    else:
        # One text, "<start day><UTC day of the stop>[+]", fewer values for the driver
        # to hand over: "+" when the stop's hour is 16 or later (the next business day).
        late = case((func.substr(deadline_table.c.closed_at, 12, 2) >= "16", "+"), else_="")
        text = func.substr(deadline_table.c.starts_on, 1, 10).concat(
            func.substr(deadline_table.c.closed_at, 1, 10)
        )
        span = [case((stopped, text.concat(late)), else_=null()).label("span")]
    dims = qx.dims(by, *extra, status.label("status"), *span)
    q = (
        select(*dims)
        .select_from(proceeding_table)
        .join(deadline_table, deadline_table.c.proceeding_id == proceeding_table.c.id)
    )
    if _needs_dispute(by):
        q = q.join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    where = [deadline_table.c.kind == CLOCK, deadline_table.c.duty.is_(True), *qx.cohort(scan=True)]
    if qx.ids is not None:  # said of the clocks too, for SQLite to seek the range
        where.append(deadline_table.c.proceeding_id.between(*qx.ids))
    # In table order, the clocks found by ``ix_deadline_clock`` in the same order.
    return Count(q.where(*where))


#: What followed an agreement, as the facts keep it (``facts[trigger]`` is the payload of
#: the last firing of ``trigger``, see mediation.engine.cases): each path names a field the
#: trigger requires, so it is present exactly when the trigger was fired.
_AFTER_AGREEMENT = (
    ("performance", "follow_up.performance"),
    ("satisfaction", "follow_up.satisfaction"),
    ("applied", "apply_confirmation.court"),
    ("granted", "confirmation_granted.ruling_ref"),
    ("denied", "confirmation_denied.ruling_ref"),
)


def after_agreement(qx: Query, by: str | None) -> Any:
    """Follow-ups (performance, satisfaction) and in-flow judicial confirmation of the
    settled cases, from their facts: (key, performance, satisfaction, applied, granted,
    denied, count).

    The one query that reads JSON, and the costliest: the facts of each settled case are
    parsed once (one json_extract with every path on SQLite; one jsonb cast on
    PostgreSQL) in a subquery the database must not flatten, which would parse them once
    per reference.
    """
    from sqlalchemy.dialects.postgresql import JSONB

    flows = sorted(flows_with("follow_up") | flows_with("confirmation_granted"))
    inner_dims = qx.dims(by)
    if qx.sql.pg:
        inner_dims.append(cast(proceeding_table.c.facts, JSONB).label("doc"))
    else:
        paths = [f"$.{path}" for _, path in _AFTER_AGREEMENT]
        inner_dims.append(func.json_extract(proceeding_table.c.facts, *paths).label("doc"))
    inner = select(*inner_dims).select_from(proceeding_table)
    if _needs_dispute(by):
        inner = inner.join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    # ``flow || ''``: with the bare column SQLite walks the (flow, state) index and fetches
    # most of the table's rows one by one, three times slower than reading it through.
    inner = inner.where(
        *qx.cohort(),
        (proceeding_table.c.flow + "").in_(flows),
        proceeding_table.c.outcome.in_(("agreement_written", "agreement_oral")),
    )
    # Not flattened: SQLite keeps a LIMITed subquery of an aggregate apart; PostgreSQL an
    # OFFSETed one.
    facts = (inner.offset(0) if qx.sql.pg else inner.limit(-1)).subquery("facts")
    extracted: dict[str, Any] = {}
    for i, (name, path) in enumerate(_AFTER_AGREEMENT):
        if qx.sql.pg:
            key, field_ = path.split(".")
            extracted[name] = facts.c.doc.op("->")(literal(key, String)).op("->>")(
                literal(field_, String)
            )
        else:
            extracted[name] = func.json_extract(facts.c.doc, f"$[{i}]")

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # Sums, not a GROUP BY on the values: SQLite's GROUP BY sorts every row it is given,
    # and these figures need no combination of two values.
    sums = [
        total(extracted["performance"].is_not(None)).label("followed_up"),
        *(total(extracted["performance"] == code).label(code) for code in PERFORMANCE),
        # The label too: follow-ups recorded before the codes were checked may hold it.
        *(
            total(extracted["satisfaction"].in_((code, label))).label(code)
            for code, label in SATISFACTION.items()
        ),
        *(
            total(extracted[name].is_not(None)).label(name)
            for name in ("applied", "granted", "denied")
        ),
    ]
    q = select(*([facts.c.k] if by else []), *sums)
    return q.group_by(facts.c.k) if by else q


def table_pass(qx: Query, by: str | None) -> Count:
    """On SQLite, :func:`volume` and :func:`after_agreement` in one read of the cases
    in table order, by (key, month, type, follow-up, confirmation), the last two only for
    the settled cases of the flows that have them (else NULL): ``follow_up`` the JSON
    array [performance, satisfaction], ``confirmation`` 4 × applied + 2 × granted +
    denied. :func:`split_pass` turns the groups into the two queries' rows.
    """
    flows = sorted(flows_with("follow_up") | flows_with("confirmation_granted"))
    # ``+column``: read in table order (see Query.cohort), not through an index.
    settled = and_(
        unindexed(proceeding_table.c.flow).in_(flows),
        unindexed(proceeding_table.c.outcome).in_(("agreement_written", "agreement_oral")),
    )
    # The first json_extract parses the facts; the others find them in SQLite's parse
    # cache. Values that differ from case to case (the court, the rulings) stay in SQL:
    # only whether they are there comes back, as the bits of one small number.
    paths = [f"$.{path}" for _, path in _AFTER_AGREEMENT]
    follow_up = func.json_extract(proceeding_table.c.facts, *paths[:2])
    bits: Any = literal(0)
    for bit, path in zip((4, 2, 1), paths[2:], strict=True):
        bits = bits + case(
            (func.json_extract(proceeding_table.c.facts, path).is_not(None), bit), else_=0
        )
    dims = qx.dims(
        by,
        qx.sql.month(proceeding_table.c.opened_at).label("month"),
        dispute_table.c.dispute_type,
        case((settled, follow_up), else_=null()).label("follow_up"),
        case((settled, bits), else_=null()).label("confirmation"),
    )
    q = (
        select(*dims)
        .select_from(proceeding_table)
        .join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    )
    # In table order: disputes are stored in nearly the same order as their cases.
    return Count(q.where(*qx.cohort(scan=True)), order=proceeding_table.c.id)


def split_pass(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of :func:`table_pass` as (:func:`volume`'s, :func:`after_agreement`'s)."""
    import json

    volume: Counter[tuple[str, str]] = Counter()
    after: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        n = r["n"]
        volume[(r["month"], r["dispute_type"])] += n
        if r["follow_up"] is None:
            continue
        sums = after[r.get("k", "")]
        performance, satisfaction = json.loads(r["follow_up"])
        bits = r["confirmation"]
        confirmation = (bits & 4, bits & 2, bits & 1)
        if performance is not None:
            sums["followed_up"] += n
            sums[performance] += n
        if isinstance(satisfaction, str):  # a code, or the label of an older follow-up
            sums[SATISFACTION_CODE.get(satisfaction, satisfaction)] += n
        for name, value in zip(("applied", "granted", "denied"), confirmation, strict=True):
            sums[name] += n if value else 0
    names = ("followed_up", *PERFORMANCE, *SATISFACTION, "applied", "granted", "denied")
    return (
        [{"month": m, "dispute_type": t, "n": n} for (m, t), n in volume.items()],
        [{"k": k, **{name: sums[name] for name in names}} for k, sums in after.items()],
    )


def court_confirmations(qx: Query, by: str | None) -> Any:
    """Judicial-confirmation proceedings handed off from the cases (委派调解 → 司法确认),
    by (key, state of the confirmation proceeding)."""
    child = proceeding_table.alias("confirmation")
    # The ruling is the outcome: a confirmed case stays confirmed once its objection
    # window has run out and it is closed (民事诉讼法解释 art. 372).
    dims = qx.dims(by, func.coalesce(child.c.outcome, child.c.state).label("state"))
    q = select(*dims, func.count().label("n")).select_from(child)
    q = q.join(proceeding_table, proceeding_table.c.id == child.c.parent_id)
    if _needs_dispute(by):
        q = q.join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    return q.where(child.c.flow == "judicial_confirmation", *qx.cohort()).group_by(
        *by_position(len(dims))
    )


def repeats(qx: Query, by: str | None) -> Any:
    """New disputes of the cases that repeat an earlier one, by key.

    Same parties: the same :func:`mediation.domain.personal.party_key`, stored on the dispute. Same type, and the
    earlier one received at most :data:`REPEAT_WINDOW_MONTHS` months before. A dispute
    merged into another is the same dispute, not a repeat of it.
    """
    sql, sel = qx.sql, qx.sel
    window = [
        dispute_table.c.party_key.is_not(None),
        dispute_table.c.received_at >= utc_midnight(sel.start - timedelta(days=400)),
        dispute_table.c.received_at < utc_midnight(sel.end + timedelta(days=1)),
        dispute_table.c.id.not_in(_merged_away()),
    ]
    # The parties' key (personal.party_key) and type seen more than once, counted in the
    # order of ``ix_dispute_party_key``: a few per cent of the disputes.
    again = (
        select(dispute_table.c.party_key, dispute_table.c.dispute_type)
        .where(*window)
        .group_by(dispute_table.c.party_key, dispute_table.c.dispute_type)
        .having(func.count() > 1)
    )
    ordered = (
        select(
            dispute_table.c.id,
            dispute_table.c.received_at,
            func.lag(dispute_table.c.received_at)
            .over(
                partition_by=(dispute_table.c.party_key, dispute_table.c.dispute_type),
                order_by=(dispute_table.c.received_at, dispute_table.c.id),
            )
            .label("previous"),
        )
        .where(*window, tuple_(dispute_table.c.party_key, dispute_table.c.dispute_type).in_(again))
        .cte("ordered")
    )
    # From the few repeated disputes to their cases by index, not the other way round.
    parent = proceeding_table.alias("parent")
    dims = qx.dims(by)
    q = select(*dims, func.count().label("n")).select_from(ordered)
    q = q.join(proceeding_table, proceeding_table.c.dispute_id == ordered.c.id)
    if _needs_dispute(by):
        q = q.join(dispute_table, dispute_table.c.id == proceeding_table.c.dispute_id)
    q = q.outerjoin(parent, parent.c.id == proceeding_table.c.parent_id).where(
        # CASE: the date arithmetic only for the few disputes that have a predecessor.
        case(
            (ordered.c.previous.is_(None), False),
            else_=ordered.c.previous >= sql.year_before(ordered.c.received_at),
        ),
        *qx.cohort(),
        or_(proceeding_table.c.parent_id.is_(None), parent.c.flow == "petition"),
    )
    return q.group_by(*by_position(len(dims))) if dims else q
