"""Loading flows: validation, and one shared ``transitions`` Machine per flow.

A case is never given a Machine of its own (the pytransitions FAQ puts one at ~50 KiB and
~2.7 ms), and a SQLModel row is never a machine model (pydantic refuses the attributes):
the engine builds a plain :class:`Controller` for each firing and hands it to the flow's
one Machine, which checks guards, runs effects and moves ``Controller.state``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from mediation.engine import guards_procedures as _procedures
from mediation.engine import guards_statistics as _statistics
from mediation.engine.controller import Controller
from mediation.engine.guards import EFFECTS, GUARDS
from mediation.errors import FlowDefinitionError
from mediation.i18n import _
from mediation.workflows import (
    AGREEMENT_EFFECTIVE,
    Flow,
    Transition,
    entries,
    flow_names,
    get_flow,
)

#: Registers the procedure guards (notices, hand-offs, objections) and the statistics'
#: (preventions, amounts) in GUARDS.
_REGISTERED = (_procedures, _statistics)


class _Guard:
    """A named guard as a transitions condition; records why it refused."""

    __slots__ = ("func", "name")

    def __init__(self, name: str) -> None:
        self.name, self.func = name, GUARDS[name]

    def __call__(self, event: Any) -> bool:
        ctl: Controller = event.model
        problem = self.func(ctl)
        if problem is not None:
            ctl.failures.append(problem)
            return False
        return True


class _Effect:
    __slots__ = ("func", "name")

    def __init__(self, name: str) -> None:
        self.name, self.func = name, EFFECTS[name]

    def __call__(self, event: Any) -> None:
        self.func(event.model)


@dataclass(frozen=True)
class Problem:
    """One reason a flow definition is unsafe, with a stable id and a hint."""

    id: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.id} {self.message} ({self.hint})"


def check_flow(flow: Flow, *, known_flows: list[str] | None = None) -> list[Problem]:
    """Every problem with ``flow``: unknown names, unreachable states, dead ends."""
    known_flows = flow_names() if known_flows is None else known_flows
    problems: list[Problem] = []
    names = {s.name for s in flow.states}
    finals = {s.name for s in flow.states if s.final}
    triggers = {t.trigger for t in flow.transitions}

    if len(names) != len(flow.states):
        problems.append(Problem("F000", "a state is declared twice", "give each state one name"))
    if flow.initial not in names:
        problems.append(
            Problem("F001", f"initial state {flow.initial!r} is not declared", "add it")
        )
    seen: set[tuple[str, str]] = set()
    for t in flow.transitions:
        for src in t.source:
            if src not in names:
                problems.append(
                    Problem("F002", f"{t.trigger}: unknown source state {src!r}", "declare it")
                )
            if (t.trigger, src) in seen:
                problems.append(
                    Problem("F009", f"{t.trigger} from {src} is declared twice", "merge them")
                )
            seen.add((t.trigger, src))
            if src in finals:
                problems.append(
                    Problem("F006", f"{t.trigger} leaves final state {src!r}", "finals end a run")
                )
        if t.dest is not None and t.dest not in names:
            problems.append(
                Problem("F002", f"{t.trigger}: unknown destination {t.dest!r}", "declare it")
            )
        for g in t.guards:
            if g not in GUARDS:
                problems.append(
                    Problem("F003", f"{t.trigger}: unknown guard {g!r}", "register it in guards")
                )
        for e in t.effects:
            if e not in EFFECTS:
                problems.append(
                    Problem("F003", f"{t.trigger}: unknown effect {e!r}", "register it in guards")
                )
        if t.handoff is not None:
            if t.handoff.flow not in known_flows:
                problems.append(
                    Problem(
                        "F008", f"{t.trigger}: hand-off to unknown flow", "list it in workflows"
                    )
                )
            if t.handoff.closes and t.dest not in finals:
                problems.append(
                    Problem(
                        "F008", f"{t.trigger}: a hand-off must end in a final state", "fix dest"
                    )
                )
            if t.handoff.organisation == "payload" and "organisation" not in t.requires:
                problems.append(
                    Problem(
                        "F008",
                        f"{t.trigger}: the hand-off's organisation comes from the payload",
                        'add "organisation" to requires',
                    )
                )

    # Proceedings also start where hand-offs from any flow (this one included) enter it.
    starts = entries(flow, known_flows)
    entry_triggers = set(starts)
    reachable = set().union(*starts.values()) & names
    queue = deque(reachable)
    while queue:
        here = queue.popleft()
        for t in flow.transitions:
            if here in t.source and t.dest and t.dest not in reachable:
                reachable.add(t.dest)
                queue.append(t.dest)
    for s in flow.states:
        if s.name not in reachable:
            problems.append(Problem("F004", f"state {s.name!r} is unreachable", "add a transition"))
        leaves = any(s.name in t.source and t.dest for t in flow.transitions)
        if not s.final and not leaves:
            problems.append(
                Problem("F005", f"state {s.name!r} is a dead end", "mark it final or add a way out")
            )
    # A written agreement's last signature is an event of its own (not a transition).
    written = any(
        "record_agreement" in t.effects and t.trigger != "agree_oral" for t in flow.transitions
    )
    recorded = {AGREEMENT_EFFECTIVE} if written else set()
    for rule in flow.deadlines:
        if rule.from_receipt and (
            "open" not in rule.starts_on or set(rule.starts_on) - {"open"} - entry_triggers
        ):
            problems.append(
                Problem(
                    "F007",
                    f"deadline {rule.kind}: counted from receipt but not started on open",
                    "a clock counted from the day of receipt starts when the case opens (from"
                    " the intake's received_at) or is handed over (that day)",
                )
            )
        for trig in rule.starts_on:
            if trig not in triggers and trig not in entry_triggers and trig not in recorded:
                problems.append(
                    Problem("F007", f"deadline {rule.kind}: unknown trigger {trig!r}", "fix it")
                )
        for t in flow.transitions:
            if (
                rule.starts_from
                and t.trigger in rule.starts_on
                and rule.starts_from not in t.requires
            ):
                problems.append(
                    Problem(
                        "F007",
                        f"deadline {rule.kind}: {t.trigger} does not require "
                        f"{rule.starts_from!r}, the day it counts from",
                        "add it to requires",
                    )
                )
        for st in rule.runs_in:
            if st not in names:
                problems.append(
                    Problem("F007", f"deadline {rule.kind}: unknown state {st!r}", "fix it")
                )
        for trig in (*rule.paused_by, *rule.resumed_by, *rule.extended_by):
            if trig not in triggers:
                problems.append(
                    Problem("F007", f"deadline {rule.kind}: unknown trigger {trig!r}", "fix it")
                )
        if rule.on_expiry is not None and not any(
            t.trigger == rule.on_expiry and set(t.source) & rule.runs_in for t in flow.transitions
        ):
            problems.append(
                Problem(
                    "F011",
                    f"deadline {rule.kind}: on_expiry {rule.on_expiry!r} cannot fire while it runs",
                    "name a trigger allowed in the states of runs_in",
                )
            )
        if not rule.legal_basis:
            problems.append(
                Problem("F010", f"deadline {rule.kind} names no legal basis", "cite the article")
            )
    return problems


class FlowMachine:
    """A validated flow with its one shared Machine."""

    def __init__(self, flow: Flow) -> None:
        problems = check_flow(flow)
        if problems:
            detail = "\n".join(f"  {p}" for p in problems)
            raise FlowDefinitionError(
                f"flow {flow.name!r} is not valid:\n{detail}",
                hint=_("请修正 mediation/workflows/ 中的流程定义"),
            )
        self.flow = flow
        self.machine = Machine(
            model=None,
            states=[s.name for s in flow.states],
            initial=flow.initial,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "conditions": [_Guard(g) for g in t.guards],
                    "after": [_Effect(e) for e in t.effects],
                }
                for t in flow.transitions
            ],
            auto_transitions=False,
            send_event=True,
            name=flow.name,
        )
        self._allowed: dict[str, list[Transition]] = {s.name: [] for s in flow.states}
        self._by_key: dict[tuple[str, str], Transition] = {}
        for t in flow.transitions:
            for src in t.source:
                self._allowed[src].append(t)
                self._by_key[(t.trigger, src)] = t
        self.starts: dict[str, list[Any]] = {}
        self.pauses: dict[str, list[Any]] = {}
        self.resumes: dict[str, list[Any]] = {}
        for rule in flow.deadlines:
            for trig in rule.starts_on:
                self.starts.setdefault(trig, []).append(rule)
            for trig in rule.paused_by:
                self.pauses.setdefault(trig, []).append(rule)
            for trig in rule.resumed_by:
                self.resumes.setdefault(trig, []).append(rule)
        self.rules = {rule.kind: rule for rule in flow.deadlines}

    def allowed(self, state: str) -> list[Transition]:
        """The transitions that may be fired in ``state`` (guards not yet checked)."""
        return self._allowed.get(state, [])

    def transition(self, trigger: str, state: str) -> Transition | None:
        return self._by_key.get((trigger, state))

    def fire(self, ctl: Controller) -> bool:
        """Run ``ctl.trigger`` on ``ctl`` through the shared Machine."""
        result: bool = self.machine.events[ctl.trigger].trigger(ctl)
        return result


_LOADED: dict[str, FlowMachine] = {}


def load(name: str) -> FlowMachine:
    """The validated machine for flow ``name`` (built once per process)."""
    found = _LOADED.get(name)
    if found is None:
        found = _LOADED[name] = FlowMachine(get_flow(name))
    return found


def mermaid(flow: Flow) -> str:
    """The flow as a Mermaid ``stateDiagram-v2`` with Chinese labels."""
    lines = ["stateDiagram-v2", f"    %% {flow.label}（{flow.name}）"]
    for s in flow.states:
        lines.append(f"    {s.name} : {s.label}")
    lines.append(f"    [*] --> {flow.initial}")
    from mediation.workflows._common import COMMON_ACTIONS

    for t in flow.transitions:
        if t.trigger in COMMON_ACTIONS:  # from every open state: one note, not a loop each
            lines.append(f"    %% {t.label}（{t.trigger}）：任何未办结状态均可登记，状态不变")
            continue
        for src in t.source:
            dest = t.dest or src
            lines.append(f"    {src} --> {dest} : {t.label}")
    for s in flow.states:
        if s.final:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines) + "\n"
