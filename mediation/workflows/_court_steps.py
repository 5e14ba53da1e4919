"""Steps the court-docked flows share (委派 and 委托 mediation, 特邀调解规定 2016), declared
once: choosing or designating the mediator before mediation (art. 12), telling the parties
their rights and duties (art. 14), and suspending on suspected collusion (art. 18).

The mediator is a named person: chosen by both parties from the court's roster, or
designated by the court or the organisation; a user given by login is recorded by their
registered name (effect ``designate_mediators``), and no system account can be named.
"""

from __future__ import annotations

from mediation.workflows._spec import State, Transition

RULES = "特邀调解规定"

#: The states the mediator's choice and the rights notice add before mediation.
STATES = (
    State("assigned", "已选定或指定调解员"),
    State("informed", "已告知权利义务"),
)
#: Where a suspected collusion leaves the case until the court has looked at it.
SUSPENDED = State("suspended", "涉嫌虚假调解，中止调解并报告法院")


def mediator_steps(source: tuple[str, ...]) -> tuple[Transition, ...]:
    """The parties choose from the roster, or the court or organisation designates (art.
    12); then the parties are told their rights and duties (art. 14)."""
    return (
        Transition(
            "choose_mediator",
            source,
            "assigned",
            "当事人在特邀调解名册中共同选定调解员",
            requires=("mediators", "consented_by"),
            guards=("mediators_are_people", "both_sides_consent"),
            effects=("designate_mediators",),
            legal_basis=f"{RULES} art. 12",
        ),
        Transition(
            "designate_mediator",
            source,
            "assigned",
            "法院或调解组织指定调解员",
            requires=("mediators", "designated_by"),
            guards=("mediators_are_people",),
            effects=("designate_mediators",),
            legal_basis=f"{RULES} art. 12",
        ),
        Transition(
            "inform",
            ("assigned",),
            "informed",
            "告知当事人权利义务",
            legal_basis=f"{RULES} art. 14",
        ),
    )


def suspension(source: tuple[str, ...]) -> tuple[Transition, Transition]:
    """Suspected collusion to the harm of others (虚假调解): the mediator suspends and
    reports to the court (art. 18); the court's review sends it back to mediation or the
    case back to the court (``return_to_court`` / ``back_to_trial`` from ``suspended``)."""
    return (
        Transition(
            "suspend",
            source,
            "suspended",
            "发现当事人可能恶意串通、虚假调解，中止调解并向法院报告",
            requires=("reason", "report_ref"),
            legal_basis=f"{RULES} art. 18",
        ),
        Transition(
            "resume",
            ("suspended",),
            "mediating",
            "法院审查后决定继续调解",
            requires=("reason",),
            legal_basis=f"{RULES} art. 18",
        ),
    )
