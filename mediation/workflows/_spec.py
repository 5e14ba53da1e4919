"""The vocabulary a flow is declared in: states, transitions, deadlines, documents.

A flow module builds one :class:`Flow` from these and nothing else; the engine
(:mod:`mediation.engine.machine`) loads every flow the same way and validates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mediation.domain.periods import Period


@dataclass(frozen=True)
class State:
    """A state a mediator speaks of; ``final`` states close the proceeding."""

    name: str
    label: str
    final: bool = False


@dataclass(frozen=True)
class HandOff:
    """A transition that opens the next proceeding of the same dispute, linked to this one.

    :param flow: the flow of the next proceeding.
    :param organisation: where it goes: ``parent`` (one level up the ladder) or
        ``payload`` (the organisation code given in the payload field ``organisation``,
        which the transition must then require).
    :param entry_trigger: recorded as the first event of the next proceeding; deadline
        rules that start on it start its clock.
    :param entry_state: the state the next proceeding starts in.
    """

    flow: str
    organisation: Literal["parent", "payload"]
    entry_trigger: str
    entry_state: str
    #: Whether this proceeding ends with the hand-off (transfer, escalation). A petition
    #: diverted to mediation stays open to receive the result: ``closes=False``.
    closes: bool = True


@dataclass(frozen=True)
class Transition:
    """A trigger that moves a proceeding from any of ``source`` to ``dest``.

    ``dest=None`` records the action without changing state (a mediation session).
    ``requires`` names payload fields the user must supply, ``optional`` those the step
    may record besides (what a document prints when given: the place of a session);
    together they are every field the step accepts (``case advance --set`` refuses any
    other). ``guards`` and ``effects`` name functions registered in
    :mod:`mediation.engine.guards`.
    """

    trigger: str
    source: tuple[str, ...]
    dest: str | None
    label: str
    requires: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    outcome: str | None = None
    handoff: HandOff | None = None
    legal_basis: str = ""
    #: The role that may fire it (mediation.engine.users): approvals need a supervisor.
    role: str = "mediator"
    optional: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Every payload field the step accepts: ``requires``, then ``optional``."""
        return (*self.requires, *(f for f in self.optional if f not in self.requires))


#: The event recorded when the last signature or seal puts a written agreement in effect
#: (人民调解法 art. 29; mediation.documents.signatures): a deadline rule may start on it.
AGREEMENT_EFFECTIVE = "agreement_effective"


@dataclass(frozen=True)
class DeadlineRule:
    """A statutory clock: starts on ``starts_on`` triggers, runs while in ``runs_in``.

    ``duty`` clocks bind the organisation and are reported when overdue; others are
    windows for the parties (e.g. applying for judicial confirmation).
    """

    kind: str
    label: str
    period: Period
    legal_basis: str
    starts_on: tuple[str, ...]
    runs_in: frozenset[str]
    duty: bool = True
    extended_by: tuple[str, ...] = ()
    #: When the parties agree to extend, the limit no longer applies at all (委派调解,
    #: 特邀调解规定 art. 27): ``on_expiry`` is not fired after such an extension.
    agreed_extension_lifts_limit: bool = False
    #: Whether an organisation may set its own period (the law leaves it to local rules,
    #: e.g. 行政调解): ``mediation org set-period``.
    configurable: bool = False
    #: A fixed statutory extension (e.g. 信访 +30 days with approval); without it the
    #: extending trigger must give the agreed ``new_due``.
    extension: Period | None = None
    #: Triggers that stop the clock (appraisal, hearing) and those that restart it; the
    #: paused time does not count.
    paused_by: tuple[str, ...] = ()
    resumed_by: tuple[str, ...] = ()
    #: Days before the due date the scheduler reminds the organisation.
    remind_before: int = 3
    #: Whether the clock counts from the day the application was received (the intake's
    #: ``received_at``: 收到申请之日, 收到信访事项之日) rather than the day the case was typed
    #: in (domain.md §4). Only for rules started on ``open`` (or also on a hand-off's
    #: entry trigger: a case handed over is received the day it is handed over).
    from_receipt: bool = False
    #: A trigger the scheduler fires once the due date has passed (a statutory
    #: consequence, e.g. 医调委 expiry = deemed failure); None for none.
    on_expiry: str | None = None
    #: A payload field naming the day the period counts from, where the law counts from a
    #: day the starting trigger records rather than the day it is fired (收到书面答复之日,
    #: domain.md §4: "the clock starts on that day as recorded"); None: the trigger's day.
    starts_from: str | None = None


@dataclass(frozen=True)
class DocumentSpec:
    """A document of the case file, available once the proceeding reached ``after``."""

    kind: str
    label: str
    legal_basis: str
    after: tuple[str, ...]


@dataclass(frozen=True)
class Flow:
    """One flow, declared as data."""

    name: str
    label: str
    legal_basis: str
    case_word: str  # the 字 of the case number: （2026）X人调字第N号
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    deadlines: tuple[DeadlineRule, ...] = ()
    documents: tuple[DocumentSpec, ...] = ()
    description: str = ""
    #: For a flow a court runs itself, the type of case in the court's number (类型代字:
    #: 民初, 民特): a court with a court code numbers it （2026）浙0681民初123号.
    court_case_type: str = ""
    _by_name: dict[str, State] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Always a fresh table: dataclasses.replace() hands over the original's field.
        object.__setattr__(self, "_by_name", {s.name: s for s in self.states})

    def state(self, name: str) -> State:
        return self._by_name[name]

    def outgoing(self, state: str) -> list[Transition]:
        """The transitions declared out of ``state`` (guards not checked), in order."""
        return [t for t in self.transitions if state in t.source]

    def fields_of(self, trigger: str) -> tuple[str, ...]:
        """Every payload field ``trigger`` accepts from any state, in declaration order."""
        out: dict[str, None] = {}
        for t in self.transitions:
            if t.trigger == trigger:
                out.update(dict.fromkeys(t.fields))
        return tuple(out)

    def state_label(self, name: str | None) -> str:
        if name is None:
            return ""
        found = self._by_name.get(name)
        return found.label if found else name
