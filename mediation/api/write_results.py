"""Typed results of the write actions: reassign, amend a party, correct a step, merge and split disputes,
sign, record a signature, signing keys, organisations, the calendar.

Like the read results (:mod:`mediation.api.results`), each is a frozen dataclass built
from the engine's dictionary, its fields that dictionary's keys in the same order, so
:meth:`~mediation.api._result._Result.as_dict` gives the command's JSON. This module is
imported by the actions that return them only, so a read command does not pay for
creating these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mediation.api._result import _Result


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
class Corrected(_Result):
    """A recorded step corrected (:meth:`~mediation.Mediation.correct`): the correction's
    number in the case's history (``seq``), the step's (``corrected_seq``) and trigger,
    each field's old and new value (``{"before": ..., "after": ...}``) and the reason."""

    case_number: str
    seq: int
    corrected_seq: int
    trigger: str
    trigger_label: str
    changed: dict[str, dict[str, Any]]
    reason: str


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
    """A registered committee, centre or organ, with its parent's code and, for a court,
    its court code (法院代字) its case numbers are built from.

    ``retired_at`` (ISO 8601) once it was retired (``org retire``): it then receives no new
    case nor hand-off. After ``org edit``, ``changed`` holds each field changed with its
    value before and after; after ``org retire``, ``open_cases`` counts the cases still
    running there (worked to their end) and ``children`` names the organisations under it.
    """

    id: int
    code: str
    name: str
    kind: str
    level: str
    parent: str | None
    retired_at: str | None = None
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_cases: int = 0
    children: list[str] = field(default_factory=list)
    court_code: str | None = None


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
