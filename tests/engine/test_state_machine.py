"""Random trigger sequences through every flow, on SQLite and PostgreSQL (issue 6 point 4).

A hypothesis ``RuleBasedStateMachine`` opens cases, fires triggers (allowed ones with valid
or deliberately broken data, triggers the state does not allow, triggers no flow declares),
moves the clock, runs the deadline dispatcher, loads the next year's calendar (which
recomputes provisional deadlines), reassigns cases and corrects their parties'
particulars (good or bad data; neither moves a case or its clocks), and merges and splits
disputes (a live merge never makes a dispute part of two, nor a cycle). After every step it reads the database
afresh and checks, for every proceeding in it:

- its state is one its flow declares, and it is closed exactly when that state is final;
- its events are numbered 1..version without a gap, start with ``open`` or the entry
  trigger of a hand-off into the flow, and each one is a transition the flow declares from
  the state the previous event left it in (or a ``reassign``, ``amend_party`` or
  ``recompute_deadline``, which leave the state as it was); the last one leaves it in its
  current state;
- both hash chains verify (:func:`mediation.storage.audit.verify`) — checked once, when
  the example ends (a chain broken by any step stays broken: appending cannot mend it);
- its running deadlines are exactly those the flow's rules (``starts_on``, ``runs_in``,
  ``paused_by``, ``resumed_by``) say should run after that history — so none runs in a final
  state unless a rule's ``runs_in`` names that state — at most one per kind, each due on
  the day its period gives from where it was last counted (later if extended); each
  stopped one was stopped by the event that left ``runs_in``, as met or late by the last
  day it ran (a paused clock: the day it was paused), or closed if it binds no one.

A refused step (any :class:`~mediation.errors.MediationError`) must leave every table as it
was; anything else escaping the library is a bug. The dispatcher must act once: running it
again at the same moment does nothing, and it changes a case only by firing that flow's
``on_expiry`` trigger as the user ``scheduler``; loading a calendar changes a case only by
``recompute_deadline`` events.

Each test (a flow on a database) migrates one database (the ``store`` fixture with its
ladder of committees); after each example every table but the committees, the calendar and
the schema version is emptied and the audit head reset to genesis, so each example starts
from a fresh database in a few milliseconds (a schema per example costs ~0.15 s on
PostgreSQL) and the chains it verifies stay short.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select, update

from mediation.domain import intake
from mediation.domain.calendar import WorkCalendar, YearCalendar
from mediation.domain.clock import business_date
from mediation.domain.periods import Period, compute_due
from mediation.domain.taxonomy import (
    EXCLUSIONS,
    MEDIATION_RESULTS,
    PERFORMANCE,
    SELECTIONS,
    SESSION_KINDS,
)
from mediation.engine import cases, disputes, scheduler
from mediation.engine.deadlines import load_calendar_year
from mediation.engine.machine import FlowMachine, load
from mediation.engine.parties import amend_party
from mediation.errors import (
    MediationError,
    NotFoundError,
    TransitionNotAllowed,
    ValidationError,
)
from mediation.storage import audit
from mediation.storage._sql import Prepared
from mediation.storage._tables import (
    audit_head_table,
    deadline_table,
    dispute_merge_table,
    dispute_table,
    event_table,
    metadata,
    proceeding_table,
)
from mediation.storage.store import Store
from mediation.workflows import Flow, Transition, flow_names, get_flow
from tests.conftest import T0, intake_record, snapshot

FLOWS = flow_names()
ORGANISATIONS = ("江城", "青山", "城关", "桥头")  # the conftest ladder, top first
PARTIES = ("张三", "李四")  # applicant and respondent of conftest.intake_record()
ACTOR = "调解员甲"
ADMIN = "管理员"

#: Examples per flow and database. 6 keep the module near 60 s on both databases; set
#: MEDIATION_STATEFUL_EXAMPLES=200 (say) for a longer soak.
EXAMPLES = int(os.environ.get("MEDIATION_STATEFUL_EXAMPLES", "6"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

_P, _E, _D = proceeding_table, event_table, deadline_table
#: Events that change a case without moving it: no flow declares them.
_IN_PLACE = ("recompute_deadline", "reassign", "amend_party")


# -- what the flows declare -----------------------------------------------------------------


def _entries(flow: Flow) -> dict[str, str]:
    """Entry trigger -> entry state: ``open``, and every hand-off into ``flow``."""
    found = {"open": flow.initial}
    for other in FLOWS:
        for t in get_flow(other).transitions:
            if t.handoff is not None and t.handoff.flow == flow.name:
                found[t.handoff.entry_trigger] = t.handoff.entry_state
    return found


ENTRIES = {name: _entries(get_flow(name)) for name in FLOWS}


def _reach(flow: Flow) -> dict[str, int]:
    """State -> how many states of the flow can still be reached from it."""
    found = {}
    for state in flow.states:
        seen, todo = {state.name}, [state.name]
        while todo:
            here = todo.pop()
            for t in flow.outgoing(here):
                if t.dest and t.dest not in seen:
                    seen.add(t.dest)
                    todo.append(t.dest)
        found[state.name] = len(seen)
    return found


REACH = {name: _reach(get_flow(name)) for name in FLOWS}


# -- payloads -------------------------------------------------------------------------------

#: Any text, NUL and control characters included: bad text is refused as bad input
#: (test_nul_in_trigger_data_is_refused_as_bad_input).
_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30) | st.sampled_from(
    ["双方分歧较大", "案情复杂，需上级协调", "青山县人民法院", "（2026）浙0681民特12号"]
)
_NAMES = st.lists(st.sampled_from(["周明", "吴桂英", "郑建国"]), min_size=1, max_size=3)


def _valid(field: str, today: date) -> st.SearchStrategy[Any]:
    """A value for ``field`` that its guards accept (most of the time) on ``today``."""

    def day(lo: int, hi: int) -> st.SearchStrategy[str]:
        return st.integers(lo, hi).map(lambda n: (today + timedelta(days=n)).isoformat())

    choices: dict[str, st.SearchStrategy[Any]] = {
        "party": st.sampled_from(PARTIES),
        "mediators": _NAMES | _NAMES.map("、".join),
        "selection": st.sampled_from(sorted(SELECTIONS)),
        "kind": st.sampled_from(sorted(SESSION_KINDS)),
        "consented_by": st.sampled_from([list(PARTIES), "张三、李四", "李四，张三"]),
        "new_due": day(1, 120),
        "performance_deadline": day(0, 60),
        "performance": st.sampled_from(sorted(PERFORMANCE)),
        "organisation": st.sampled_from(ORGANISATIONS),
        "exclusion": st.sampled_from(sorted(EXCLUSIONS)),
        "result": st.sampled_from(sorted(MEDIATION_RESULTS)),
        "session_on": day(2, 20),
        "determination_received_on": day(-12, 0),
        "applied_on": st.just(today.isoformat()),
        "served_on": st.just(today.isoformat()),
    }
    return choices.get(field, _TEXT)


#: Wrong data: missing, empty, wrongly typed, too long, an unknown choice, not a date.
_JUNK = st.sampled_from(
    [None, "", 5, 2.5, True, ["张三", 3], {"a": 1}, "长" * 20001, "某某", "not-a-date", "王五"]
)
_ANY_FIELDS = ("reason", "party", "mediators", "kind", "summary", "new_due", "organisation")


@st.composite
def payloads(
    draw: st.DrawFn, requires: tuple[str, ...], today: date, *, broken: bool = True
) -> dict[str, Any]:
    """Data for a trigger: what it requires, valid; with ``broken``, sometimes one field
    is missing or wrong."""
    fields = requires or tuple(draw(st.lists(st.sampled_from(_ANY_FIELDS), max_size=3)))
    data = {f: draw(_valid(f, today)) for f in fields}
    if broken and fields and draw(st.integers(0, 4)) == 0:
        field = draw(st.sampled_from(fields))
        value = draw(_JUNK)
        if value is None:
            del data[field]
        else:
            data[field] = value
    return data


# -- reading the database -------------------------------------------------------------------


#: What a fresh database holds besides the empty tables (and the audit head, reset below):
#: its committees, and the steps of the flows (derived by `db upgrade`).
_KEPT = {"organisation", "alembic_version", "audit_head", "flow_edge"}


def empty(store: Store) -> None:
    """Back to the fresh, migrated database with its committees: empty every other table
    (children first) and reset the audit chain's head to genesis."""
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in _KEPT:
                conn.execute(delete(table))
        conn.execute(
            update(audit_head_table)
            .values(seq=0, hash=audit.GENESIS)
            .where(audit_head_table.c.id == 1)
        )


