"""Typed results of the actions whose engine function returns plain data: the reads (a
case, its history, a dispute's lineage...) and the writes (reassign, amend a party, merge
and split disputes, sign, record a signature, keys, organisations, the calendar). Actions
whose engine function has its own result return that one
(:class:`~mediation.engine.cases.Opened`, :class:`~mediation.engine.cases.Advanced`, ...).

Each is a frozen dataclass built from the engine's dictionary (:meth:`_Result.of`); its
fields are that dictionary's keys in the same order, so :meth:`as_dict` gives the same
plain data for JSON. Rows inside (parties, deadlines, events) stay dictionaries of
labelled values, masked unless revealed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class SchemaStatus(_Result):
    """The database and its schema revision against the one this version needs."""

    database: str
    revision: str | None
    required: str
    current: bool


@dataclass(frozen=True)
class Initialised(_Result):
    """What ``init`` did: the schema revision before and after, and the committee it
    registered (if any)."""

    database: str
    revision_before: str | None
    revision: str | None
    organisation: dict[str, Any] | None = None


# -- results of the write actions -------------------------------------------------------


@dataclass(frozen=True)
class Reassigned(_Result):
    """A case given to other mediators: the ones now and the ones before."""

    case_number: str
    mediators: list[str]
    previous: list[str]


@dataclass(frozen=True)
class PartyAmended(_Result):
    """A party's corrected particulars: field → ``{"before": ..., "after": ...}``, masked,
    and the case's version after the change."""

    case_number: str
    party: str
    role: str
    changed: dict[str, dict[str, str | None]]
    version: int


@dataclass(frozen=True)
class DisputeMerge(_Result):
    """A merge of dispute ``merged`` into ``kept``: the one made by
    :meth:`~mediation.Mediation.merge_disputes`, or undone by
    :meth:`~mediation.Mediation.split_dispute` (it stays on record)."""

    merge_id: int
    kept: int
    merged: int


@dataclass(frozen=True)
class SignedDocument(_Result):
    """A document sealed with its committee's key: the signed PDF (``content``), its digest
    and size, the key's fingerprint, and when the agreement took effect (if sealing it
    was the last signature)."""

    case_number: str
    kind: str
    seq: int
    title: str
    organisation: str
    sha256: str
    size: int
    fingerprint: str
    signed_at: datetime
    effective_at: datetime | None
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class SignatureRecorded(_Result):
    """A signature recorded on a case's agreement, the signatures still ``missing`` (in
    words, empty when none) and when the agreement took effect (if this was the last)."""

    case_number: str
    document_kind: str
    signer_kind: str
    signer: str
    method: str
    method_label: str
    signed_at: datetime
    missing: str
    effective_at: datetime | None
    version: int


@dataclass(frozen=True)
class SigningKey(_Result):
    """A committee's new active signing key (created or imported), its certificate, and
    the fingerprints of the keys it retired."""

    id: int
    organisation: str
    organisation_name: str
    fingerprint: str
    subject: str
    key_path: str
    not_before: datetime
    not_after: datetime
    retired: list[str]


@dataclass(frozen=True)
class Organisation(_Result):
    """A registered committee, centre or organ, with its parent's code."""

    id: int
    code: str
    name: str
    kind: str
    level: str
    parent: str | None


@dataclass(frozen=True)
class LocalPeriod(_Result):
    """An organisation's own length for a period the law leaves to local rules."""

    organisation: str
    flow: str
    kind: str
    period: str


@dataclass(frozen=True)
class CalendarLoaded(_Result):
    """A year's holiday calendar loaded (``replaced`` one loaded before), and the
    provisional deadlines recomputed with it (their old and new due dates)."""

    year: int
    replaced: bool
    recomputed: list[dict[str, Any]]


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
