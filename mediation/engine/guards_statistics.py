"""Guards of what a case records for the statistics: a prevention (防止纠纷激化) and an
agreement's amount (涉及金额); see ``record_prevention`` in :mod:`mediation.workflows._common`.

Registered in the same tables as :mod:`mediation.engine.guards` (imported by
:mod:`mediation.engine.machine`, which loads the flows that name them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediation.engine.guards import _choice, guard

if TYPE_CHECKING:
    from mediation.engine.controller import Controller


@guard
def prevention_is_known(ctl: Controller) -> str | None:
    """What the case prevented is one of ``taxonomy.PREVENTIONS``, and ``people`` a count."""
    from mediation.domain.taxonomy import PREVENTIONS
    from mediation.workflows._common import people_value

    problem = _choice(ctl.payload.get("prevention"), PREVENTIONS, "prevention")
    if problem is None and people_value(ctl.payload.get("people")) is None:
        problem = f"people 为 {ctl.payload.get('people')!r}，应为涉及的人数（1 至 100000 的整数）"
    return problem


@guard
def amount_is_valid(ctl: Controller) -> str | None:
    """An agreement's optional ``amount`` (协议涉及金额) is a sum of money in yuan."""
    from mediation.workflows._common import amount_value

    amount = ctl.payload.get("amount")
    if amount in (None, "") or amount_value(amount) is not None:
        return None
    return f"amount 为 {amount!r}，应为协议涉及的金额（元，不为负，至多两位小数，如 12000.50）"
