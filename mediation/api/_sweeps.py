"""Dispute sweeps (矛盾纠纷排查): filing one, listing them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from mediation.api._base import Session
from mediation.engine.permissions import Action

if TYPE_CHECKING:
    from mediation.api.sweep_results import Sweep, SweepList


class SweepsAPI(Session):
    def add_sweep(
        self,
        org: str,
        *,
        held_on: date,
        found: int,
        opened: int | None = None,
        cases: Sequence[str] = (),
        area: str = "",
        note: str = "",
    ) -> Sweep:
        """File a dispute sweep held by ``org`` on ``held_on`` (the acting user held it):
        a mediator or staff member of that organisation, or a supervisor. One transaction,
        recorded in the audit chain."""
        from mediation.api.sweep_results import Sweep
        from mediation.engine.sweeps import add_sweep

        with self._writing() as conn:
            user = self._authorize(Action.SWEEP_ADD, conn)
            return Sweep.of(
                add_sweep(
                    conn,
                    user=user,
                    actor=self.actor,
                    org=org,
                    held_on=held_on,
                    found=found,
                    opened=opened,
                    cases=list(cases),
                    area=area,
                    note=note,
                    now=self.clock.now(),
                )
            )

    def sweeps(
        self, *, org: str | None = None, start: date | None = None, end: date | None = None
    ) -> SweepList:
        """The sweeps held by ``org`` and the organisations below it (None: all) between
        ``start`` and ``end``, latest first, with their totals."""
        from mediation.api.sweep_results import Sweep, SweepList
        from mediation.engine.sweeps import list_sweeps

        with self.store.read() as conn:
            self._authorize(Action.SWEEP_LIST, conn)
            rows = [Sweep.of(r) for r in list_sweeps(conn, org=org, start=start, end=end)]
        return SweepList(
            rows,
            held=len(rows),
            found=sum(r.found for r in rows),
            opened=sum(r.opened for r in rows),
        )
