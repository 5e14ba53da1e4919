"""Typed results of the sweep actions (矛盾纠纷排查): one sweep as filed, and a list of
them. Imported by those actions only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mediation.api._result import _Result


@dataclass(frozen=True)
class Sweep(_Result):
    """A dispute sweep (矛盾纠纷排查) as filed: the organisation that held it (code and
    name), the day, who held it (login), the area, the disputes found and how many were
    opened as cases (with their case numbers when given), the note, when it was filed."""

    id: int
    organisation: str
    organisation_name: str
    held_on: date
    held_by: str
    area: str
    found: int
    opened: int
    cases: list[str] = field(default_factory=list)
    note: str = ""
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class SweepList(_Result):
    """The sweeps of a selection, latest first, with their totals (sweeps held, disputes
    found, opened as cases)."""

    sweeps: list[Sweep]
    held: int
    found: int
    opened: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sweeps": [s.as_dict() for s in self.sweeps],
            "held": self.held,
            "found": self.found,
            "opened": self.opened,
        }