def _replay(
    flow: FlowMachine, events: list[Any]
) -> tuple[dict[str, str], dict[str, list[tuple[date, datetime, str]]]]:
    """What the flow's rules say ``events`` did to the clocks: the running ones (kind ->
    open | paused), and for each kind the clocks stopped, in order: (the last day the
    clock ran, when it was stopped, the trigger that stopped it).

    Rules apply in the engine's documented order: leaving ``runs_in`` stops a clock, then
    the trigger pauses, resumes, and finally starts clocks. A clock stopped while paused
    last ran on the day it was paused (domain.md §4: paused time does not count).
    """
    running: dict[str, tuple[str, date | None]] = {}
    stopped: dict[str, list[tuple[date, datetime, str]]] = defaultdict(list)
    for ev in events:
        day = business_date(ev.occurred_at)
        for declared in flow.flow.deadlines:
            kind = declared.kind
            status = running.get(kind, ("", None))[0]
            if ev.from_state in declared.runs_in and ev.to_state not in declared.runs_in:
                if status:
                    _, paused_on = running.pop(kind)
                    stopped[kind].append((paused_on or day, ev.occurred_at, ev.trigger))
            elif ev.trigger in declared.paused_by and status == "open":
                running[kind] = ("paused", day)
            elif ev.trigger in declared.resumed_by and status == "paused":
                running[kind] = ("open", None)
            if ev.trigger in declared.starts_on:
                running[kind] = ("open", None)
    return {kind: status for kind, (status, _) in running.items()}, stopped


