"""The people's flow as a graph: a reviewed list of edges, the validator, the Machine.

The edge list below is written out by hand from ``mediation/workflows/peoples.py`` and
checked against domain.md §3.1. When the flow changes, these tests fail until the list is
updated: a changed flow is a reviewed change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from transitions import MachineError

from mediation.domain.periods import Period
from mediation.engine.machine import Controller, FlowMachine, check_flow, load, mermaid
from mediation.errors import FlowDefinitionError
from mediation.workflows import (
    Flow,
    HandOff,
    State,
    Transition,
    flow_names,
    get_flow,
)
from tests.conftest import T0

#: Every (source, trigger, target) edge of the people's flow. Internal transitions
#: (``dest=None``: a session recorded while mediating, an extension, a further follow-up)
#: are edges back to their source.
PEOPLES_EDGES: set[tuple[str, str, str]] = {
    # 申请/登记 → 受理 / 不予受理 (人民调解法 art. 17; 若干规定 art. 22)
    ("applied", "accept", "accepted"),
    ("applied", "reject", "rejected"),
    # a party expressly refuses: mediation cannot proceed (art. 17)
    ("applied", "refuse", "refused"),
    ("accepted", "refuse", "refused"),
    ("assigned", "refuse", "refused"),
    ("informed", "refuse", "refused"),
    # 指派调解员 (art. 19), 告知权利义务 (arts. 23-24), 调查/调解 (arts. 21-22)
    ("accepted", "assign", "assigned"),
    ("assigned", "inform", "informed"),
    ("informed", "record_session", "mediating"),
    ("mediating", "record_session", "mediating"),
    # extension with both parties' consent (若干规定 art. 33; local rules)
    ("accepted", "extend", "accepted"),
    ("assigned", "extend", "assigned"),
    ("informed", "extend", "informed"),
    ("mediating", "extend", "mediating"),
    # outcomes: written (art. 29) or oral (arts. 28, 30) agreement
    ("mediating", "agree_written", "agreed_written"),
    ("mediating", "agree_oral", "agreed_oral"),
    # failure → 终止调解 (art. 26)
    ("assigned", "terminate", "terminated"),
    ("informed", "terminate", "terminated"),
    ("mediating", "terminate", "terminated"),
    # withdrawal or a party demanding an end (art. 23)
    ("accepted", "withdraw", "withdrawn"),
    ("assigned", "withdraw", "withdrawn"),
    ("informed", "withdraw", "withdrawn"),
    ("mediating", "withdraw", "withdrawn"),
    # may become a public-order or criminal case → report to the police (art. 25): a duty
    # recorded on the case, the mediation goes on; it ends only if the police take over
    *((s, "report_police", s) for s in ("accepted", "assigned", "informed", "mediating")),
    *(
        (s, "refer_police", "referred_police")
        for s in ("accepted", "assigned", "informed", "mediating")
    ),
    # escalation to the next level's committee (若干规定 art. 21)
    ("accepted", "escalate", "escalated"),
    ("assigned", "escalate", "escalated"),
    ("informed", "escalate", "escalated"),
    ("mediating", "escalate", "escalated"),
    # 履行/回访 (art. 31)
    ("agreed_written", "follow_up", "followed_up"),
    ("agreed_oral", "follow_up", "followed_up"),
    ("followed_up", "follow_up", "followed_up"),
    # re-mediation to change the agreement, with both parties' consent (若干规定 art. 37 item 2)
    ("followed_up", "remediate_agreement", "mediating"),
    # optional 司法确认 (art. 33; 民事诉讼法 arts. 205-206)
    ("agreed_written", "apply_confirmation", "confirmation_applied"),
    ("followed_up", "apply_confirmation", "confirmation_applied"),
    ("confirmation_applied", "confirmation_granted", "confirmed"),
    ("confirmation_applied", "confirmation_denied", "confirmation_rejected"),
    ("confirmation_rejected", "remediate", "mediating"),
    # 立卷归档 (art. 27)
    ("terminated", "archive", "archived"),
    # 调解不成, the parties sue, the court refers it back before filing (特邀调解规定 arts. 11-12)
    ("terminated", "court_referral", "referred_to_court"),
    ("withdrawn", "archive", "archived"),
    ("referred_police", "archive", "archived"),
    ("followed_up", "archive", "archived"),
    ("confirmed", "archive", "archived"),
    ("confirmation_rejected", "archive", "archived"),
}

PEOPLES_STATES = {
    "applied",
    "accepted",
    "rejected",
    "refused",
    "assigned",
    "informed",
    "mediating",
    "agreed_written",
    "agreed_oral",
    "terminated",
    "withdrawn",
    "referred_police",
    "followed_up",
    "confirmation_applied",
    "confirmed",
    "confirmation_rejected",
    "escalated",
    "referred_to_court",
    "archived",
}
PEOPLES_FINALS = {"rejected", "refused", "escalated", "referred_to_court", "archived"}
#: What every mediation flow adds (workflows._common.with_common_actions): recording what the
#: case prevented, in place, from each state that is not final.
PREVENTION_EDGES = {(s, "record_prevention", s) for s in PEOPLES_STATES - PEOPLES_FINALS}
PEOPLES_EDGES |= PREVENTION_EDGES


def _spec_edges(flow: Flow) -> set[tuple[str, str, str]]:
    return {(src, t.trigger, t.dest or src) for t in flow.transitions for src in t.source}


def _machine_edges(fm: FlowMachine) -> set[tuple[str, str, str]]:
    edges = set()
    for trigger, event in fm.machine.events.items():
        for source, found in event.transitions.items():
            assert len(found) == 1, f"{trigger} from {source}: {len(found)} transitions"
            edges.add((source, trigger, found[0].dest or source))
    return edges


# -- the graph ------------------------------------------------------------------------


def test_peoples_edges_are_the_reviewed_list():
    fm = load("peoples")
    assert _spec_edges(fm.flow) == PEOPLES_EDGES


def test_peoples_machine_has_the_same_edges_as_the_spec():
    fm = load("peoples")
    assert set(fm.machine.events) == {trigger for _, trigger, _ in PEOPLES_EDGES}
    for source, trigger, target in PEOPLES_EDGES:
        found = fm.machine.events[trigger].transitions[source]
        assert len(found) == 1, (source, trigger)
        assert (found[0].dest or source) == target, (source, trigger)
    assert _machine_edges(fm) == PEOPLES_EDGES


def test_peoples_internal_transitions_keep_the_state():
    fm = load("peoples")
    internal = {(src, t.trigger) for t in fm.flow.transitions if t.dest is None for src in t.source}
    assert internal == {
        ("mediating", "record_session"),
        ("accepted", "extend"),
        ("assigned", "extend"),
        ("informed", "extend"),
        ("mediating", "extend"),
        ("followed_up", "follow_up"),
        *((s, "report_police") for s in ("accepted", "assigned", "informed", "mediating")),
        *((src, trigger) for src, trigger, _ in PREVENTION_EDGES),
    }
    for src, trigger in internal:
        assert fm.machine.events[trigger].transitions[src][0].dest is None


def test_peoples_states_finals_and_initial():
    fm = load("peoples")
    flow = fm.flow
    assert {s.name for s in flow.states} == PEOPLES_STATES
    assert len(flow.states) == len(PEOPLES_STATES)
    assert {s.name for s in flow.states if s.final} == PEOPLES_FINALS
    assert flow.initial == "applied"
    assert set(fm.machine.states) == PEOPLES_STATES
    assert fm.machine.initial == "applied"
    assert all(s.label for s in flow.states), "every state has a Chinese label"


def test_peoples_final_states_have_no_way_out_and_others_do():
    sources = {src for src, _, tgt in PEOPLES_EDGES if tgt != src}
    assert sources.isdisjoint(PEOPLES_FINALS)
    assert sources == PEOPLES_STATES - PEOPLES_FINALS


def test_peoples_deadlines_cite_the_law():
    flow = load("peoples").flow
    assert flow.deadlines, "the people's flow has statutory clocks"
    for rule in flow.deadlines:
        assert "人民调解法" in rule.legal_basis or "若干规定" in rule.legal_basis, rule.kind
    rules = {rule.kind: rule for rule in flow.deadlines}
    period = rules["mediation_period"]
    assert period.period == Period(1, "months")
    assert "若干规定 art. 33" in period.legal_basis
    assert period.starts_on == ("accept", "receive_escalation", "remediate", "remediate_agreement")
    assert period.runs_in == frozenset({"accepted", "assigned", "informed", "mediating"})
    assert period.extended_by == ("extend",)
    assert period.duty is True
    window = rules["confirmation_window"]
    assert window.period == Period(30, "days")
    assert window.duty is False
    # From the day the agreement takes effect (人民调解法 arts. 29-30, 33): the last
    # signature of a written one, the day an oral one is reached.
    assert window.starts_on == ("agreement_effective", "agree_oral")
    assert window.runs_in == frozenset({"agreed_written", "agreed_oral", "followed_up"})


def test_escalation_hands_off_to_the_parent_committee_in_the_same_flow():
    flow = load("peoples").flow
    handoffs = {t.trigger: t.handoff for t in flow.transitions if t.handoff}
    assert handoffs == {
        "escalate": HandOff(
            flow="peoples",
            organisation="parent",
            entry_trigger="receive_escalation",
            entry_state="accepted",
        ),
        "court_referral": HandOff(
            flow="court_referred",
            organisation="payload",
            entry_trigger="receive_court_referral",
            entry_state="received",
        ),
    }


# -- the validator --------------------------------------------------------------------


@pytest.mark.parametrize("name", flow_names())
def test_every_declared_flow_is_valid(name):
    assert check_flow(get_flow(name)) == []
    assert load(name).flow is get_flow(name)


def _flow() -> Flow:
    return get_flow("peoples")


def _with_transitions(*extra: Transition) -> Flow:
    flow = _flow()
    return dataclasses.replace(flow, transitions=flow.transitions + extra)


def _with_states(states: tuple[State, ...], *extra: Transition) -> Flow:
    flow = _flow()
    return dataclasses.replace(
        flow,
        states=flow.states + states,
        transitions=flow.transitions + extra,
        _by_name={},
    )


def _changed_transition(trigger: str, **changes: object) -> Flow:
    flow = _flow()
    return dataclasses.replace(
        flow,
        transitions=tuple(
            dataclasses.replace(t, **changes) if t.trigger == trigger else t
            for t in flow.transitions
        ),
    )


def _sources(trigger: str) -> tuple[str, ...]:
    (found,) = [t for t in _flow().transitions if t.trigger == trigger]
    return found.source


def _changed_deadline(kind: str, **changes: object) -> Flow:
    flow = _flow()
    return dataclasses.replace(
        flow,
        deadlines=tuple(
            dataclasses.replace(d, **changes) if d.kind == kind else d for d in flow.deadlines
        ),
    )


#: name → (how to break the flow, the problem ids check_flow must report, exactly).
BROKEN: dict[str, tuple[Callable[[], Flow], set[str]]] = {
    "unknown guard": (
        lambda: _changed_transition("accept", guards=("no_such_guard",)),
        {"F003"},
    ),
    "unknown effect": (
        lambda: _changed_transition("inform", effects=("no_such_effect",)),
        {"F003"},
    ),
    "unknown source state": (
        lambda: _with_transitions(Transition("wander", ("nowhere",), "accepted", "乱走")),
        {"F002"},
    ),
    "unknown destination state": (
        lambda: _with_transitions(Transition("wander", ("applied",), "nowhere", "乱走")),
        {"F002"},
    ),
    "unreachable state": (
        lambda: _with_states((State("orphan", "无人可达", final=True),)),
        {"F004"},
    ),
    "unreachable state with a way out": (
        lambda: _with_states(
            (State("orphan", "无人可达"),),
            Transition("leave", ("orphan",), "archived", "离开"),
        ),
        {"F004"},
    ),
    "non-final dead end": (
        lambda: _with_states(
            (State("limbo", "悬而未决"),),
            Transition("stall", ("mediating",), "limbo", "搁置"),
        ),
        {"F005"},
    ),
    "transition out of a final state": (
        lambda: _with_transitions(Transition("reopen", ("archived",), "mediating", "重新调解")),
        {"F006"},
    ),
    "deadline starts on an unknown trigger": (
        lambda: _changed_deadline("mediation_period", starts_on=("accept", "no_such_trigger")),
        {"F007"},
    ),
    "deadline runs in an unknown state": (
        lambda: _changed_deadline("confirmation_window", runs_in=frozenset({"nowhere"})),
        {"F007"},
    ),
    # the hand-off no longer enters this flow, so receive_escalation (which starts the
    # mediation period) is no longer a known trigger either: F007 comes with F008
    "hand-off to an unknown flow": (
        lambda: _changed_transition(
            "escalate",
            handoff=HandOff(
                flow="no_such_flow",
                organisation="parent",
                entry_trigger="receive_escalation",
                entry_state="accepted",
            ),
        ),
        {"F008", "F007"},
    ),
    # escalated then has no way in either: F004 comes with F008
    "hand-off that does not end the proceeding": (
        lambda: _changed_transition("escalate", dest="mediating"),
        {"F008", "F004"},
    ),
    "duplicate trigger from one state": (
        lambda: _with_transitions(Transition("accept", ("applied",), "rejected", "又受理")),
        {"F009"},
    ),
    "duplicate within one transition's sources": (
        lambda: _changed_transition("archive", source=(*_sources("archive"), "terminated")),
        {"F009"},
    ),
    "deadline without legal basis": (
        lambda: _changed_deadline("mediation_period", legal_basis=""),
        {"F010"},
    ),
    # Every state is still reachable: petitions diverted here enter at "applied".
    "initial state not declared": (
        lambda: dataclasses.replace(_flow(), initial="nowhere"),
        {"F001"},
    ),
    "state declared twice": (
        lambda: _with_states((State("applied", "重复"),)),
        {"F000"},
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_check_flow_rejects_a_broken_flow(case):
    make, expected = BROKEN[case]
    broken = make()
    problems = check_flow(broken)
    assert {p.id for p in problems} == expected, [str(p) for p in problems]
    for p in problems:
        assert p.message and p.hint
    with pytest.raises(FlowDefinitionError) as raised:
        FlowMachine(broken)
    for problem_id in expected:
        assert problem_id in str(raised.value)
    assert raised.value.hint


def test_check_flow_rejects_a_hand_off_to_a_flow_not_listed():
    problems = check_flow(_flow(), known_flows=["other"])
    assert {p.id for p in problems} == {"F008"}


def test_broken_copies_leave_the_declared_flow_alone():
    """The cases above use copies; the flow the engine loads is still the valid one."""
    for make, _ in BROKEN.values():
        make()
    flow = get_flow("peoples")
    assert check_flow(flow) == []
    assert _spec_edges(flow) == PEOPLES_EDGES
    assert {s.name for s in flow.states} == PEOPLES_STATES
    assert set(flow._by_name) == PEOPLES_STATES


def test_replacing_states_does_not_change_the_original_flow():
    original = Flow(
        name="tiny",
        label="小流程",
        legal_basis="人民调解法",
        case_word="小",
        initial="start",
        states=(State("start", "开始"), State("end", "结束", final=True)),
        transitions=(Transition("finish", ("start",), "end", "结束"),),
    )
    copy = dataclasses.replace(original, states=(*original.states, State("extra", "多余")))
    assert copy.state("extra").label == "多余"
    with pytest.raises(KeyError):
        original.state("extra")


# -- state changes only through transitions -------------------------------------------


def _controller(state: str, trigger: str) -> Controller:
    # conn=None: only guard-free transitions are fired, so nothing queries the database
    return Controller(
        state=state,
        trigger=trigger,
        proceeding={},
        payload={},
        conn=None,  # type: ignore[arg-type]
        now=T0,
        today=T0.date(),
        actor="test",
    )


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        ("applied", "inform"),
        ("accepted", "accept"),
        ("mediating", "accept"),
        ("archived", "inform"),
        ("rejected", "accept"),
        ("applied", "archive"),
    ],
)
def test_firing_a_trigger_not_allowed_in_the_state_raises_and_keeps_the_state(state, trigger):
    fm = load("peoples")
    ctl = _controller(state, trigger)
    with pytest.raises(MachineError):
        fm.fire(ctl)
    assert ctl.state == state
    assert ctl.failures == [] and ctl.updates == {} and ctl.facts == {}


def test_no_trigger_fires_outside_its_edges():
    """Every (state, trigger) pair that is not an edge is refused before any guard runs."""
    fm = load("peoples")
    allowed = {(src, trigger) for src, trigger, _ in PEOPLES_EDGES}
    refused = 0
    for state in PEOPLES_STATES:
        for trigger in fm.machine.events:
            if (state, trigger) in allowed:
                continue
            ctl = _controller(state, trigger)
            with pytest.raises(MachineError):
                fm.fire(ctl)
            assert ctl.state == state, (state, trigger)
            assert fm.transition(trigger, state) is None
            refused += 1
    assert refused == len(PEOPLES_STATES) * len(fm.machine.events) - len(allowed)


def test_final_states_allow_nothing():
    fm = load("peoples")
    for state in PEOPLES_FINALS:
        assert fm.allowed(state) == []


def test_guard_free_transitions_move_the_state_to_their_target():
    fm = load("peoples")
    free = [
        (src, t.trigger, t.dest or src)
        for t in fm.flow.transitions
        if not t.guards and not t.effects
        for src in t.source
    ]
    assert ("applied", "accept", "accepted") in free
    assert ("assigned", "inform", "informed") in free
    for src, trigger, target in free:
        ctl = _controller(src, trigger)
        assert fm.fire(ctl) is True
        assert ctl.state == target, (src, trigger)


def test_allowed_lists_exactly_the_edges_out_of_each_state():
    fm = load("peoples")
    for state in PEOPLES_STATES:
        expected = {(trigger, target) for src, trigger, target in PEOPLES_EDGES if src == state}
        assert {(t.trigger, t.dest or state) for t in fm.allowed(state)} == expected, state


# -- the diagram ----------------------------------------------------------------------


def test_mermaid_has_a_line_for_every_edge():
    flow = load("peoples").flow
    text = mermaid(flow)
    lines = set(text.splitlines())
    assert text.startswith("stateDiagram-v2\n")
    labels = {(src, t.trigger): t.label for t in flow.transitions for src in t.source}
    drawn = PEOPLES_EDGES - PREVENTION_EDGES  # one note for those, not a loop on each state
    for src, trigger, target in drawn:
        assert f"    {src} --> {target} : {labels[(src, trigger)]}" in lines, (src, trigger)
    edge_lines = [line for line in text.splitlines() if "-->" in line and "[*]" not in line]
    assert len(edge_lines) == len(drawn)
    assert any("record_prevention" in line and line.startswith("    %%") for line in lines)
    assert f"    [*] --> {flow.initial}" in lines
    for state in PEOPLES_FINALS:
        assert f"    {state} --> [*]" in lines
    for s in flow.states:
        assert f"    {s.name} : {s.label}" in lines
