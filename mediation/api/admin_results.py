"""Typed results of the administrative reads: the schema's status, what ``init`` did, a
calendar year (imported by the actions that make them, see :mod:`mediation.api.results`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from mediation.api._result import _Result


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
class SchemaUpgraded(_Result):
    """What ``db upgrade`` did: the schema revision before and after, and the running
    deadlines a rule changed since they were computed (issue 14) counted again, each with
    its case number, kind, previous and new due date (None: closed until the agreement takes
    effect) and the rule (``agreement_effective``, ``not_in_effect``,
    ``statutory_extension``, ``from_receipt``)."""

    before: str | None
    after: str | None
    recomputed: list[dict[str, Any]]


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
    #: Whether the database is a training database (mediation.storage.settings).
    training: bool = False


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