def _check_events(flow: Flow, p: Any, events: list[Any]) -> None:
    where = f"{p.case_number} ({flow.name})"
    assert [e.seq for e in events] == list(range(1, p.version + 1)), f"{where}: event numbers"
    first, *rest = events
    assert first.from_state is None, where
    assert ENTRIES[flow.name].get(first.trigger) == first.to_state, (where, first.trigger)
    machine = load(flow.name)
    for before, ev in zip(events, rest, strict=False):
        assert ev.from_state == before.to_state, f"{where}: event {ev.seq} does not follow"
        if ev.trigger in _IN_PLACE:
            assert ev.to_state == ev.from_state, where
            continue
        t = machine.transition(ev.trigger, ev.from_state)
        assert t is not None, f"{where}: {ev.trigger} is not declared from {ev.from_state}"
        assert ev.to_state == (t.dest or ev.from_state), f"{where}: {ev.trigger} went astray"
    assert events[-1].to_state == p.state, f"{where}: state is not where its events left it"


def _check_deadlines(
    flow: FlowMachine, p: Any, events: list[Any], rows: list[Any], cal: WorkCalendar
) -> None:
    where = f"{p.case_number} ({flow.flow.name}, {p.state})"
    rules = flow.rules
    running = [r for r in rows if r.status in ("open", "paused")]
    counts = Counter(r.kind for r in running)
    assert all(n == 1 for n in counts.values()), f"{where}: a clock runs twice: {counts}"
    actual = {r.kind: r.status for r in running}
    expected, stops = _replay(flow, events)
    assert actual == expected, f"{where}: running deadlines"
    if flow.flow.state(p.state).final:
        # Only a rule whose runs_in names this final state may keep a clock running.
        lasting = {rule.kind for rule in flow.flow.deadlines if p.state in rule.runs_in}
        assert set(actual) <= lasting, f"{where}: {sorted(set(actual) - lasting)} run on"
    for r in running:
        rule = rules.get(r.kind)
        assert rule is not None, f"{where}: undeclared deadline kind {r.kind}"
        assert p.state in rule.runs_in, f"{where}: {r.kind} runs outside {sorted(rule.runs_in)}"
        assert (r.status == "paused") == (r.paused_on is not None), f"{where}: {r.kind} pause"
        assert r.closed_at is None, where
        counted = compute_due(r.counted_from, Period(r.period_count, r.period_unit), cal)
        if r.extensions and r.period_count == 0:
            # An agreed extension: the date the parties agreed, fixed as given (even a rest
            # day); the clock is kept as "counted from that day, nothing left", so a pause
            # may move the due date on from it (the days it gave back), never before it.
            assert r.due >= r.counted_from, f"{where}: {r.kind} due before the agreed date"
        elif r.extensions:
            assert r.due >= counted.due, f"{where}: {r.kind} extended to before its period's end"
        else:
            assert (r.due, r.provisional) == (counted.due, counted.provisional), (
                f"{where}: {r.kind} due {r.due} (provisional {r.provisional}), its period "
                f"gives {counted}"
            )
    done: dict[str, list[Any]] = defaultdict(list)
    for r in rows:  # in id order: the order they were started, so the order they stopped
        if r.status not in ("open", "paused"):
            done[r.kind].append(r)
    assert {k: len(v) for k, v in done.items()} == {k: len(v) for k, v in stops.items()}, (
        f"{where}: stopped deadlines"
    )
    for kind, stopped_rows in done.items():
        for r, (ran_until, stopped_at, trigger) in zip(stopped_rows, stops[kind], strict=True):
            if rules[kind].duty:
                status = "met" if ran_until <= r.due else "late"
            else:
                status = "closed"
            # The law's consequence of expiry (deemed failure, lapse): not an overrun.
            if trigger == rules[kind].on_expiry and ran_until > r.due:
                status = "expired"
            assert r.status == status, f"{where}: {kind} due {r.due}, ran until {ran_until}"
            assert (r.closed_at, r.paused_on) == (stopped_at, None), where


