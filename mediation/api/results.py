"""Typed results of the read actions; those of the write actions are in
:mod:`mediation.api.write_results` (imported by the actions that make them: each
dataclass costs ~1 ms of start-up to create). Actions whose engine function has its own
result return that one (:class:`~mediation.engine.cases.Opened`,
:class:`~mediation.engine.cases.Advanced`, ...).

Each is a frozen dataclass built from the engine's dictionary (:meth:`_Result.of`); its
fields are that dictionary's keys in the same order, so :meth:`as_dict` gives the same
plain data for JSON. Rows inside (parties, deadlines, events) stay dictionaries of
labelled values, masked unless revealed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self


class _Result:
    @classmethod
    def of(cls, data: dict[str, Any]) -> Self:
        """Build from the engine's dictionary (its keys are the fields)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class CaseDetail(_Result):
    """One case: its proceeding, dispute, parties, deadlines, related proceedings and the
    triggers allowed now."""

    proceeding: dict[str, Any]
    dispute: dict[str, Any]
    parties: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    related_proceedings: list[dict[str, Any]]
    next: list[dict[str, Any]]


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
    parties: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class CaseList(_Result):
    """One page of the cases found, latest filed first: ``total`` found in all,
    ``cases`` from the ``offset``-th on (at most ``limit``)."""

    cases: list[CaseSummary]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class SchemaStatus(_Result):
    """The database and its schema revision against the one this version needs."""

    database: str
    revision: str | None
    required: str
    current: bool
    #: False when the database's SQLite file (or its folder) does not exist.
    exists: bool = True


@dataclass(frozen=True)
class Initialised(_Result):
    """What ``init`` did: the schema revision before and after, the committee it
    registered (if any), and the first admin it made (the login that ran it; None when the
    database had users already)."""

    database: str
    revision_before: str | None
    revision: str | None
    organisation: dict[str, Any] | None = None
    first_admin: str | None = None


@dataclass(frozen=True)
class CalendarYear(_Result):
    """A year's weekday holidays and weekend working days, and where they come from
    (``loaded``, ``package`` or ``provisional``; ``document`` names a loaded file)."""

    year: int
    source: str
    document: str
    provisional: bool
    weekday_holidays: list[date]
    weekend_workdays: list[date]


@dataclass(frozen=True)
class StoredDocument(_Result):
    """A document as the case keeps it (``content``: the sealed PDF once it is signed),
    its bytes checked against the hash on record."""

    case_number: str
    kind: str
    seq: int
    title: str
    status: str  #: rendered | signed
    pages: int
    size: int
    sha256: str
    signed_at: datetime | None
    content: bytes


@dataclass(frozen=True)
class CaseFileVolume(_Result):
    """The whole case file as one PDF (``content``): the cover and index
    (``cover_pages`` pages, not numbered), then ``documents`` in the file's order, each
    with its index number, date, page count, page numbers (页号) and hash."""

    case_number: str
    cover_pages: int
    documents: list[dict[str, Any]]
    pages: int
    size: int
    sha256: str
    content: bytes
