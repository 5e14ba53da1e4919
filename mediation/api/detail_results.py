"""The typed result of ``case show`` (:meth:`~mediation.api.Mediation.show_case`), in a
module of its own: the command a mediator types most creates this one dataclass, not the
other read results (:mod:`mediation.api.results`; each frozen dataclass costs ~0.5 ms of
start-up to create)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mediation.api._result import _Result


@dataclass(frozen=True)
class CaseDetail(_Result):
    """One case: its proceeding, dispute, parties, deadlines, related proceedings, the
    triggers allowed now and the corrected fields of its recorded steps."""

    proceeding: dict[str, Any]
    dispute: dict[str, Any]
    parties: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    related_proceedings: list[dict[str, Any]]
    next: list[dict[str, Any]]
    #: The fields of recorded steps corrected since (``case correct``), with their
    #: values now: ``seq`` and ``trigger`` of the step, ``field``, ``value``,
    #: ``corrected_by`` (the corrections' seqs).
    corrections: list[dict[str, Any]] = field(default_factory=list)
