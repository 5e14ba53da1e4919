"""The official categories (司法行政统计·人民调解工作统计): what the returns a committee
files with the justice bureau count, beside the report's own figures.

The report's own figures follow the cases *opened* in the period. The returns count what
*happened* in it, whenever the case was opened:

- **调解纠纷数 / 调解成功数** (:func:`concluded`): the cases whose mediation ended in the
  period — an agreement, a failure or a withdrawal, the class of :func:`.figures.classify`
  — dated by the step that set the outcome (the event of a transition with an ``outcome``).
  A case that ended, was mediated again and ended again counts once, in the period of its
  last end; with it, its parties (涉及人数) and the ``amount`` its agreement recorded
  (涉及金额);
- **排查** (:func:`sweeps`): the sweeps held in the period (``mediation sweep add``);
- **预防纠纷, 防止民转刑, 防止群体性上访/械斗, 防止自杀** (:func:`preventions`): the
  ``record_prevention`` steps recorded in the period, each case once per kind, with the
  number of people the last record of the period gave.

The three statements read through ``ix_event_trigger_time`` and ``ix_sweep_held``: the
steps of a kind in a period, not every event. :func:`add_up` adds their rows to the tallies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import String, case, cast, func, literal, null, select

from mediation.domain.clock import business_date
from mediation.reporting.stats.figures import NOT_CASES, classify
from mediation.reporting.stats.selection import Query, utc_midnight
from mediation.reporting.stats.tally import Tally
from mediation.storage._tables import (
    dispute_table,
    event_table,
    organisation_table,
    party_table,
    proceeding_table,
    sweep_table,
)

#: The step that records what a case prevented (mediation.workflows._common).
PREVENTION_TRIGGER = "record_prevention"
_AGREEMENTS = ("agreement_written", "agreement_oral")
#: Dimensions a sweep has: the level of the organisation that held it, the month, who held
#: it. It has no dispute type or channel: grouped so, the sweeps are in the total only.
SWEEP_DIMENSIONS = frozenset({"level", "month", "mediator"})


@cache
def outcome_triggers() -> Mapping[str, frozenset[str]]:
    """Flow → the triggers that set a case's outcome in it."""
    from mediation.workflows import FLOW_MODULES, get_flow

    return {
        name: frozenset(t.trigger for t in get_flow(name).transitions if t.outcome)
        for name in FLOW_MODULES
        if name not in NOT_CASES
    }


@cache
def amount_triggers() -> Mapping[str, tuple[str, ...]]:
    """Flow → the triggers that may record an agreement's ``amount``, latest step first."""
    from mediation.workflows import FLOW_MODULES, get_flow
    from mediation.workflows._common import AMOUNT_FIELD

    out = {}
    for name in FLOW_MODULES:
        seen = dict.fromkeys(
            t.trigger for t in get_flow(name).transitions if AMOUNT_FIELD in t.fields
        )
        out[name] = tuple(reversed(seen))
    return out


def _amount_paths() -> list[str]:
    return sorted({t for triggers in amount_triggers().values() for t in triggers})


def _org_filter(qx: Query, column: Any) -> list[Any]:
    return [] if qx.org_ids is None else [column.in_(qx.org_ids)]


def _key(qx: Query, by: str | None) -> list[Any]:
    """The group key column, except by month: then the month of the step, in Python."""
    return [qx.key(by).label("k")] if by and by != "month" else []


def concluded(qx: Query, by: str | None) -> Any:
    """The steps that set an outcome, from the first day of the period on (a later one
    moves the case's end out of it), with their case's flow, state and outcome, the
    number of its dispute's parties and, for an agreement, the amounts its facts record."""
    p, e = proceeding_table, event_table
    triggers = sorted({t for ts in outcome_triggers().values() for t in ts})
    parties = (
        select(func.count())
        .select_from(party_table)
        .where(party_table.c.dispute_id == p.c.dispute_id)
        .scalar_subquery()
    )
    paths = _amount_paths()
    if qx.sql.pg:
        from sqlalchemy.dialects.postgresql import JSONB

        doc = cast(p.c.facts, JSONB)
        amounts: Any = func.jsonb_build_array(
            *(doc.op("->")(literal(t, String)).op("->")(literal("amount", String)) for t in paths)
        )
    else:
        amounts = func.json_extract(p.c.facts, *(f"$.{t}.amount" for t in paths))
    q = select(
        *_key(qx, by),
        p.c.id.label("pid"),
        p.c.flow,
        p.c.state,
        p.c.outcome,
        e.c.trigger,
        e.c.occurred_at.label("at"),
        parties.label("parties"),
        case((p.c.outcome.in_(_AGREEMENTS), amounts), else_=null()).label("amounts"),
    ).select_from(e.join(p, p.c.id == e.c.proceeding_id))
    if by in ("type", "channel"):
        q = q.join(dispute_table, dispute_table.c.id == p.c.dispute_id)
    return q.where(
        e.c.trigger.in_(triggers),
        e.c.occurred_at >= utc_midnight(qx.sel.start),
        p.c.flow.not_in(NOT_CASES),
        *_org_filter(qx, p.c.organisation_id),
    )


