"""Typed results of reading a case's stored documents: one document as kept, and the
whole case file as one PDF (imported by the actions that make them, see
:mod:`mediation.api.results`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mediation.api._result import _Result


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
