"""Flows, one module each, declared as data (see :mod:`mediation.workflows._spec`).

Add a flow by writing a module that defines ``FLOW`` and listing it in ``FLOW_MODULES``;
the engine validates it when it is first loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from mediation.errors import NotFoundError
from mediation.i18n import _
from mediation.workflows._spec import (
    AGREEMENT_EFFECTIVE,
    DeadlineRule,
    DocumentSpec,
    Flow,
    HandOff,
    State,
    Transition,
)

__all__ = [
    "AGREEMENT_EFFECTIVE",
    "FLOW_MODULES",
    "DeadlineRule",
    "DocumentSpec",
    "Flow",
    "HandOff",
    "State",
    "Transition",
    "entries",
    "flow_names",
    "get_flow",
]

#: flow name → module defining ``FLOW``.
FLOW_MODULES: dict[str, str] = {
    "peoples": "mediation.workflows.peoples",
    "medical_committee": "mediation.workflows.medical_committee",
    "petition": "mediation.workflows.petition",
    "court_referred": "mediation.workflows.court_referred",
    "judicial_confirmation": "mediation.workflows.judicial_confirmation",
    "labour": "mediation.workflows.labour",
    "land_contract": "mediation.workflows.land_contract",
    "administrative": "mediation.workflows.administrative",
    "health_admin": "mediation.workflows.health_admin",
    "traffic_police": "mediation.workflows.traffic_police",
    "public_order": "mediation.workflows.public_order",
    "judicial": "mediation.workflows.judicial",
    "judicial_simple": "mediation.workflows.judicial_simple",
    "entrusted": "mediation.workflows.entrusted",
    "entrusted_simple": "mediation.workflows.entrusted_simple",
    "traffic": "mediation.workflows.traffic",
    "online": "mediation.workflows.online",
}


def flow_names() -> list[str]:
    return list(FLOW_MODULES)


def get_flow(name: str) -> Flow:
    """The declared flow ``name`` (not yet validated: see ``mediation.engine.machine``).

    :raises NotFoundError: for an unknown flow, listing the known ones.
    """
    module = FLOW_MODULES.get(name)
    if module is None:
        raise NotFoundError(
            _("没有流程 {flow}").format(flow=repr(name)),
            hint=_("已有的流程：{flows}（见 `mediation workflow list`）").format(
                flows="、".join(FLOW_MODULES)
            ),
        )
    flow = _WITH_COMMON.get(name)
    if flow is None:
        from mediation.workflows._common import with_common_actions

        flow = _WITH_COMMON[name] = with_common_actions(import_module(module).FLOW)
    return flow


#: Each flow as declared, with the actions every mediation case shares (_common).
_WITH_COMMON: dict[str, Flow] = {}


def entries(flow: Flow, others: Iterable[str] | None = None) -> dict[str, frozenset[str]]:
    """Entry trigger → the states a proceeding of ``flow`` may start in: ``open`` into its
    initial state, and the entry trigger of every hand-off into it, from ``flow`` itself or
    from the flows ``others`` (default: every declared flow)."""
    handoffs = [t.handoff for t in flow.transitions if t.handoff]
    for other in FLOW_MODULES if others is None else others:
        if other != flow.name and other in FLOW_MODULES:
            handoffs += [t.handoff for t in get_flow(other).transitions if t.handoff]
    found: dict[str, set[str]] = {"open": {flow.initial}}
    for handoff in handoffs:
        if handoff.flow == flow.name:
            found.setdefault(handoff.entry_trigger, set()).add(handoff.entry_state)
    return {trigger: frozenset(states) for trigger, states in found.items()}
