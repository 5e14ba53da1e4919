"""mediation: a multi-channel dispute-mediation workflow engine (人民调解 · 三调联动).

The public API is :class:`Mediation` (:mod:`mediation.api`): one object holding a store,
the acting user and a clock, with a method for every action, each checked for permission
and scope in the library. The names below are imported on first use, so that
``import mediation`` (and the command's ``--help``) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "Mediation": "mediation.api",
    "CaseDetail": "mediation.api.results",
    "CaseHistory": "mediation.api.results",
    "CaseList": "mediation.api.results",
    "CaseSummary": "mediation.api.results",
    "DisputeLineage": "mediation.api.results",
    "Initialised": "mediation.api.admin_results",
    "NextTriggers": "mediation.api.results",
    "SchemaStatus": "mediation.api.admin_results",
    "CalendarLoaded": "mediation.api.write_results",
    "CalendarYear": "mediation.api.admin_results",
    "DisputeMerge": "mediation.api.write_results",
    "LocalPeriod": "mediation.api.write_results",
    "Organisation": "mediation.api.write_results",
    "PartyAmended": "mediation.api.write_results",
    "Reassigned": "mediation.api.write_results",
    "SignatureRecorded": "mediation.api.write_results",
    "SignedDocument": "mediation.api.write_results",
    "SigningKey": "mediation.api.write_results",
    "Sweep": "mediation.api.sweep_results",
    "SweepList": "mediation.api.sweep_results",
    "Action": "mediation.engine.permissions",
    "Opened": "mediation.engine.cases",
    "Advanced": "mediation.engine.cases",
    "Clock": "mediation.domain.clock",
    "FixedClock": "mediation.domain.clock",
    "ExitCode": "mediation.errors",
    "MediationError": "mediation.errors",
    "UsageError": "mediation.errors",
    "ValidationError": "mediation.errors",
    "FieldProblem": "mediation.errors",
    "NotFoundError": "mediation.errors",
    "TransitionNotAllowed": "mediation.errors",
    "ConflictError": "mediation.errors",
    "PermissionDenied": "mediation.errors",
    "TamperedError": "mediation.errors",
    "SchemaError": "mediation.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from mediation.api import Mediation as Mediation
    from mediation.api.admin_results import CalendarYear as CalendarYear
    from mediation.api.admin_results import Initialised as Initialised
    from mediation.api.admin_results import SchemaStatus as SchemaStatus
    from mediation.api.results import (
        CaseDetail as CaseDetail,
    )
    from mediation.api.results import (
        CaseHistory as CaseHistory,
    )
    from mediation.api.results import (
        CaseList as CaseList,
    )
    from mediation.api.results import (
        CaseSummary as CaseSummary,
    )
    from mediation.api.results import (
        DisputeLineage as DisputeLineage,
    )
    from mediation.api.results import (
        NextTriggers as NextTriggers,
    )
    from mediation.api.sweep_results import Sweep as Sweep
    from mediation.api.sweep_results import SweepList as SweepList
    from mediation.api.write_results import CalendarLoaded as CalendarLoaded
    from mediation.api.write_results import DisputeMerge as DisputeMerge
    from mediation.api.write_results import LocalPeriod as LocalPeriod
    from mediation.api.write_results import Organisation as Organisation
    from mediation.api.write_results import PartyAmended as PartyAmended
    from mediation.api.write_results import Reassigned as Reassigned
    from mediation.api.write_results import SignatureRecorded as SignatureRecorded
    from mediation.api.write_results import SignedDocument as SignedDocument
    from mediation.api.write_results import SigningKey as SigningKey
    from mediation.domain.clock import Clock as Clock
    from mediation.domain.clock import FixedClock as FixedClock
    from mediation.engine.cases import Advanced as Advanced
    from mediation.engine.cases import Opened as Opened
    from mediation.engine.permissions import Action as Action
    from mediation.errors import ConflictError as ConflictError
    from mediation.errors import ExitCode as ExitCode
    from mediation.errors import FieldProblem as FieldProblem
    from mediation.errors import MediationError as MediationError
    from mediation.errors import NotFoundError as NotFoundError
    from mediation.errors import PermissionDenied as PermissionDenied
    from mediation.errors import SchemaError as SchemaError
    from mediation.errors import TamperedError as TamperedError
    from mediation.errors import TransitionNotAllowed as TransitionNotAllowed
    from mediation.errors import UsageError as UsageError
    from mediation.errors import ValidationError as ValidationError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mediation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
