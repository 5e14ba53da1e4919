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

from mediation._exports import EXPORTS as _EXPORTS

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from mediation.api import Mediation as Mediation
    from mediation.api.admin_results import CalendarYear as CalendarYear
    from mediation.api.admin_results import Initialised as Initialised
    from mediation.api.admin_results import SchemaStatus as SchemaStatus
    from mediation.api.admin_results import SchemaUpgraded as SchemaUpgraded
    from mediation.api.detail_results import CaseDetail as CaseDetail
    from mediation.api.document_results import CaseFileVolume as CaseFileVolume
    from mediation.api.document_results import StoredDocument as StoredDocument
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
    from mediation.api.write_results import Corrected as Corrected
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
    from mediation.engine.scheduler import DispatchPlan as DispatchPlan
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
    from mediation.storage.checkpoint import AuditCheckpoint as AuditCheckpoint


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mediation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