#: What the invariants read after every step, compiled once (values typed as Core types them).
_PROCEEDINGS = Prepared(
    select(_P.c.id, _P.c.flow, _P.c.state, _P.c.version, _P.c.closed_at, _P.c.case_number).order_by(
        _P.c.id
    ),
    typed=True,
)
_EVENTS = Prepared(
    select(
        _E.c.proceeding_id,
        _E.c.seq,
        _E.c.trigger,
        _E.c.from_state,
        _E.c.to_state,
        _E.c.occurred_at,
    ).order_by(_E.c.proceeding_id, _E.c.seq),
    typed=True,
)
_DEADLINES = Prepared(select(_D).order_by(_D.c.id), typed=True)


def check_invariants(store: Store, *, chains: bool = True) -> dict[int, tuple[str, str, int]]:
    """Every invariant of the module docstring, on every proceeding in the database (the
    hash chains only if ``chains``); returns each proceeding's (flow, state, version)."""
    cal = store.calendar()
    with store.read() as conn:
        procs = _PROCEEDINGS(conn, {}).all()
        events: dict[int, list[Any]] = defaultdict(list)
        for ev in _EVENTS(conn, {}).all():
            events[ev.proceeding_id].append(ev)
        deadlines: dict[int, list[Any]] = defaultdict(list)
        for row in _DEADLINES(conn, {}).all():
            deadlines[row.proceeding_id].append(row)
        report = audit.verify(conn) if chains else None
    if report is not None:
        assert report.ok, [str(p) for p in report.problems]
        assert report.events == sum(len(v) for v in events.values())
    for p in procs:
        machine = load(p.flow)
        flow = machine.flow
        assert p.state in {s.name for s in flow.states}, f"{p.case_number}: unknown state"
        assert (p.closed_at is not None) == flow.state(p.state).final, (
            f"{p.case_number}: closed_at {p.closed_at} in state {p.state}"
        )
        _check_events(flow, p, events[p.id])
        _check_deadlines(machine, p, events[p.id], deadlines[p.id], cal)
    return {p.id: (p.flow, p.state, p.version) for p in procs}


