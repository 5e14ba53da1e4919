"""Typed results of the read actions on cases and disputes; that of ``case show`` is in
:mod:`mediation.api.detail_results`, those of the administrative reads in
:mod:`mediation.api.admin_results`, those of the write actions in
:mod:`mediation.api.write_results` (each imported by the actions that make them: each
frozen dataclass costs ~0.5 ms of start-up to create). Actions whose engine function has
its own result return that one (:class:`~mediation.engine.cases.Opened`,
:class:`~mediation.engine.cases.Advanced`, ...).

Each is a frozen dataclass built from the engine's dictionary (:meth:`_Result.of`); its
fields are that dictionary's keys in the same order, so :meth:`as_dict` gives the same
plain data for JSON. Rows inside (parties, deadlines, events) stay dictionaries of
labelled values, masked unless revealed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mediation.api._result import _Result


@dataclass(frozen=True)
class CaseHistory(_Result):
    """The events of a case, oldest first."""

    case_number: str
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class NextTriggers(_Result):
    """The triggers allowed in a case's current state, with the data each requires."""

    case_number: str
    state: str
    state_label: str
    next: list[dict[str, Any]]


@dataclass(frozen=True)
class DisputeLineage(_Result):
    """A dispute with every proceeding it went through (hand-offs, escalations) and its
    merges."""

    dispute: dict[str, Any]
    parties: list[dict[str, Any]]
    proceedings: list[dict[str, Any]]
    merged_disputes: list[dict[str, Any]]
    merges: list[dict[str, Any]]


@dataclass(frozen=True)
class CaseSummary(_Result):
    """One line of a case list."""

    id: int
    case_number: str
    flow: str
    state: str
    state_label: str
    level: str
    mediator: str | None
    organisation: str
    title: str
    dispute_type: str
    dispute_type_label: str
    dispute_id: int
    opened_at: Any
    closed_at: Any
    received_at: Any = None
    #: The dispute's parties, ID numbers and phones masked.
    parties: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CaseList(_Result):
    """One page of the cases found, latest filed first: ``total`` found in all,
    ``cases`` from the ``offset``-th on (at most ``limit``)."""

    cases: list[CaseSummary]
    total: int
    offset: int
    limit: int
