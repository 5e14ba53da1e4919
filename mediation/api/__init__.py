"""The engine as a library: one object, :class:`Mediation`, with a method for every action.

Every method checks the acting user's roles and, for an action on one case, the case's
scope, in the library (keyed by :class:`~mediation.engine.permissions.Action`), runs in a
transaction of its own, returns a typed result and raises a
:class:`~mediation.errors.MediationError` whose ``exit_code`` says what went wrong. The
command line is one client of it; a web service or a script is another::

    from mediation import Mediation

    with Mediation.connect("centre.db") as api:  # as this OS account / database login
        detail = api.show_case("（2026）桥头人调字第1号")
        print(detail.proceeding["state_label"])

``Mediation.connect`` establishes who acts (:mod:`mediation.storage.identity`); a service
that authenticates its users itself builds ``Mediation(store, login)`` per request.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mediation.api._admin import AdminAPI
from mediation.api._cases import CasesAPI
from mediation.api._documents import DocumentsAPI
from mediation.api._sweeps import SweepsAPI

if TYPE_CHECKING:
    from mediation.api.admin_results import CalendarYear as CalendarYear
    from mediation.api.admin_results import Initialised as Initialised
    from mediation.api.admin_results import SchemaStatus as SchemaStatus
    from mediation.api.detail_results import CaseDetail as CaseDetail
    from mediation.api.document_results import CaseFileVolume as CaseFileVolume
    from mediation.api.document_results import StoredDocument as StoredDocument
    from mediation.api.results import CaseHistory as CaseHistory
    from mediation.api.results import CaseList as CaseList
    from mediation.api.results import CaseSummary as CaseSummary
    from mediation.api.results import DisputeLineage as DisputeLineage
    from mediation.api.results import NextTriggers as NextTriggers
    from mediation.api.sweep_results import Sweep as Sweep
    from mediation.api.sweep_results import SweepList as SweepList
    from mediation.api.write_results import CalendarLoaded as CalendarLoaded
    from mediation.api.write_results import Corrected as Corrected
    from mediation.api.write_results import DisputeMerge as DisputeMerge
    from mediation.api.write_results import LocalPeriod as LocalPeriod
    from mediation.api.write_results import Organisation as Organisation
    from mediation.api.write_results import PartyAmended as PartyAmended
    from mediation.api.write_results import Reassigned as Reassigned
    from mediation.api.write_results import SignatureRecorded as SignatureRecorded
    from mediation.api.write_results import SignedDocument as SignedDocument
    from mediation.api.write_results import SigningKey as SigningKey


def _lazy_results() -> dict[str, str]:
    """The results of the actions, imported on first use (see mediation.api.results):
    name → its module, from :mod:`mediation._exports`."""
    from mediation._exports import EXPORTS

    lazy = (
        "mediation.api.detail_results",
        "mediation.api.results",
        "mediation.api.admin_results",
        "mediation.api.document_results",
        "mediation.api.sweep_results",
        "mediation.api.write_results",
    )
    return {name: module for name, module in EXPORTS.items() if module in lazy}


_LAZY_RESULTS = _lazy_results()


class Mediation(CasesAPI, DocumentsAPI, SweepsAPI, AdminAPI):
    """A store, the acting user and a clock, with a method for every action the engine
    offers (see :class:`~mediation.api._base.Session` for opening and closing)."""


__all__ = sorted(["Mediation", *_LAZY_RESULTS])


def __getattr__(name: str) -> Any:
    module = _LAZY_RESULTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