# -- the machine ----------------------------------------------------------------------------


class FlowRun(RuleBasedStateMachine):
    """Cases of one flow (and what they are handed off to) driven at random."""

    store: ClassVar[Store]
    home_flow: ClassVar[str]
    reached: ClassVar[Counter[str]]  # "flow:state" -> times reached, over all examples

    def __init__(self) -> None:
        super().__init__()
        self.now: datetime = T0
        #: proceeding id -> (flow, state, version) as this example's own steps left it
        self.known: dict[int, tuple[str, str, int]] = {}
        self.announced = False

    @property
    def today(self) -> date:
        return business_date(self.now)

    def _open(self, flow: str, org: str) -> None:
        record = intake.validate(intake_record(organisation=org, flow=flow))
        opened = cases.open_case(self.store, record, actor=ACTOR, now=self.now)
        machine = load(flow)
        assert opened.state == machine.flow.initial
        self.known[opened.proceeding_id] = (flow, opened.state, 1)
        self.reached[f"{flow}:{opened.state}"] += 1

    def _open_cases(self) -> list[int]:
        return sorted(
            pid
            for pid, (flow, state, _) in self.known.items()
            if not get_flow(flow).state(state).final
        )

    def _fire(self, pid: int, trigger: str, payload: dict[str, Any]) -> None:
        """Fire ``trigger`` on ``pid``; check what it did, or that a refusal did nothing."""
        flow_name, state, version = self.known[pid]
        transition: Transition | None = load(flow_name).transition(trigger, state)
        before = snapshot(self.store)
        try:
            result = cases.advance(
                self.store, pid, trigger, actor=ACTOR, now=self.now, payload=payload
            )
        except MediationError as exc:
            assert snapshot(self.store) == before, f"refused {trigger} changed the database"
            if transition is None:
                assert isinstance(exc, TransitionNotAllowed), exc
            else:
                assert isinstance(exc, (TransitionNotAllowed, ValidationError, NotFoundError)), exc
            return
        assert transition is not None, f"{trigger} was accepted in {state}, which does not allow it"
        assert (result.from_state, result.to_state, result.seq) == (
            state,
            transition.dest or state,
            version + 1,
        )
        self.known[pid] = (flow_name, result.to_state, version + 1)
        self.reached[f"{flow_name}:{result.to_state}"] += 1
        if transition.handoff is not None:
            handed = result.handed_off_to
            assert handed is not None and handed.state == transition.handoff.entry_state
            self.known[handed.proceeding_id] = (transition.handoff.flow, handed.state, 1)
            self.reached[f"{transition.handoff.flow}:{handed.state}"] += 1

    def teardown(self) -> None:
        try:
            check_invariants(self.store)  # the hash chains too, once per example
        finally:
            empty(self.store)
        self.store.forget_calendar()

    @initialize(org=st.sampled_from(ORGANISATIONS))
    def open_first(self, org: str) -> None:
        self._open(self.home_flow, org)

    @precondition(lambda self: len(self._open_cases()) < 3)
    @rule(
        org=st.sampled_from(ORGANISATIONS),
        flow=st.sampled_from(FLOWS),
        elsewhere=st.integers(0, 4),
    )
    def open_another(self, org: str, flow: str, elsewhere: int) -> None:
        self._open(flow if elsewhere == 0 else self.home_flow, org)

    # Days to weeks; now and then most of a year, into the weeks before 2027, whose
    # calendar is not yet announced (deadlines reaching into it are provisional).
    @rule(days=st.integers(0, 40) | st.integers(250, 300), hours=st.integers(0, 8))
    def wait(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)

    @precondition(lambda self: bool(self._open_cases()))
    @rule(data=st.data(), steps=st.integers(1, 10))
    def walk(self, data: st.DataObject, steps: int) -> None:
        """Several allowed triggers in a row on one open case, with valid data."""
        pid = data.draw(st.sampled_from(self._open_cases()), label="case")
        for _ in range(steps):
            flow_name, state, _version = self.known[pid]
            allowed = load(flow_name).allowed(state)
            if not allowed:
                break
            # Mostly deeper into the flow: uniform choices would end most walks early in a
            # withdrawal, refusal or termination and never reach agreements and after.
            reach = REACH[flow_name]
            moving = [t for t in allowed if t.dest]
            deepest = max((reach[t.dest] for t in moving if t.dest), default=0)
            if moving and data.draw(st.integers(0, 2), label="deeper?") > 0:
                allowed = [t for t in moving if t.dest and reach[t.dest] == deepest]
            transition = data.draw(st.sampled_from(allowed), label="transition")
            payload = data.draw(payloads(transition.requires, self.today, broken=False))
            self._fire(pid, transition.trigger, payload)
            self.database_is_consistent()

    @precondition(lambda self: bool(self.known))
    @rule(data=st.data())
    def fire(self, data: st.DataObject) -> None:
        """Any trigger on any case: allowed or not, declared or not, data valid or not."""
        pid = data.draw(st.sampled_from(sorted(self.known)), label="case")
        flow_name, state, _version = self.known[pid]
        machine = load(flow_name)
        allowed = sorted({t.trigger for t in machine.allowed(state)})
        declared = sorted({t.trigger for t in machine.flow.transitions})
        pick = data.draw(st.integers(0, 19), label="kind of trigger")
        if allowed and pick < 12:
            trigger = data.draw(st.sampled_from(allowed), label="allowed trigger")
        elif pick < 19:
            trigger = data.draw(st.sampled_from(declared), label="declared trigger")
        else:
            trigger = data.draw(
                st.sampled_from(["no_such_trigger", "open", "recompute_deadline"]),
                label="undeclared trigger",
            )
        transition = machine.transition(trigger, state)
        requires = transition.requires if transition else ()
        self._fire(pid, trigger, data.draw(payloads(requires, self.today), label="payload"))

    @precondition(lambda self: bool(self._open_cases()))
    @rule(data=st.data(), what=st.sampled_from(["reassign", "amend_party"]), bad=st.booleans())
    def correct(self, data: st.DataObject, what: str, bad: bool) -> None:
        """Reassign a running case, or correct a party's phone: a new event in place, or
        (bad data, nothing to change) a refusal that leaves every table as it was."""
        pid = data.draw(st.sampled_from(self._open_cases()), label="case")
        flow_name, state, version = self.known[pid]
        before = snapshot(self.store)
        try:
            if what == "reassign":
                mediators = [] if bad else [data.draw(st.sampled_from(["李调解员", "王调解员"]))]
                cases.reassign(self.store, pid, mediators, reason="回避", actor=ACTOR, now=self.now)
            else:
                phone = (
                    "12-ab" if bad else data.draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
                )
                who = data.draw(st.sampled_from(PARTIES), label="party")
                amend_party(
                    self.store,
                    pid,
                    who,
                    {"phone": phone},
                    reason="更换号码",
                    actor=ACTOR,
                    now=self.now,
                )
        except MediationError:
            assert snapshot(self.store) == before, f"a refused {what} changed the database"
            return
        assert not bad, f"{what} accepted bad data"
        self.known[pid] = (flow_name, state, version + 1)

    @precondition(lambda self: len(self.known) >= 2)
    @rule(data=st.data(), split=st.booleans())
    def merge_or_split(self, data: st.DataObject, split: bool) -> None:
        """A supervisor merges two disputes (or one into itself, or against an earlier
        merge: refused) or splits one (refused unless it is merged)."""
        with self.store.read() as conn:
            ids = sorted(conn.execute(select(dispute_table.c.id)).scalars())
        kept, merged = data.draw(st.sampled_from(ids)), data.draw(st.sampled_from(ids))
        before = snapshot(self.store)
        try:
            if split:
                disputes.split(self.store, merged, reason="误合并", actor=ADMIN, now=self.now)
            else:
                disputes.merge(
                    self.store, kept, merged, reason="同一纠纷", actor=ADMIN, now=self.now
                )
        except MediationError:
            assert snapshot(self.store) == before, "a refused merge or split changed the database"
            return
        m = dispute_merge_table
        with self.store.read() as conn:
            live = dict(
                conn.execute(select(m.c.merged_id, m.c.kept_id).where(m.c.split_at.is_(None))).all()
            )
            count = conn.execute(select(m.c.merged_id).where(m.c.split_at.is_(None))).all()
        assert len(count) == len(live), "a dispute is merged into two at once"
        for start in live:
            seen, at = {start}, live[start]
            while at in live:
                assert at not in seen, f"merges form a cycle through dispute {at}"
                seen.add(at)
                at = live[at]

    @rule()
    def dispatch(self) -> None:
        scheduler.dispatch(self.store, now=self.now, notifiers=[])
        again = scheduler.dispatch(self.store, now=self.now, notifiers=[])
        assert (again.reminders, again.overdue, again.consequences, again.delivered) == (
            0,
            0,
            [],
            0,
        ), "a second dispatch at the same moment acted again"
        self._catch_up(
            scheduler.SCHEDULER_ACTOR, lambda flow: {r.on_expiry for r in flow.deadlines}
        )

    @precondition(lambda self: not self.announced)
    @rule(spring=st.integers(0, 20))
    def announce_next_year(self, spring: int) -> None:
        """The State Council announces 2027 (the package knows 2026 at most): deadlines
        that reached into it were provisional and are recomputed, each as an event."""
        holidays = {date(2027, 1, 1)} | {date(2027, 10, 1) + timedelta(days=i) for i in range(7)}
        holidays |= {date(2027, 2, 1) + timedelta(days=spring + i) for i in range(8)}
        year = YearCalendar(2027, frozenset(holidays), frozenset({date(2027, 9, 26)}), "测试")
        load_calendar_year(self.store, year, actor=ADMIN, now=self.now)
        self.announced = True
        self._catch_up(ADMIN, lambda flow: {"recompute_deadline"})

    def _catch_up(self, actor: str, triggers: Callable[[Flow], set[str | None]]) -> None:
        """Take in what ``actor`` did to this example's cases: only ``triggers``."""
        with self.store.read() as conn:
            for pid, (flow_name, _state, version) in list(self.known.items()):
                row = conn.execute(select(_P.c.state, _P.c.version).where(_P.c.id == pid)).one()
                if row.version == version:
                    continue
                allowed = triggers(get_flow(flow_name))
                for ev in conn.execute(
                    select(_E.c.actor, _E.c.trigger).where(
                        _E.c.proceeding_id == pid, _E.c.seq > version
                    )
                ):
                    assert (ev.actor, ev.trigger in allowed) == (actor, True), ev
                self.known[pid] = (flow_name, row.state, row.version)
                self.reached[f"{flow_name}:{row.state}"] += 1

    @invariant()
    def database_is_consistent(self) -> None:
        found = check_invariants(self.store, chains=False)  # the chains: at teardown
        mine = {pid: found.get(pid) for pid in self.known}
        assert mine == self.known, "a case changed outside this example's own steps"


