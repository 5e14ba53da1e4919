"""The engine as a library: one object, :class:`Mediation`, with a method for every action.

Every method checks the acting user's roles and, for an action on one case, the case's
scope, in the library (keyed by :class:`~mediation.engine.permissions.Action`), runs in a
transaction of its own, returns a typed result and raises a
:class:`~mediation.errors.MediationError` whose ``exit_code`` says what went wrong. The
command line is one client of it; a web service or a script is another::

    from mediation import Mediation

    with Mediation.connect("centre.db", actor="zhouming") as api:
        detail = api.show_case("（2026）桥头人调字第1号")
        print(detail.proceeding["state_label"])
"""

from __future__ import annotations

from mediation.api._admin import AdminAPI
from mediation.api._cases import CasesAPI
from mediation.api._documents import DocumentsAPI
from mediation.api.results import (
    CalendarLoaded,
    CalendarYear,
    CaseDetail,
    CaseHistory,
    CaseSummary,
    DisputeLineage,
    DisputeMerge,
    Initialised,
    LocalPeriod,
    NextTriggers,
    Organisation,
    PartyAmended,
    Reassigned,
    SchemaStatus,
    SignatureRecorded,
    SignedDocument,
    SigningKey,
)


class Mediation(CasesAPI, DocumentsAPI, AdminAPI):
    """A store, the acting user and a clock, with a method for every action the engine
    offers (see :class:`~mediation.api._base.Session` for opening and closing)."""


__all__ = [
    "CalendarLoaded",
    "CalendarYear",
    "CaseDetail",
    "CaseHistory",
    "CaseSummary",
    "DisputeLineage",
    "DisputeMerge",
    "Initialised",
    "LocalPeriod",
    "Mediation",
    "NextTriggers",
    "Organisation",
    "PartyAmended",
    "Reassigned",
    "SchemaStatus",
    "SignatureRecorded",
    "SignedDocument",
    "SigningKey",
]