def preventions(qx: Query, by: str | None) -> Any:
    """The ``record_prevention`` steps of the period, with their case and payload."""
    p, e = proceeding_table, event_table
    q = select(
        *_key(qx, by), p.c.id.label("pid"), e.c.occurred_at.label("at"), e.c.payload
    ).select_from(e.join(p, p.c.id == e.c.proceeding_id))
    if by in ("type", "channel"):
        q = q.join(dispute_table, dispute_table.c.id == p.c.dispute_id)
    return q.where(
        e.c.trigger == PREVENTION_TRIGGER,
        e.c.occurred_at >= utc_midnight(qx.sel.start),
        e.c.occurred_at < utc_midnight(qx.sel.end + timedelta(days=1)),
        p.c.flow.not_in(NOT_CASES),
        *_org_filter(qx, p.c.organisation_id),
    )


def sweeps(qx: Query) -> Any:
    """The sweeps held in the period, with the level of the organisation that held them."""
    s, o = sweep_table, organisation_table
    return (
        select(s.c.held_on, s.c.held_by, s.c.found, s.c.opened, o.c.level)
        .select_from(s.join(o, o.c.id == s.c.organisation_id))
        .where(
            s.c.held_on >= qx.sel.start,
            s.c.held_on <= qx.sel.end,
            *_org_filter(qx, s.c.organisation_id),
        )
    )


def _month(moment: Any) -> str:
    return f"{business_date(moment):%Y-%m}"


def _amount(flow: str, found: Any) -> Decimal | None:
    """The amount an agreement of ``flow`` recorded (the latest step's), from the array of
    :func:`concluded`'s amounts (JSON text on SQLite)."""
    from mediation.workflows._common import amount_value

    if found is None:
        return None
    values = json.loads(found) if isinstance(found, str) else found
    by_trigger = dict(zip(_amount_paths(), values, strict=False))
    for trigger in amount_triggers().get(flow, ()):
        amount = amount_value(by_trigger.get(trigger))
        if amount is not None:
            return amount
    return None


def add_up(
    tallies: dict[str, Tally],
    ungrouped: Tally,
    found: Mapping[str, list[dict[str, Any]]],
    qx: Query,
    by: str | None,
) -> None:
    """Add the rows of the three statements to the tallies of their keys; the sweeps of a
    report grouped by a dimension a sweep does not have go to ``ungrouped`` (the total's
    only)."""
    from mediation.workflows._common import people_value

    end = utc_midnight(qx.sel.end + timedelta(days=1))

    def key(r: Mapping[str, Any]) -> str:
        if by == "month":
            return _month(r["at"])
        return r.get("k", "") if by else ""

    pairs = outcome_triggers()
    last: dict[int, dict[str, Any]] = {}
    for r in found["official"]:
        if r["trigger"] not in pairs.get(r["flow"], ()):
            continue
        seen = last.get(r["pid"])
        if seen is None or r["at"] > seen["at"]:
            last[r["pid"]] = r
    for r in last.values():
        klass = classify(r["flow"], r["state"], r["outcome"])
        if r["at"] >= end or klass not in ("written", "oral", "failed", "withdrawn"):
            continue
        t = tallies[key(r)]
        t.official_mediated += 1
        t.people_involved += r["parties"]
        if klass in ("written", "oral"):
            t.official_settled += 1
            amount = _amount(r["flow"], r["amounts"])
            if amount is not None:
                t.amount += amount
                t.amount_recorded += 1
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for r in found["prevention"]:
        payload = r["payload"] or {}
        code = str(payload.get("prevention"))
        seen = latest.get((r["pid"], code))
        if seen is None or r["at"] > seen["at"]:
            latest[(r["pid"], code)] = r
    for (_, code), r in latest.items():
        t = tallies[key(r)]
        t.prevented[code] += 1
        t.prevented_people[code] += people_value(r["payload"].get("people")) or 0
    for r in found["sweeps"]:
        if by is None:
            t = tallies[""]
        elif by in SWEEP_DIMENSIONS:
            k = {"level": r["level"], "mediator": r["held_by"]}.get(by, f"{r['held_on']:%Y-%m}")
            t = tallies[k]
        else:
            t = ungrouped
        t.sweeps_held += 1
        t.sweep_found += r["found"]
        t.sweep_opened += r["opened"]