@pytest.mark.parametrize("flow", FLOWS)
def test_random_trigger_sequences(flow: str, store: Store) -> None:
    reached: Counter[str] = Counter()
    machine = type(
        f"Run_{flow}", (FlowRun,), {"store": store, "home_flow": flow, "reached": reached}
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
    if os.environ.get("MEDIATION_STATEFUL_COVERAGE"):  # how far the examples got, with -s
        declared = [s.name for s in get_flow(flow).states]
        missed = [s for s in declared if not reached[f"{flow}:{s}"]]
        print(f"\n{flow}: {len(declared) - len(missed)}/{len(declared)} states, missed {missed}")


def test_a_clock_stopped_while_paused_is_not_late(store: Store) -> None:
    """医调委: the 30 working days stop during appraisal (domain.md §4: appraisal time does not
    count). Paused on its second day and stopped by a withdrawal four months later, the
    clock had used one day of its period: it was met, not late."""
    record = intake.validate(intake_record(organisation="城关", flow="medical_committee"))
    opened = cases.open_case(store, record, actor=ACTOR, now=T0)
    day = T0 + timedelta(days=1)
    for trigger, payload in (
        ("accept", {}),
        ("assign", {"mediators": ["周明"], "selection": "designated"}),
        ("inform", {}),
        ("record_session", {"kind": "mediation", "summary": "听取双方意见"}),
        ("start_appraisal", {"appraisal_body": "江城市医学会", "matter": "医疗过错及因果关系"}),
    ):
        cases.advance(store, opened.proceeding_id, trigger, actor=ACTOR, now=day, payload=payload)
    with store.read() as conn:
        paused = conn.execute(select(_D.c.status, _D.c.due, _D.c.paused_on)).one()
    assert (paused.status, paused.paused_on) == ("paused", day.date())
    later = T0 + timedelta(days=120)
    assert later.date() > paused.due  # the pre-pause due date has long passed
    cases.advance(
        store,
        opened.proceeding_id,
        "withdraw",
        actor=ACTOR,
        now=later,
        payload={"party": "张三", "reason": "双方自行和解"},
    )
    with store.read() as conn:
        status = conn.execute(select(_D.c.status)).scalar_one()
    assert status == "met"


@pytest.mark.parametrize("where", ["reason", "note"])
def test_nul_in_trigger_data_is_refused_as_bad_input(store: Store, where: str) -> None:
    record = intake.validate(intake_record(organisation="桥头"))
    opened = cases.open_case(store, record, actor=ACTOR, now=T0)
    cases.advance(store, opened.proceeding_id, "accept", actor=ACTOR, now=T0)
    reason, note = ("案情复杂\x00", None) if where == "reason" else ("案情复杂", "备注\x00")
    before = snapshot(store)
    with pytest.raises(ValidationError):
        cases.advance(
            store,
            opened.proceeding_id,
            "escalate",
            actor=ACTOR,
            now=T0,
            payload={"reason": reason},
            note=note,
        )
    assert snapshot(store) == before


def test_a_clock_resumed_on_its_pause_day_is_reminded_once(store: Store) -> None:
    """卫生主管部门调解: 30 working days from acceptance, reminded 5 days ahead."""
    record = intake.validate(intake_record(organisation="青山", flow="health_admin"))
    opened = cases.open_case(store, record, actor=ACTOR, now=T0)
    pid = opened.proceeding_id
    cases.advance(store, pid, "accept", actor=ACTOR, now=T0)
    with store.read() as conn:
        due = conn.execute(select(_D.c.due).where(_D.c.kind == "mediation_period")).scalar_one()
    near = datetime.combine(due - timedelta(days=3), T0.timetz())
    assert scheduler.dispatch(store, now=near, notifiers=[]).reminders == 1
    for trigger, payload in (
        ("record_session", {"kind": "mediation", "summary": "听取双方意见"}),
        ("start_appraisal", {"appraisal_body": "江城市医学会", "matter": "医疗过错"}),
        ("finish_appraisal", {"conclusion": "不构成医疗事故"}),  # the same day
    ):
        cases.advance(store, pid, trigger, actor=ACTOR, now=near, payload=payload)
    with store.read() as conn:
        assert conn.execute(select(_D.c.due).where(_D.c.status == "open")).scalar_one() == due
    again = scheduler.dispatch(store, now=near + timedelta(hours=1), notifiers=[])
    assert again.reminders == 0  # reminded of this due date already
    check_invariants(store)
